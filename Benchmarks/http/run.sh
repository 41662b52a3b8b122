#!/usr/bin/env bash
# HTTP, memory and start-up figures for Latchkey, each against a baseline measured in the same run.
#
#   POST /api/v1/credentials/token and POST /api/v1/credentials/{id}/reveal (admin key, one audit write per call),
#       on SQLite and on PostgreSQL, each against GET /json of a bare Hummingbird application (BareServer)
#       measured in the same round                                        -> requests/s, p99, ratio (median, spread)
#   idle RSS right after /readyz first answers 200                          -> MB (bare server alongside)
#   start -> first /readyz 200 with an empty data directory                 -> ms (bare: start -> first /json 200)
#   and, first, the crypto suite (crypto/ratios.sh)                         -> ns per seal+open, ratio to raw AES-GCM
#
# Usage: Benchmarks/http/run.sh            (from anywhere; builds BareServer and LatchkeyBenchServer in release)
# Settings (environment): DURATION=15s WARMUP=3s THREADS=2 CONNECTIONS=32 ROUNDS=3 STARTS=5 SKIP_BUILD=1
#                         CRYPTO=0 skips the crypto suite (crypto/ratios.sh), whose ratios otherwise join the results.
#                         POSTGRES=0 skips the PostgreSQL cases; PG_URL=postgres://… uses that server (a schema of its
#                         own, dropped at the end) instead of a throw-away cluster started with scripts/pg-start.sh.
# Writes Benchmarks/results/latest.md (keeping the sections other scripts write). Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"

DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-3s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
STARTS="${STARTS:-5}"
CRYPTO="${CRYPTO:-1}"
POSTGRES="${POSTGRES:-1}"
PG_URL="${PG_URL:-}"
PG_DIR=""
PG_SCHEMA=""

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
    if [[ -n "$PG_SCHEMA" ]]; then psql "$PG_URL" -X -q -c "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 || true; fi
    if [[ -n "$PG_DIR" ]]; then "$REPO/scripts/pg-stop.sh" "$PG_DIR" >/dev/null 2>&1 || true; fi
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
    log "building BareServer, BareToken and LatchkeyBenchServer (release)"
    swift build -c release --product BareServer
    swift build -c release --product BareToken
    swift build -c release --product LatchkeyBenchServer
fi
BIN="$(swift build -c release --show-bin-path)"
[[ -x "$BIN/BareServer" && -x "$BIN/BareToken" && -x "$BIN/LatchkeyBenchServer" ]] || die "release binaries missing; run without SKIP_BUILD"

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
# Throughput and latency: every case against the bare route, measured in the same round.
# The seeded credential: integration "github", end user "benchmark-user" (LatchkeyBenchServer --seed).
INTEGRATION=github
EXTERNAL_USER=benchmark-user

if [[ "$POSTGRES" == 1 && -z "$PG_URL" ]]; then
    command -v psql >/dev/null || die "psql is needed for the PostgreSQL cases (POSTGRES=0 skips them)"
    # Its own directory straight under the temporary directory: the postgres user must be able to reach it.
    PG_DIR="$(mktemp -d -t latchkey-http-pg.XXXXXX)"
    PG_URL="$("$REPO/scripts/pg-start.sh" "$PG_DIR" | tail -1)" || { rm -rf "$PG_DIR"; PG_DIR=""; die "PostgreSQL did not start"; }
fi
STORES=(sqlite)
if [[ "$POSTGRES" == 1 ]]; then
    STORES+=(pg)
    PG_SCHEMA="bench_http_$$"
    separator='?'
    [[ "$PG_URL" == *\?* ]] && separator='&'
    PG_BENCH_URL="$PG_URL${separator}schema=$PG_SCHEMA"
fi

