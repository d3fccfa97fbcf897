#!/usr/bin/env bash
# Journal read speed and journal → OpenSearch shipping throughput of lookout, measured in one run
# against the peers that do the same job: `journalctl -o json` for reading (hyperfine, 3 runs,
# median), and a Python shipper (python-systemd's journal.Reader + opensearch-py's helpers.bulk,
# bench/journal_bulk.py) for shipping, each into its own fresh osmem-server, timed until
# `_count` reaches the number of entries. Peak RSS is VmHWM from /proc, read while each shipper
# runs. Appends a dated table to bench/RESULTS.md and prints it.
#
# The journals are written by bench/journal-gen.py through systemd-journal-remote and cached
# under bench/.cache/, keyed by entry count and the generator's hash, so later runs reuse them.
#
#   bench/journal.sh [ENTRIES [SHIP_ENTRIES]]      (defaults 1000000 and 100000; `make bench-journal`
#                                                   builds first; BULK_CHUNK_SIZE sets the Python
#                                                   peer's chunk size, default 2000)
#   bench/journal.sh --peers-only [ENTRIES [SHIP_ENTRIES]]
#                                  only the journalctl and Python halves; prints, appends nothing
#
# SHIP_ENTRIES is smaller than ENTRIES because osmem-server is an in-memory test server: even with
# nothing indexed it keeps ~12 KiB per document and spends ~230 µs of CPU on each (at 100 k
# documents), so a million would take ~12 GiB and minutes per side. Its CPU also bounds the
# shipping ratio: helpers.bulk waits for every response, so the Python side's time is its own
# CPU plus osmem's, and a shipper that pipelines can at best hide its own.
set -euo pipefail
cd "$(dirname "$0")/.."

peers_only=false
if [ "${1:-}" = "--peers-only" ]; then peers_only=true; shift; fi
entries="${1:-1000000}"
ship_entries="${2:-100000}"

lookout="${LOOKOUT_BINARY:-.build/release/lookout}"
# Lookout's journal interface (issue 3), in one place: adjust here if the flags change. The words
# DIR, URL, CURSOR and DATA stand for the journal directory, osmem's URL, a fresh cursor file and
# a scratch data directory.
# Every entry of DIR as JSON, one per line, on stdout:
lookout_read=("$lookout" journal --journal.directory DIR)
# Serve, shipping DIR from its head to URL:
# Lookout's own index template would map every journald.* field for osmem to index while the
# Python peer's documents get the bench mapping below; both get the bench mapping.
lookout_ship=("$lookout" serve --web.listen-address 127.0.0.1:0 --log.level=warn
    --journal.enabled --journal.directory DIR --journal.start head --journal.cursor-file CURSOR
    --data.dir DATA --no-elasticsearch.install-template --elasticsearch.url URL)
# Index pattern both shippers write to (daily indices named from the entries' own time).
index_pattern="lookout-logs-*"
# Mapping osmem-server applies to those indices, as a legacy template (so a composable template
# that lookout installs itself takes precedence): store and count, index nothing, which makes
# osmem's share of each run as small as it gets. '{}' gives osmem's dynamic mapping of every
# field: ~10x the CPU and ~5x the memory per document.
osmem_mapping='{"dynamic": false}'
bulk_chunk_size=${BULK_CHUNK_SIZE:-2000}
ship_timeout=1800   # seconds before a shipper that has not delivered everything counts as failed

venv_python=bench/.venv/bin/python
journal_remote=""
for candidate in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
    [ -x "$candidate" ] && { journal_remote=$candidate; break; }
done
osmem="${OSMEM_SERVER_BIN:-$("$venv_python" -c 'import osmem_server; print(osmem_server.resolve_binary())' 2>/dev/null || true)}"
tools=(hyperfine journalctl curl python3 "$venv_python" "$journal_remote" "$osmem")
$peers_only || tools+=("$lookout")
for tool in "${tools[@]}"; do
    if [ -z "$tool" ] || ! command -v "$tool" >/dev/null 2>&1; then
        echo "journal.sh: missing ${tool:-systemd-journal-remote or osmem-server}; run 'make bench-journal' (it builds and bootstraps)" >&2
        exit 1
    fi
