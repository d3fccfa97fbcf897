#!/usr/bin/env bash
# Rule evaluation of `lookout serve`: how long one round takes (record the host's samples into
# the in-memory history, evaluate every rule group) and how much memory the history holds, on a
# busy host: 10,000 synthetic series (CPU, filesystems, network, disks, 100 microVMs, journal
# units, an application's requests and latency histogram), one hour of history at 15 s, the
# default rules plus 100 generated ones (rates, ratios, histogram quantiles, aggregations,
# *_over_time, predict_linear, vector matching, alerts with `for` and templated annotations).
# bench/RulesBenchmark (its own executable, not part of `lookout`) builds the history and times
# the rounds in-process, so the numbers are the evaluator's, not HTTP's. Targets: a round under 50 ms, the history under 64 MiB.
# Appends a dated table to bench/RESULTS.md and prints it.
#
#   bench/rules.sh [ROUNDS]      (default 40 timed rounds per case; `make bench-rules` builds first)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${1:-40}"
lookout="${LOOKOUT_BINARY:-.build/release/lookout}"
benchmark="${RULES_BENCHMARK_BINARY:-.build/release/RulesBenchmark}"
for binary in "$lookout" "$benchmark"; do
    if ! [ -x "$binary" ]; then
        echo "rules.sh: missing $binary; run 'make bench-rules' (it builds first)" >&2
        exit 1
    fi
done

version="$("$lookout" --version 2>/dev/null | head -1)"
revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
table="| case | series | rules | history MiB (counted) | RSS growth MiB | round median ms | round p90 ms | round max ms | evaluation median ms |
|---|---|---|---|---|---|---|---|---|"
run_case() {
    local name="$1" series="$2" extra="$3"
    local output
    output="$("$benchmark" --series "$series" --extra-rules "$extra" --rounds "$rounds")"
    echo "$output" >&2
    local counted rss rules round_median round_p90 round_max evaluation_median held
    held="$(sed -n 's/^history: \([0-9]*\) series.*/\1/p' <<<"$output")"
    counted="$(sed -n 's/^history memory: \([0-9.]*\) MiB counted.*/\1/p' <<<"$output")"
    rss="$(sed -n 's/.*, \([0-9.]*\) MiB resident growth.*/\1/p' <<<"$output")"
    rules="$(sed -n 's/^rules: \([0-9]*\) .*/\1/p' <<<"$output")"
    round_median="$(sed -n 's/^round .*median \([0-9.]*\) ms.*/\1/p' <<<"$output")"
    round_p90="$(sed -n 's/^round .*p90 \([0-9.]*\) ms.*/\1/p' <<<"$output")"
    round_max="$(sed -n 's/^round .*max \([0-9.]*\) ms.*/\1/p' <<<"$output")"
    evaluation_median="$(sed -n 's/^evaluation alone: median \([0-9.]*\) ms.*/\1/p' <<<"$output")"
    table+="
| $name | $held | $rules | $counted | $rss | $round_median | $round_p90 | $round_max | $evaluation_median |"
}

run_case "busy host: defaults + 100 generated" 10000 100
run_case "busy host: default rules only" 10000 0

report="## $(date -u +%Y-%m-%d) rules benchmark ($(nproc) cores, $rounds timed rounds per case)

$version ($revision); one hour of history at 15 s (241 rounds), rounds timed in-process.

$table

Targets: one round under 50 ms and the history under 64 MiB for the busy host with the default
rules plus 100 generated ones."
printf '%s\n' "$report"
printf '\n%s\n' "$report" >> bench/RESULTS.md