log "starting the servers for the load runs"
declare -A URL KEY CRED SPID
for store in "${STORES[@]}"; do
    mkdir -p "$SCRATCH/load-data-$store"
    if [[ "$store" == pg ]]; then
        start_server "latchkey-$store" env LATCHKEY_DATABASE_URL="$PG_BENCH_URL" \
            "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$SCRATCH/load-data-$store" --seed
    else
        start_server "latchkey-$store" "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$SCRATCH/load-data-$store" --seed
    fi
    SPID[$store]=$STARTED_PID
    URL[$store]="http://127.0.0.1:$STARTED_PORT"
    KEY[$store]="$(await_line "$STARTED_OUT" ADMIN_KEY "$STARTED_PID")" || die "no admin key from the seeded $store server"
    CRED[$store]="$(await_line "$STARTED_OUT" CREDENTIAL_ID "$STARTED_PID")" || die "no credential from the seeded $store server"
    await_ok "${URL[$store]}/readyz" "$STARTED_PID" || die "Latchkey ($store) /readyz never answered 200"
    # One request of each kind by hand first: a load run only counts if the request it repeats succeeds.
    status=$(curl -s -o "$SCRATCH/reveal-$store.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${KEY[$store]}" \
        "${URL[$store]}/api/v1/credentials/${CRED[$store]}/reveal")
    [[ "$status" == 200 ]] || die "reveal ($store) answered $status: $(cat "$SCRATCH/reveal-$store.json")"
    status=$(curl -s -o "$SCRATCH/token-$store.json" -w '%{http_code}' -X POST -H "Authorization: Bearer ${KEY[$store]}" \
        -H 'Content-Type: application/json' -d "{\"integration\":\"$INTEGRATION\",\"externalUserId\":\"$EXTERNAL_USER\"}" \
        "${URL[$store]}/api/v1/credentials/token")
    [[ "$status" == 200 ]] || die "token ($store) answered $status: $(cat "$SCRATCH/token-$store.json")"
done
REVEAL_BYTES=$(wc -c <"$SCRATCH/reveal-sqlite.json")
TOKEN_BYTES=$(wc -c <"$SCRATCH/token-sqlite.json")

start_server bare "$BIN/BareServer" 0
BARE_PID=$STARTED_PID
BARE_URL="http://127.0.0.1:$STARTED_PORT"
await_ok "$BARE_URL/json" "$BARE_PID" || die "BareServer /json never answered 200"
BARE_BYTES=$(curl -s "$BARE_URL/json" | wc -c)

# The token route's ceiling on the stack: the least an audited hand-out can do (BareToken).
mkdir -p "$SCRATCH/ceiling-data"
start_server ceiling "$BIN/BareToken" 0 "$SCRATCH/ceiling-data"
CEILING_PID=$STARTED_PID
CEILING_URL="http://127.0.0.1:$STARTED_PORT"
CEILING_KEY="$(await_line "$STARTED_OUT" KEY "$STARTED_PID")" || die "no key from BareToken"
status=$(curl -s -o "$SCRATCH/ceiling.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $CEILING_KEY" \
    -H 'Content-Type: application/json' -d "{\"integration\":\"$INTEGRATION\",\"externalUserId\":\"$EXTERNAL_USER\"}" "$CEILING_URL/token")
[[ "$status" == 200 ]] || die "BareToken answered $status: $(cat "$SCRATCH/ceiling.json")"

