#!/usr/bin/env bash
# The token route as an app uses it, at two sizes of vault, each against a bare Hummingbird route in the same round:
#
#   POST /api/v1/credentials/token with an app key (lk_app_…) for a random one of the app's end users (resolution:
#   app → Connection → end user → default credential; one audit event per call), with SIZES stored credentials
#   (default 1,000 and 1,000,000, written by the bulk seed), on SQLite and on PostgreSQL
#                                                     -> requests/s, p99, ratio to bare, p99 ÷ p99 at the smallest size
#
# Usage: Benchmarks/http/apps.sh     (builds BareServer and LatchkeyBenchServer in release unless SKIP_BUILD=1)
# Settings (environment): DURATION=15s WARMUP=5s THREADS=2 CONNECTIONS=32 ROUNDS=3 SIZES="1000 1000000" POSTGRES=1
#                         PG_URL=postgres://… uses that server instead of a throw-away cluster (scripts/pg-start.sh).
# Adds or replaces the "## Apps: token by app key" section of Benchmarks/results/latest.md, keeping the others.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"
SECTION_TITLE="## Apps: token by app key"

DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-5s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
SIZES="${SIZES:-1000 1000000}"
POSTGRES="${POSTGRES:-1}"
PG_URL="${PG_URL:-}"
PG_DIR=""
PG_SCHEMAS=()

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'apps.sh: %s\n' "$*" >&2; exit 1; }

