#!/usr/bin/env bash
# HTTP, memory and start-up figures for Latchkey, each against a baseline measured in the same run.
#
#   POST /api/v1/credentials/{id}/reveal (admin key, SQLite, one audit write per call)
#       against GET /json of a bare Hummingbird application (BareServer)   -> requests/s, p99, ratio
#   idle RSS right after /readyz first answers 200                          -> MB (bare server alongside)
#   start -> first /readyz 200 with an empty data directory                 -> ms (bare: start -> first /json 200)
#   and, first, the crypto suite (crypto/ratios.sh)                         -> ns per seal+open, ratio to raw AES-GCM
#
# Usage: Benchmarks/http/run.sh            (from anywhere; builds BareServer and LatchkeyBenchServer in release)
# Settings (environment): DURATION=15s WARMUP=3s THREADS=2 CONNECTIONS=32 ROUNDS=2 STARTS=5 SKIP_BUILD=1
#                         CRYPTO=0 skips the crypto suite (crypto/ratios.sh), whose ratios otherwise join the results.
# Writes Benchmarks/results/latest.md (keeping its Connect section, which connect/run.sh writes). Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"

DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-3s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-2}"
STARTS="${STARTS:-5}"
CRYPTO="${CRYPTO:-1}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Processes and scratch directories, cleaned up whatever happens.
PIDS=()
SCRATCH="$(mktemp -d -t latchkey-bench.XXXXXX)"
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
    local pid="$1"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

now_ns() { date +%s%N; }

# Waits for "KEY=value" on a server's standard output and prints the value.
await_line() {
    local file="$1" key="$2" pid="$3" deadline=$((SECONDS + 60)) line
    while ((SECONDS < deadline)); do
        if line="$(grep -m1 "^$key=" "$file" 2>/dev/null)"; then
            printf '%s\n' "${line#*=}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.002
    done
    return 1
}

# Polls a URL until it answers 200.
await_ok() {
    local url="$1" pid="$2" deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
    done
    return 1
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (a / b < 0.1 ? "%.3f" : "%.2f"), a / b }'; }

# ---------------------------------------------------------------------------------------------------------------
# Tools and binaries.
command -v curl >/dev/null || die "curl is needed"
if ! command -v wrk >/dev/null; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing wrk"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
    command -v wrk >/dev/null || die "wrk is needed (Debian: apt-get install wrk)"
fi

cd "$PACKAGE"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building BareServer and LatchkeyBenchServer (release)"
    swift build -c release --product BareServer
    swift build -c release --product LatchkeyBenchServer
fi
BIN="$(swift build -c release --show-bin-path)"
[[ -x "$BIN/BareServer" && -x "$BIN/LatchkeyBenchServer" ]] || die "release binaries missing; run without SKIP_BUILD"

# Starts a server on a free port: sets STARTED_PID, STARTED_PORT, STARTED_OUT.
start_server() {
    local name="$1"
    shift
    STARTED_OUT="$SCRATCH/$name.out"
    "$@" >"$STARTED_OUT" 2>"$SCRATCH/$name.err" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    if ! STARTED_PORT="$(await_line "$STARTED_OUT" LISTENING "$STARTED_PID")"; then
        cat "$SCRATCH/$name.err" >&2
        die "$name did not start"
    fi
}

# ---------------------------------------------------------------------------------------------------------------
# The crypto suite first, while no server runs: reduced to ratios against raw AES-GCM (CRYPTO=0 skips it).
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
CRYPTO_TABLE=""
if [[ "$CRYPTO" == 1 ]]; then
    log "crypto suite (swift package benchmark --target CryptoBenchmarks)"
    CRYPTO_TABLE="$("$PACKAGE/crypto/ratios.sh")"
fi