# run_case CASE DURATION: one wrk run; CASE is bare, or token-STORE / reveal-STORE.
run_case() {
    local name="$1" duration="$2" route store
    if [[ "$name" == bare ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "$BARE_URL/json"
        return
    fi
    if [[ "$name" == ceiling ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$HERE/bare-token.lua" "$CEILING_URL" -- "$CEILING_KEY"
        return
    fi
    route="${name%%-*}"
    store="${name#*-}"
    if [[ "$route" == healthz ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "${URL[$store]}/healthz"
    elif [[ "$route" == token ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$HERE/token.lua" "${URL[$store]}" -- \
            "${KEY[$store]}" "$INTEGRATION" "$EXTERNAL_USER"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$HERE/reveal.lua" "${URL[$store]}" -- "${KEY[$store]}" "${CRED[$store]}"
    fi
}

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

CASES=()
for store in "${STORES[@]}"; do CASES+=("token-$store" "reveal-$store"); done
# What bounds the token route: the least an audited hand-out can do on the stack, and Latchkey's middleware alone.
CASES+=(ceiling healthz-sqlite)

log "warm-up: $WARMUP each"
for name in "${CASES[@]}" bare; do run_case "$name" "$WARMUP" >/dev/null; done

for name in "${CASES[@]}" bare; do : >"$SCRATCH/$name-runs"; done
half=$((${#CASES[@]} / 2))
for ((round = 1; round <= ROUNDS; round++)); do
    # The bare route in the middle of the round, so that it is as close in time to each case as it can be.
    for name in "${CASES[@]:0:$half}" bare "${CASES[@]:$half}"; do
        log "round $round/$ROUNDS: $name, $DURATION, $THREADS threads, $CONNECTIONS connections"
        run_case "$name" "$DURATION" >"$SCRATCH/$name-$round.txt"
        parse_wrk "$SCRATCH/$name-$round.txt" | tee -a "$SCRATCH/$name-runs" >&2
    done
done
for name in "${CASES[@]}" bare; do
    awk '$3 > 0 { exit 1 }' "$SCRATCH/$name-runs" || die "some requests failed during the $name load runs; see the wrk reports above"
done

# Per case: median req/s and p99 over the rounds, and the ratio to the bare route of the same round (median, min–max).
declare -A RPS P99 RATIO SPREAD P99RATIO
for name in "${CASES[@]}" bare; do
    RPS[$name]=$(awk '{ print $1 }' "$SCRATCH/$name-runs" | median)
    P99[$name]=$(awk '{ print $2 }' "$SCRATCH/$name-runs" | median)
done
for name in "${CASES[@]}"; do
    paste -d' ' "$SCRATCH/$name-runs" "$SCRATCH/bare-runs" | awk '{ printf "%.4f\n", $1 / $4 }' >"$SCRATCH/$name-ratios"
    RATIO[$name]=$(median <"$SCRATCH/$name-ratios" | awk '{ printf "%.2f", $1 }')
    SPREAD[$name]=$(sort -g "$SCRATCH/$name-ratios" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f–%.2f", lo, hi }')
    P99RATIO[$name]=$(ratio "${P99[$name]}" "${P99[bare]}")
done
RSS_LOADED=$(rss_mb "${SPID[sqlite]}")
HWM_LOADED=$(hwm_mb "${SPID[sqlite]}")
for store in "${STORES[@]}"; do stop "${SPID[$store]}"; done
stop "$BARE_PID"
stop "$CEILING_PID"

RSS_RATIO=$(ratio "$RSS_LATCHKEY" "$RSS_BARE")
START_RATIO=$(ratio "$START_LATCHKEY" "$START_BARE")

# ---------------------------------------------------------------------------------------------------------------
# Report.
label() {
    case "$1" in
        token-sqlite) echo "\`POST /api/v1/credentials/token\`, SQLite" ;;
        reveal-sqlite) echo "\`POST /api/v1/credentials/{id}/reveal\`, SQLite" ;;
        token-pg) echo "\`POST /api/v1/credentials/token\`, PostgreSQL" ;;
        reveal-pg) echo "\`POST /api/v1/credentials/{id}/reveal\`, PostgreSQL" ;;
        ceiling) echo "ceiling: \`BareToken\` \`POST /token\` (key check, AES-GCM open, one group-committed SQLite row; no middleware)" ;;
        healthz-sqlite) echo "Latchkey \`GET /healthz\` (its middleware alone), SQLite" ;;
    esac
}
load_table() {
    echo "| Route | req/s | p99 ms | req/s ÷ bare, same round (median) | spread over $ROUNDS rounds | p99 ÷ bare p99 |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for name in "${CASES[@]}"; do
        echo "| $(label "$name") | ${RPS[$name]} | ${P99[$name]} | ${RATIO[$name]} | ${SPREAD[$name]} | ${P99RATIO[$name]} |"
    done
    echo "| bare Hummingbird \`GET /json\` (baseline) | ${RPS[bare]} | ${P99[bare]} | 1 | | 1 |"
}
table() {
    cat <<EOF
| Measure | Latchkey | Baseline | Latchkey ÷ baseline |
| --- | ---: | ---: | ---: |
| Idle RSS after first ready answer, MB | $RSS_LATCHKEY | $RSS_BARE | $RSS_RATIO |
| Start → first 200 (\`/readyz\` vs \`/json\`), ms | $START_LATCHKEY | $START_BARE | $START_RATIO |
EOF
}

echo
load_table
echo
table
echo
echo "token/bare throughput ratio, SQLite: ${RATIO[token-sqlite]} (${SPREAD[token-sqlite]})  (Latchkey RSS after the load runs: $RSS_LOADED MB, peak $HWM_LOADED MB)"

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
SWIFT="$({ swift --version 2>/dev/null || true; } | awk 'NR == 1')"
WRK="$({ wrk --version 2>&1 || true; } | awk 'NR == 1 { print $1, $2 }')"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
PG_VERSION=""
if [[ "$POSTGRES" == 1 ]]; then PG_VERSION="$(psql "$PG_URL" -X -At -c 'SHOW server_version' 2>/dev/null | awk '{ print $1 }')"; fi
if [[ -n "$PG_DIR" ]]; then
    PG_WHERE="a throw-away cluster on the same machine (\`scripts/pg-start.sh\`: fsync off, synchronous_commit off)"
else
    PG_WHERE="the server \`PG_URL\` names, in a schema of its own"
fi
mkdir -p "$(dirname "$RESULTS")"
# The sections other scripts write (Connect, Refresh, …) are kept as they were, with their own dates and machine
# facts; so is the Crypto section when this run skipped the crypto suite.
KEPT=""
if [[ -f "$RESULTS" ]]; then
    KEPT="$(awk -v crypto="$CRYPTO" '
        /^## / { keep = ($0 != "## HTTP, memory, start-up") && !(crypto == 1 && $0 ~ /^## Crypto/) }
        keep' "$RESULTS")"
fi
{
    echo "# Latest benchmark results"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` on $(nproc) cores ($CPU), $SWIFT, $WRK${PG_VERSION:+, PostgreSQL $PG_VERSION}."
    echo "Load average before the run: $LOAD_BEFORE; after: $LOAD_AFTER. Written by \`Benchmarks/http/run.sh\`; \`Benchmarks/README.md\` says what each figure means."
    if [[ "$CRYPTO" != 1 && "$KEPT" == *"## Crypto"* ]]; then
        echo "This run skipped the crypto suite (\`CRYPTO=0\`): the Crypto section is from an earlier run."
    fi
    echo
    echo "## HTTP, memory, start-up"
    echo
    echo "Load: \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up of each, $ROUNDS rounds; every round runs each route"
    echo "once and the bare route once, so each ratio is taken against the bare route of the same round (the median of those"
    echo "per-round ratios and their spread are shown; req/s and p99 are medians over the rounds). wrk runs on the same machine."
    echo "Token: \`POST /api/v1/credentials/token\` for an integration and end user with an admin key, $TOKEN_BYTES-byte response. Reveal:"
    echo "\`POST /api/v1/credentials/{id}/reveal\`, $REVEAL_BYTES-byte response (2 KiB secret). Each writes one audit event per call."
    if [[ "$POSTGRES" == 1 ]]; then echo "PostgreSQL: $PG_WHERE."; fi
    echo "Baseline: a bare Hummingbird \`GET /json\` route, $BARE_BYTES-byte response. Start and idle RSS: median of $STARTS starts, empty data directory each time."
    echo
    load_table
    echo
    table
    echo
    echo "Latchkey (SQLite) RSS after the load runs: $RSS_LOADED MB (peak $HWM_LOADED MB)."
    if [[ -n "$CRYPTO_TABLE" ]]; then
        echo
        echo "## Crypto (per seal+open pair, 2 KiB)"
        echo
        echo "\`swift package benchmark --target CryptoBenchmarks\`: wall-clock time per pair, median (p50) and best sample, each over"
        echo "1,000 pairs; the baseline is raw \`AES.GCM\` seal+open of the same 2 KiB with a random nonce."
        echo
        echo "$CRYPTO_TABLE"
    fi
    if [[ -n "$KEPT" ]]; then
        echo
        echo "$KEPT"
    fi
} >"$RESULTS"
log "wrote ${RESULTS#"$REPO/"}"
