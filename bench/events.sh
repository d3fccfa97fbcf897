#!/usr/bin/env bash
# Pipeline-event ingest of `lookout serve`: sustained events per second through
# POST /api/v1/events in NDJSON batches, and single-event latency percentiles, with durability
# on (SQLite WAL, synchronous=FULL: every 200 answer is on disk), the data directory on disk
# (not tmpfs, where fsync costs nothing). wrk drives the daemon with bench/events.lua, which
# gives every event a unique id, so nothing is a duplicate. Afterwards the stored-event counter
# must equal the events sent, or the run fails.
# Appends a dated table to bench/RESULTS.md and prints it.
#
#   bench/events.sh [DURATION]      (default 10s per wrk run; `make bench-events` builds first)
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10s}"
lookout="${LOOKOUT_BINARY:-.build/release/lookout}"
for tool in wrk "$lookout"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "events.sh: missing $tool; run 'make bench-events' (it builds and bootstraps)" >&2
        exit 1
    fi
done

port=19190
data="$(mktemp -d -p "${BENCH_DATA_PARENT:-/var/tmp}" lookout-events-bench.XXXXXX)"
token="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf '%s\n' "$token" > "$data/token"
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$data"
}
trap cleanup EXIT

"$lookout" serve --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --log.level=warn \
    --data.dir="$data" --web.events-token-file="$data/token" --web.events-max-body-bytes=4194304 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break
    sleep 0.1
done

stored() {
    curl -sf "http://127.0.0.1:$port/metrics" | awk '/^lookout_events_received_total\{result="stored"\}/ { print $2 }'
}

# milliseconds from wrk's "1.23ms" / "456.00us" / "1.02s"
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else { printf "%s", v } }'
}

rows=()
# run NAME BATCH CONNECTIONS
run() {
    local name=$1 batch=$2 connections=$3 threads=$(( $3 < 2 ? 1 : 2 ))
    local before after output requests rate p50 p90 p99 refused events
    # The previous run's last requests may still be in the daemon when wrk stops: let it finish.
    sleep 2
    before=$(stored)
    output=$(BATCH=$batch TOKEN=$token wrk -t"$threads" -c"$connections" -d"$duration" --latency \
        -s bench/events.lua "http://127.0.0.1:$port/api/v1/events")
    after=$(stored)
    requests=$(awk '/requests in/ { print $1 }' <<<"$output")
    rate=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$output")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$output")")
    p90=$(to_ms "$(awk '$1 == "90%" { print $2 }' <<<"$output")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$output")")
    refused=$(awk '/^refused/ { print $2 }' <<<"$output")
    events=$(( ${after%.*} - ${before%.*} ))
    if [ "$refused" != 0 ] || [ "$events" -lt $(( requests * batch )) ]; then
        echo "events.sh: $name: $refused requests refused, $events events stored of $(( requests * batch )) answered" >&2
        echo "$output" >&2
        exit 1
    fi
    rows+=("| $name | $batch | $connections | $(awk -v r="$rate" -v b="$batch" 'BEGIN { printf "%.0f", r * b }') | $(printf '%.0f' "$rate") | $p50 | $p90 | $p99 |")
}

# A short unmeasured run first: the daemon's first requests open the store, start threads and
# warm SQLite's page cache.
BATCH=1 TOKEN=$token wrk -t1 -c1 -d2s -s bench/events.lua "http://127.0.0.1:$port/api/v1/events" >/dev/null

# Single events first, on a store that is not digesting a bulk load: their latency is what a
# pipeline reporting its steps sees. (wrk corrects for coordinated omission, so one stall of a
# second shows in its p99.)
run "single event" 1 1
run "single event" 1 8
run "NDJSON batches" 500 4
run "NDJSON batches" 100 4

version=$("$lookout" --version 2>/dev/null | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
filesystem=$(df -T "$data" | awk 'NR == 2 { print $2 }')
report=$(cat <<REPORT

## $(date -u +%F) events benchmark ($(nproc) cores, wrk $duration per run)

lookout $version ($commit); data directory on $filesystem, synchronous=FULL (every 200 answer committed to disk).
Every answered event was counted as stored (unique ids, no duplicates).

| load | events per request | connections | events/s | requests/s | p50 ms | p90 ms | p99 ms |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

Targets: ≥ 20,000 events/s in batches; single-event p99 under 5 ms.
REPORT
)
printf '%s\n' "$report" | tee -a bench/RESULTS.md