# ---------------------------------------------------------------------------------------------------------------
# Start-up time and idle RSS: fresh process, empty data directory, every time.
log "start-up and idle RSS, $STARTS starts each"
for file in start-latchkey rss-latchkey start-bare rss-bare; do : >"$SCRATCH/$file"; done
for ((i = 1; i <= STARTS; i++)); do
    data="$SCRATCH/start-data-$i"
    mkdir -p "$data"
    t0=$(now_ns)
    start_server "latchkey-start-$i" "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$data"
    await_ok "http://127.0.0.1:$STARTED_PORT/readyz" "$STARTED_PID" || die "Latchkey /readyz never answered 200"
    t1=$(now_ns)
    echo $(((t1 - t0) / 1000000)) >>"$SCRATCH/start-latchkey"
    rss_mb "$STARTED_PID" >>"$SCRATCH/rss-latchkey"
    stop "$STARTED_PID"

    t0=$(now_ns)
    start_server "bare-start-$i" "$BIN/BareServer" 0
    await_ok "http://127.0.0.1:$STARTED_PORT/json" "$STARTED_PID" || die "BareServer /json never answered 200"
    t1=$(now_ns)
    echo $(((t1 - t0) / 1000000)) >>"$SCRATCH/start-bare"
    rss_mb "$STARTED_PID" >>"$SCRATCH/rss-bare"
    stop "$STARTED_PID"
done
START_LATCHKEY=$(median <"$SCRATCH/start-latchkey")
START_BARE=$(median <"$SCRATCH/start-bare")
RSS_LATCHKEY=$(median <"$SCRATCH/rss-latchkey")
RSS_BARE=$(median <"$SCRATCH/rss-bare")

# ---------------------------------------------------------------------------------------------------------------
# Throughput and latency.
log "starting the servers for the load runs"
mkdir -p "$SCRATCH/load-data"
start_server latchkey "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$SCRATCH/load-data" --seed
LATCHKEY_PID=$STARTED_PID
LATCHKEY_URL="http://127.0.0.1:$STARTED_PORT"
ADMIN_KEY="$(await_line "$STARTED_OUT" ADMIN_KEY "$LATCHKEY_PID")" || die "no admin key from the seeded server"
CREDENTIAL_ID="$(await_line "$STARTED_OUT" CREDENTIAL_ID "$LATCHKEY_PID")" || die "no credential from the seeded server"
await_ok "$LATCHKEY_URL/readyz" "$LATCHKEY_PID" || die "Latchkey /readyz never answered 200"

start_server bare "$BIN/BareServer" 0
BARE_PID=$STARTED_PID
BARE_URL="http://127.0.0.1:$STARTED_PORT"
await_ok "$BARE_URL/json" "$BARE_PID" || die "BareServer /json never answered 200"

# One request by hand first: the load run only counts if the request it repeats succeeds.
status=$(curl -s -o "$SCRATCH/reveal.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_KEY" \
    "$LATCHKEY_URL/api/v1/credentials/$CREDENTIAL_ID/reveal")
[[ "$status" == 200 ]] || die "reveal answered $status: $(cat "$SCRATCH/reveal.json")"
REVEAL_BYTES=$(wc -c <"$SCRATCH/reveal.json")
BARE_BYTES=$(curl -s "$BARE_URL/json" | wc -c)

reveal_wrk() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency -s "$HERE/reveal.lua" "$LATCHKEY_URL" -- "$ADMIN_KEY" "$CREDENTIAL_ID"; }
bare_wrk() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --latency "$BARE_URL/json"; }

# Reads wrk's report: "REQS P99_MS BAD" (BAD = non-2xx responses plus socket errors).
parse_wrk() {
    awk '
        /^Requests\/sec:/ { reqs = $2 }
        $1 == "99%" {
            v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
            p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
        }
        /Non-2xx or 3xx responses:/ { bad += $NF }
        /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { n = $i; sub(/,/, "", n); bad += n } }
        END { printf "%s %.2f %d\n", reqs, p99, bad }
    ' "$1"
}

log "warm-up: $WARMUP each"
reveal_wrk "$WARMUP" >/dev/null
bare_wrk "$WARMUP" >/dev/null

: >"$SCRATCH/reveal-runs"
: >"$SCRATCH/bare-runs"
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round/$ROUNDS: reveal, $DURATION, $THREADS threads, $CONNECTIONS connections"
    reveal_wrk "$DURATION" >"$SCRATCH/reveal-$round.txt"
    parse_wrk "$SCRATCH/reveal-$round.txt" | tee -a "$SCRATCH/reveal-runs" >&2
    log "round $round/$ROUNDS: bare /json"
    bare_wrk "$DURATION" >"$SCRATCH/bare-$round.txt"
    parse_wrk "$SCRATCH/bare-$round.txt" | tee -a "$SCRATCH/bare-runs" >&2