done
if ! "$venv_python" -c 'import systemd.journal, opensearchpy' 2>/dev/null; then
    echo "journal.sh: $venv_python lacks python3-systemd or opensearch-py; run 'scripts/bootstrap --bench'" >&2
    exit 1
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# journal_directory N: prints the cached journal directory with N entries, generating it first
# if needed. Progress goes to stderr.
journal_directory() {
    local n=$1 key directory started
    key="$n-$(sha256sum bench/journal-gen.py | cut -c1-12)"
    directory="bench/.cache/journal-$key"
    if [ ! -d "$directory" ]; then
        echo "journal.sh: generating $n entries into $directory" >&2
        # Journals of this size from an older generator are stale; they take ~600 MiB a million.
        find bench/.cache -maxdepth 1 -name "journal-$n-*" -exec rm -rf {} + 2>/dev/null || true
        mkdir -p "$directory.partial"
        started=$(date +%s.%N)
        python3 bench/journal-gen.py "$n" \
            | "$journal_remote" --split-mode=none --output="$directory.partial/bench.journal" - \
                2>"$directory.partial/journal-remote.log"
        seconds "$started" > "$directory.partial/generation-seconds"
        local found
        found=$(journalctl --directory "$directory.partial" -o json --all | wc -l)
        if [ "$found" -ne "$n" ]; then
            echo "journal.sh: journalctl reads $found entries from $directory.partial, expected $n" >&2
            exit 1
        fi
        mv "$directory.partial" "$directory"
        echo "journal.sh: generated in $(cat "$directory/generation-seconds") s" >&2
    fi
    echo "$directory"
}
seconds() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
# described DIR: how big the cached journal in DIR is and how long it took to generate.
described() {
    printf '%s MiB, %s journal file(s), generated in %s s' "$(du -sm "$1" | cut -f1)" \
        "$(find "$1" -name '*.journal' | wc -l)" "$(cat "$1/generation-seconds")"
}

# start_osmem: a fresh, empty osmem-server; sets osmem_url and osmem_pid. It exits with this
# script (--parent-pid) even if the trap does not run.
start_osmem() {
    local out="$work/osmem-$RANDOM.out"
    "$osmem" --addr 127.0.0.1:0 --no-stdin-watch --no-ja --parent-pid $$ </dev/null >"$out" 2>"$out.err" &
    osmem_pid=$!
    pids+=("$osmem_pid")
    osmem_url=""
    for _ in $(seq 1 100); do
        osmem_url=$(sed -n '1s/.*"url":"\([^"]*\)".*/\1/p' "$out")
        [ -n "$osmem_url" ] && break
        sleep 0.1
    done
    [ -n "$osmem_url" ] || { echo "journal.sh: osmem-server did not start: $(cat "$out.err")" >&2; exit 1; }
    curl -sf -X PUT -H 'Content-Type: application/json' "$osmem_url/_template/bench-journal" \
        -d "{\"index_patterns\": [\"$index_pattern\"], \"order\": 0, \"mappings\": $osmem_mapping}" >/dev/null
}
stop_osmem() { kill "$osmem_pid"; wait "$osmem_pid" 2>/dev/null || true; }
# substitute DIR URL CURSOR WORD...: sets substituted to the words with DIR, URL and CURSOR replaced.
substitute() {
    local directory=$1 url=$2 cursor=$3 word
    shift 3
    substituted=()
    for word in "$@"; do
        case "$word" in DIR) word=$directory ;; URL) word=$url ;; CURSOR) word=$cursor ;; DATA) word=$work ;; esac
        substituted+=("$word")
    done
}
count() { curl -s "$1/$index_pattern/_count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'; }

# sample PID: prints "STATE CPU_SECONDS PEAK_RSS_MIB" from /proc ("gone - -" once reaped; a
# zombie has no memory left to report).
sample() {
    local stat utime stime state hwm
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "gone - -"; return; }
    stat=${stat##*) }   # the fields after "(comm) ", from field 3 (state) on
    read -r state _ _ _ _ _ _ _ _ _ _ utime stime _ <<<"$stat"
    hwm=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null)
    awk -v s="$state" -v t=$((utime + stime)) -v hz="$clock_ticks" -v m="${hwm:--}" \
        'BEGIN { printf "%s %.1f %s\n", s, t / hz, m }'
}
clock_ticks=$(getconf CLK_TCK)