PIDS=()
SCRATCH="$(mktemp -d -t latchkey-apps.XXXXXX)"
cleanup() {
    local pid schema
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    for schema in "${PG_SCHEMAS[@]}"; do psql "$PG_URL" -X -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; done
    if [[ -n "$PG_DIR" ]]; then "$REPO/scripts/pg-stop.sh" "$PG_DIR" >/dev/null 2>&1 || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Waits (up to $3 seconds) for "KEY=value" on a server's standard output and prints the value.
await_line() {
    local file="$1" key="$2" limit="$3" pid="$4" deadline line
    deadline=$((SECONDS + limit))
    while ((SECONDS < deadline)); do
        if line="$(grep -m1 "^$key=" "$file" 2>/dev/null)"; then
            printf '%s\n' "${line#*=}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

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

command -v curl >/dev/null || die "curl is needed"
command -v wrk >/dev/null || die "wrk is needed (Debian: apt-get install wrk)"
cd "$PACKAGE"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building BareServer and LatchkeyBenchServer (release)"
    swift build -c release --product BareServer
    swift build -c release --product LatchkeyBenchServer
fi
BIN="$(swift build -c release --show-bin-path)"
[[ -x "$BIN/BareServer" && -x "$BIN/LatchkeyBenchServer" ]] || die "release binaries missing; run without SKIP_BUILD"

STORES=(sqlite)
if [[ "$POSTGRES" == 1 ]]; then
    STORES+=(pg)
    if [[ -z "$PG_URL" ]]; then
        command -v psql >/dev/null || die "psql is needed for the PostgreSQL cases (POSTGRES=0 skips them)"
        PG_DIR="$(mktemp -d -t latchkey-apps-pg.XXXXXX)"
        PG_URL="$("$REPO/scripts/pg-start.sh" "$PG_DIR" | tail -1)" || { rm -rf "$PG_DIR"; PG_DIR=""; die "PostgreSQL did not start"; }
    fi
fi

"$BIN/BareServer" 0 >"$SCRATCH/bare.out" 2>&1 &
BARE_PID=$!
PIDS+=("$BARE_PID")
BARE_PORT="$(await_line "$SCRATCH/bare.out" LISTENING 60 "$BARE_PID")" || die "BareServer did not start"
BARE_URL="http://127.0.0.1:$BARE_PORT/json"

ROWS=()
declare -A FIRST_P99
for store in "${STORES[@]}"; do
    for size in $SIZES; do
        name="$store-$size"
        data="$SCRATCH/data-$name"
        mkdir -p "$data"
        log "$name: seeding $size credentials"
        seeded_at=$SECONDS
        if [[ "$store" == pg ]]; then
            schema="bench_apps_$$_$size"
            PG_SCHEMAS+=("$schema")
            separator='?'
            [[ "$PG_URL" == *\?* ]] && separator='&'
            env LATCHKEY_DATABASE_URL="$PG_URL${separator}schema=$schema" "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$data" --seed \
                --app-users "$size" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
        else
            "$BIN/LatchkeyBenchServer" --port 0 --data-dir "$data" --seed --app-users "$size" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
        fi
        pid=$!
        PIDS+=("$pid")
        key="$(await_line "$SCRATCH/$name.out" APP_KEY 3600 "$pid")" || { cat "$SCRATCH/$name.err" >&2; die "$name: no app key"; }
        port="$(await_line "$SCRATCH/$name.out" LISTENING 120 "$pid")" || die "$name: not listening"
        seed_seconds=$((SECONDS - seeded_at))
        url="http://127.0.0.1:$port"
        status=$(curl -s -o "$SCRATCH/$name.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
            -d '{"integration":"github","externalUserId":"user-'$((size - 1))'"}' "$url/api/v1/credentials/token")
        [[ "$status" == 200 ]] || die "$name: token answered $status: $(cat "$SCRATCH/$name.json")"
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$HERE/token-app.lua" "$url" -- "$key" github "$size" >/dev/null
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$BARE_URL" >/dev/null
        : >"$SCRATCH/$name-runs"
        : >"$SCRATCH/$name-bare"
        for ((round = 1; round <= ROUNDS; round++)); do
            log "$name: round $round/$ROUNDS"
            wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/token-app.lua" "$url" -- "$key" github "$size" >"$SCRATCH/$name-$round.txt"
            parse_wrk "$SCRATCH/$name-$round.txt" | tee -a "$SCRATCH/$name-runs" >&2
            wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$BARE_URL" >"$SCRATCH/$name-bare-$round.txt"
            parse_wrk "$SCRATCH/$name-bare-$round.txt" | tee -a "$SCRATCH/$name-bare" >&2
        done
        awk '$3 > 0 { exit 1 }' "$SCRATCH/$name-runs" || die "$name: some requests failed; see the wrk reports above"
        rps=$(awk '{ print $1 }' "$SCRATCH/$name-runs" | median)
        p99=$(awk '{ print $2 }' "$SCRATCH/$name-runs" | median)
        bare_rps=$(awk '{ print $1 }' "$SCRATCH/$name-bare" | median)
        ratio=$(paste -d' ' "$SCRATCH/$name-runs" "$SCRATCH/$name-bare" | awk '{ printf "%.4f\n", $1 / $4 }' | median | awk '{ printf "%.2f", $1 }')
        [[ -n "${FIRST_P99[$store]:-}" ]] || FIRST_P99[$store]=$p99
        p99_growth=$(awk -v a="$p99" -v b="${FIRST_P99[$store]}" 'BEGIN { printf "%.2f", a / b }')
        label="SQLite"
        [[ "$store" == pg ]] && label="PostgreSQL"
        ROWS+=("| $label | $(printf "%'d" "$size") | $rps | $p99 | $bare_rps | $ratio | $p99_growth | $seed_seconds |")
        stop "$pid"
    done
done
stop "$BARE_PID"

COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
SECTION="$SCRATCH/section.md"
{
    echo "$SECTION_TITLE"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` on $(nproc) cores by \`Benchmarks/http/apps.sh\`."
    echo "\`POST /api/v1/credentials/token\` with an app key for a random end user of the app each request (\`http/token-app.lua\`), one audit"
    echo "event per call; \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, $ROUNDS rounds, each followed by the bare Hummingbird \`GET /json\`"
    echo "route; medians over the rounds. Credentials written by the bulk seed (\`CredentialVault.seedEndUsers\`)."
    echo
    echo "| Store | credentials | req/s | p99 ms | bare req/s | token ÷ bare (same rounds) | p99 ÷ p99 at the smallest size | seed s |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
} >"$SECTION"

mkdir -p "$(dirname "$RESULTS")"
if [[ -f "$RESULTS" ]]; then
    awk -v title="$SECTION_TITLE" '/^## / { skip = ($0 == title) } !skip' "$RESULTS" >"$SCRATCH/rest.md"
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$SCRATCH/rest.md" >"$SCRATCH/kept.md"
    { cat "$SCRATCH/kept.md"; echo; cat "$SECTION"; } >"$RESULTS"
else
    { echo "# Latest benchmark results"; echo; cat "$SECTION"; } >"$RESULTS"
fi
cat "$SECTION"
log "wrote ${RESULTS#"$REPO/"} (section \"Apps: token by app key\")"