done
awk '$3 > 0 { exit 1 }' "$SCRATCH/reveal-runs" "$SCRATCH/bare-runs" ||
    die "some requests failed during the load runs; see the wrk reports above"

REVEAL_RPS=$(awk '{ print $1 }' "$SCRATCH/reveal-runs" | median)
REVEAL_P99=$(awk '{ print $2 }' "$SCRATCH/reveal-runs" | median)
BARE_RPS=$(awk '{ print $1 }' "$SCRATCH/bare-runs" | median)
BARE_P99=$(awk '{ print $2 }' "$SCRATCH/bare-runs" | median)
RSS_LOADED=$(rss_mb "$LATCHKEY_PID")
HWM_LOADED=$(hwm_mb "$LATCHKEY_PID")
stop "$LATCHKEY_PID"
stop "$BARE_PID"

RPS_RATIO=$(ratio "$REVEAL_RPS" "$BARE_RPS")
P99_RATIO=$(ratio "$REVEAL_P99" "$BARE_P99")
RSS_RATIO=$(ratio "$RSS_LATCHKEY" "$RSS_BARE")
START_RATIO=$(ratio "$START_LATCHKEY" "$START_BARE")

# ---------------------------------------------------------------------------------------------------------------
# Report.
table() {
    cat <<EOF
| Measure | Latchkey | Baseline | Latchkey ÷ baseline |
| --- | ---: | ---: | ---: |
| Throughput, req/s (reveal vs bare \`GET /json\`) | $REVEAL_RPS | $BARE_RPS | $RPS_RATIO |
| Latency p99, ms | $REVEAL_P99 | $BARE_P99 | $P99_RATIO |
| Idle RSS after first ready answer, MB | $RSS_LATCHKEY | $RSS_BARE | $RSS_RATIO |
| Start → first 200 (\`/readyz\` vs \`/json\`), ms | $START_LATCHKEY | $START_BARE | $START_RATIO |
EOF
}

echo
table
echo
echo "reveal/bare throughput ratio: $RPS_RATIO  (Latchkey RSS after the load runs: $RSS_LOADED MB, peak $HWM_LOADED MB)"

CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
SWIFT="$({ swift --version 2>/dev/null || true; } | awk 'NR == 1')"
WRK="$({ wrk --version 2>&1 || true; } | awk 'NR == 1 { print $1, $2 }')"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
mkdir -p "$(dirname "$RESULTS")"
# The Connect section belongs to connect/run.sh, with its own date and machine facts: kept as it was.
KEPT_CONNECT=""
[[ -f "$RESULTS" ]] && KEPT_CONNECT="$(awk '/^## / { keep = ($0 == "## Connect") } keep' "$RESULTS")"
{
    echo "# Latest benchmark results"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` on $(nproc) cores ($CPU), $SWIFT, $WRK."
    echo "Load average before the run: $LOAD_BEFORE. Written by \`Benchmarks/http/run.sh\`; \`Benchmarks/README.md\` says what each figure means."
    echo
    echo "## HTTP, memory, start-up"
    echo
    echo "Load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up, $ROUNDS round(s) per server, median shown;"
    echo "wrk runs on the same machine as the server. Reveal: \`POST /api/v1/credentials/{id}/reveal\` with an admin key,"
    echo "SQLite, one audit event written per call, $REVEAL_BYTES-byte response (2 KiB secret). Baseline: a bare Hummingbird"
    echo "\`GET /json\` route, $BARE_BYTES-byte response. Start and idle RSS: median of $STARTS starts, empty data directory each time."
    echo
    table
    echo
    echo "Latchkey RSS after the load runs: $RSS_LOADED MB (peak $HWM_LOADED MB)."
    if [[ -n "$CRYPTO_TABLE" ]]; then
        echo
        echo "## Crypto (per seal+open pair, 2 KiB)"
        echo
        echo "\`swift package benchmark --target CryptoBenchmarks\`: wall-clock time per pair, median (p50) and best sample, each over"
        echo "1,000 pairs; the baseline is raw \`AES.GCM\` seal+open of the same 2 KiB with a random nonce."
        echo
        echo "$CRYPTO_TABLE"
    fi
    if [[ -n "$KEPT_CONNECT" ]]; then
        echo
        echo "$KEPT_CONNECT"
    fi
} >"$RESULTS"
log "wrote ${RESULTS#"$REPO/"}"