# ship NAME N DIR COMMAND...: starts COMMAND (a shipper sending DIR to a fresh osmem-server, with
# DIR, URL and CURSOR in it replaced) and polls every 0.5 s until _count reaches N. Sets
# ship_seconds, ship_hwm, ship_cpu (the shipper's peak RSS and CPU seconds, as last sampled; for
# a shipper that exits by itself, the Python one, up to 0.5 s before its end) and osmem_cpu.
# A shipper that exits by itself must exit 0.
ship() {
    local name=$1 n=$2 directory=$3 started pid state cpu hwm delivered
    shift 3
    start_osmem
    substitute "$directory" "$osmem_url" "$work/cursor-$name" "$@"
    started=$(date +%s.%N)
    "${substituted[@]}" >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    ship_hwm=n/a ship_cpu=n/a
    local running=true deadline=$(( SECONDS + ship_timeout ))
    while :; do
        if $running; then
            read -r state cpu hwm < <(sample "$pid")
            if [ "$state" = gone ] || [ "$state" = Z ]; then
                running=false
                wait "$pid" || { echo "journal.sh: $name failed:" >&2; tail -5 "$work/$name.log" >&2; exit 1; }
            else
                ship_cpu=$cpu
                [ "$hwm" != - ] && ship_hwm=$hwm
            fi
        fi
        delivered=$(count "$osmem_url")
        [ "${delivered:-0}" -ge "$n" ] && break
        if [ $SECONDS -ge $deadline ]; then
            echo "journal.sh: $name delivered ${delivered:-0} of $n entries in ${ship_timeout}s" >&2
            exit 1
        fi
        sleep 0.5
    done
    ship_seconds=$(seconds "$started")
    if $running; then
        read -r state cpu hwm < <(sample "$pid")
        ship_cpu=$cpu ship_hwm=$hwm
        kill "$pid"; wait "$pid" 2>/dev/null || true
    fi
    read -r state osmem_cpu hwm < <(sample "$osmem_pid")
    stop_osmem
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
directory=$(journal_directory "$entries")
ship_directory=$(journal_directory "$ship_entries")

# Read speed: both read the same files from the page cache.
cat "$directory"/*.journal >/dev/null
read_commands=(-n journalctl "journalctl --directory $(printf '%q' "$directory") -o json --all")
if ! $peers_only; then
    substitute "$directory" "" "" "${lookout_read[@]}"
    read_commands+=(-n lookout "$(printf '%q ' "${substituted[@]}")")
fi
hyperfine --style basic --runs 3 --export-json "$work/read.json" "${read_commands[@]}" >&2
read -r journalctl_median lookout_median < <(python3 -c '
import json, sys
medians = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
print(medians["journalctl"], medians.get("lookout", 0))' "$work/read.json")

# End to end: each shipper into its own fresh osmem-server.
cat "$ship_directory"/*.journal >/dev/null
ship python "$ship_entries" "$ship_directory" \
    "$venv_python" bench/journal_bulk.py --url URL --chunk-size "$bulk_chunk_size" DIR
python_seconds=$ship_seconds python_hwm=$ship_hwm python_cpu=$ship_cpu python_osmem_cpu=$osmem_cpu
lookout_seconds=0 lookout_hwm=n/a lookout_cpu=n/a lookout_osmem_cpu=n/a
if ! $peers_only; then
    ship lookout "$ship_entries" "$ship_directory" "${lookout_ship[@]}"
    lookout_seconds=$ship_seconds lookout_hwm=$ship_hwm lookout_cpu=$ship_cpu lookout_osmem_cpu=$osmem_cpu
fi

journalctl_rate=$(per_second "$entries" "$journalctl_median")
lookout_read_rate=$(per_second "$entries" "$lookout_median")
python_rate=$(per_second "$ship_entries" "$python_seconds")
lookout_ship_rate=$(per_second "$ship_entries" "$lookout_seconds")
fmt() { awk -v s="$1" 'BEGIN { if (s > 0) printf "%.2f", s; else print "n/a" }'; }
lookout_version=$($peers_only && echo "(not run)" || "$lookout" --version)
report=$(cat <<TABLE

## $(date -u +%Y-%m-%d) journal benchmark ($(nproc) cores, ${entries} entries read, ${ship_entries} shipped)

lookout ${lookout_version} ($(git rev-parse --short HEAD 2>/dev/null || echo "no git")) vs $(journalctl --version | head -1) and $("$venv_python" -c 'import sys, opensearchpy; print("Python %d.%d.%d" % sys.version_info[:3], "opensearch-py " + opensearchpy.__versionstr__)') helpers.bulk (chunk ${bulk_chunk_size}) with python-systemd's journal.Reader; each shipper into a fresh $("$osmem" -version), mapping ${osmem_mapping}.
Journals from bench/journal-gen.py via systemd-journal-remote: ${entries} entries, $(described "$directory"); ${ship_entries} entries, $(described "$ship_directory").
Load average at the start: ${load_at_start}.

| reader | median s (3 runs) | entries/s |
|---|---|---|
| journalctl -o json --all | $(fmt "$journalctl_median") | $journalctl_rate |
| lookout journal | $(fmt "$lookout_median") | $lookout_read_rate |

| shipper → osmem-server | s until _count = ${ship_entries} | entries/s | peak RSS MiB | shipper CPU s | osmem CPU s |
|---|---|---|---|---|---|
| Python helpers.bulk | $(fmt "$python_seconds") | $python_rate | $python_hwm | $python_cpu | $python_osmem_cpu |
| lookout serve | $(fmt "$lookout_seconds") | $lookout_ship_rate | $lookout_hwm | $lookout_cpu | $lookout_osmem_cpu |

Read ratio lookout / journalctl: $(ratio "$lookout_read_rate" "$journalctl_rate")× (target ≥ 5×).
Shipping ratio lookout / Python: $(ratio "$lookout_ship_rate" "$python_rate")× (target ≥ 3×).
TABLE
)
echo "$report"
if $peers_only; then
    echo "journal.sh: --peers-only, nothing appended to bench/RESULTS.md" >&2
    exit 0
fi
[ -f bench/RESULTS.md ] || printf '# Benchmark results\n\nAppended by the scripts in bench/; each section is one run on one machine.\n' > bench/RESULTS.md
echo "$report" >> bench/RESULTS.md
