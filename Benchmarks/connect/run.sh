#!/usr/bin/env bash
# The Connect flow under load, against a local fake OAuth provider measured in the same run.
#
#   (a) connect start     POST /connections/{integration}/connect   authorization URL built, state stored
#   (b) callback          GET /connect/callback?code=…&state=…       state claimed, code exchanged at the fake's /token,
#                                                                     /userinfo read, credential stored encrypted, audited
#   (c) fake /token       the same token request, sent straight to the fake provider by the same client
#   (d) fake /userinfo    the same user-info request, sent straight to the fake provider
#   -> ops/s and p50/p99 for each at each concurrency, and the ratio (b) ÷ (c) on the median latency
#
# Usage: Benchmarks/connect/run.sh   (from anywhere; builds latchkey, FakeTokenServer and ConnectBench in release)
# Settings (environment): DURATION=10 WARMUP=3 (seconds) CONCURRENCY=1,8 ROUNDS=2 SKIP_BUILD=1
# Adds or replaces the "## Connect" section of Benchmarks/results/latest.md, keeping the other sections.
# Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
CONCURRENCY="${CONCURRENCY:-1,8}"
ROUNDS="${ROUNDS:-2}"
INTEGRATION=bench

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'connect/run.sh: %s\n' "$*" >&2; exit 1; }

[[ "$DURATION" =~ ^[0-9]+([.][0-9]+)?$ && "$WARMUP" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "DURATION and WARMUP are seconds, e.g. 10"
[[ "$CONCURRENCY" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "CONCURRENCY is a list of worker counts, e.g. 1,8"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS is a positive number"
WORKERS_MAX="$(tr ',' '\n' <<<"$CONCURRENCY" | sort -n | tail -1)"

# ---------------------------------------------------------------------------------------------------------------
# Processes and scratch directories, cleaned up whatever happens.
PIDS=()
SCRATCH="$(mktemp -d -t latchkey-connect-bench.XXXXXX)"
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

# Waits for "KEY=value" on a server's standard output and prints the value.
await_line() {
    local file="$1" key="$2" pid="$3" deadline=$((SECONDS + 60)) line
    while ((SECONDS < deadline)); do
        if line="$(grep -m1 "^$key=" "$file" 2>/dev/null)"; then
            printf '%s\n' "${line#*=}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# Polls a URL until it answers 200.
await_ok() {
    local url="$1" pid="$2" deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# A port on 127.0.0.1 that nothing listens on: Latchkey needs its port before it starts, for its public URL.
free_port() {
    local port tries
    for ((tries = 0; tries < 100; tries++)); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------------------------------
# Binaries: the real `latchkey` executable (the main package's, built here in release), the fake provider, the driver.
command -v curl >/dev/null || die "curl is needed"
cd "$PACKAGE"
# What is measured: the commit, and whether the main package's working tree differed from it when it was built.
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY=""
if [[ -n "$(git -C "$REPO" status --porcelain -- . ':(exclude)Benchmarks' 2>/dev/null)" ]]; then
    DIRTY=" plus uncommitted changes to the main package"
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building latchkey, FakeTokenServer and ConnectBench (release)"
    swift build -c release --product latchkey
    swift build -c release --product FakeTokenServer
    swift build -c release --product ConnectBench
fi
BIN="$(swift build -c release --show-bin-path)"
for binary in latchkey FakeTokenServer ConnectBench; do
    [[ -x "$BIN/$binary" ]] || die "release binary $binary missing; run without SKIP_BUILD"
done

# ---------------------------------------------------------------------------------------------------------------
# A fresh data directory; the server creates the vault in it (the CLI refuses to make an empty one), then one console
# user per worker and an admin key are added with the CLI.
DATA="$SCRATCH/data"
mkdir -p "$DATA"

# ---------------------------------------------------------------------------------------------------------------
# The fake provider, then Latchkey as `latchkey serve` runs (warning-level logs, as in the HTTP benchmark).
"$BIN/FakeTokenServer" 0 >"$SCRATCH/fake.out" 2>"$SCRATCH/fake.err" &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
FAKE_PORT="$(await_line "$SCRATCH/fake.out" LISTENING "$FAKE_PID")" || { cat "$SCRATCH/fake.err" >&2; die "FakeTokenServer did not start"; }
FAKE_URL="http://127.0.0.1:$FAKE_PORT"

PORT="$(free_port)" || die "no free port"
LATCHKEY_URL="http://127.0.0.1:$PORT"
LATCHKEY_LOG_LEVEL=warning "$BIN/latchkey" serve --host 127.0.0.1 --port "$PORT" --public-url "$LATCHKEY_URL" \
    --allow-private-network --data-dir "$DATA" >"$SCRATCH/latchkey.out" 2>"$SCRATCH/latchkey.err" &
LATCHKEY_PID=$!
PIDS+=("$LATCHKEY_PID")
await_ok "$LATCHKEY_URL/readyz" "$LATCHKEY_PID" || { cat "$SCRATCH/latchkey.err" >&2; die "Latchkey /readyz never answered 200"; }

PASSWORD="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
EMAILS=""
log "creating $WORKERS_MAX console users and an admin key"
for ((i = 1; i <= WORKERS_MAX; i++)); do
    email="bench-user-$i@example.com"
    printf '%s\n' "$PASSWORD" | "$BIN/latchkey" users create --email "$email" --password-stdin --data-dir "$DATA" >/dev/null 2>"$SCRATCH/users.err" ||
        { cat "$SCRATCH/users.err" >&2; die "latchkey users create failed"; }
    EMAILS="${EMAILS:+$EMAILS,}$email"
done
ADMIN_KEY="$("$BIN/latchkey" keys create-admin --name benchmark --data-dir "$DATA" 2>/dev/null | grep -m1 '^lk_')" || die "no admin key"

# The fake provider as a generic OAuth 2.0 integration (PKCE S256, client_secret_basic), through the admin API.
log "registering the fake provider as integration '$INTEGRATION'"
status=$(curl -s -o "$SCRATCH/integration.json" -w '%{http_code}' -X POST "$LATCHKEY_URL/api/v1/integrations" \
    -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
    -d "{\"provider\":\"oauth2\",\"key\":\"$INTEGRATION\",\"displayName\":\"Benchmark provider\",\"clientId\":\"c\",\"clientSecret\":\"s\",
         \"settings\":{\"authorizationURL\":\"$FAKE_URL/authorize\",\"tokenURL\":\"$FAKE_URL/token\",\"userInfoURL\":\"$FAKE_URL/userinfo\"}}")
[[ "$status" == 201 ]] || die "POST /api/v1/integrations answered $status: $(cat "$SCRATCH/integration.json")"

# ---------------------------------------------------------------------------------------------------------------
# The load: the driver signs each user in once, then measures.
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "measuring: concurrency $CONCURRENCY, ${WARMUP}s warm-up and ${DURATION}s per phase, $ROUNDS round(s)"
BENCH_PASSWORD="$PASSWORD" "$BIN/ConnectBench" --latchkey "$LATCHKEY_URL" --fake "$FAKE_URL" --integration "$INTEGRATION" \
    --emails "$EMAILS" --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
    --client-id c --client-secret s >"$SCRATCH/connect.md" || die "the driver failed (Latchkey's errors: $(tail -c 2000 "$SCRATCH/latchkey.err"))"
RSS_AFTER="$(rss_mb "$LATCHKEY_PID")"
stop "$LATCHKEY_PID"
stop "$FAKE_PID"

COUNTS="$(grep '^CALLBACKS_CREATED=' "$SCRATCH/connect.md")"
TABLES="$(grep -v '^CALLBACKS_CREATED=' "$SCRATCH/connect.md" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')"
UPDATED="$(sed -n 's/.*CALLBACKS_UPDATED=\([0-9]*\).*/\1/p' <<<"$COUNTS")"
CREATED="$(sed -n 's/.*CALLBACKS_CREATED=\([0-9]*\).*/\1/p' <<<"$COUNTS")"
RAN_DRY="$(sed -n 's/.*RAN_DRY=\([0-9]*\).*/\1/p' <<<"$COUNTS")"

echo
echo "$TABLES"
echo

# ---------------------------------------------------------------------------------------------------------------
# Report: the "## Connect" section of results/latest.md, replaced in place or added at the end.
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
SWIFT="$({ swift --version 2>/dev/null || true; } | awk 'NR == 1')"
SECTION="$SCRATCH/section.md"
{
    echo "## Connect"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\`$DIRTY on $(nproc) cores ($CPU), $SWIFT."
    echo "Load average before the run: $LOAD_BEFORE. Written by \`Benchmarks/connect/run.sh\`; \`Benchmarks/README.md\` says what each figure means."
    echo
    echo "\`latchkey serve --allow-private-network\` (release, SQLite, warning-level logs) with the fake provider \`FakeTokenServer\`"
    echo "registered as a generic OAuth 2.0 integration (PKCE S256, client_secret_basic). The driver \`ConnectBench\` (AsyncHTTPClient,"
    echo "keep-alive) runs one worker per signed-in console user, each with its own session, for ${DURATION}s per phase after a"
    echo "${WARMUP}s warm-up, $ROUNDS round(s), median shown; Latchkey, the fake provider and the driver share the machine's cores."
    echo "Callback states are made by connect starts before the callback phase's clock starts. Of the timed callbacks, $UPDATED updated"
    echo "the user's credential in place (the same provider account again) and $CREATED created one; each user's first callback,"
    echo "which creates it, comes in the warm-up."
    if [[ "$RAN_DRY" != 0 ]]; then
        echo "**$RAN_DRY callback phase worker(s) used up their prepared states before the deadline; those phases ran shorter.**"
    fi
    echo
    echo "$TABLES"
    echo
    echo "(b) ÷ (c) is our callback handling time over the fake provider's own token response time, on the median latency at the"
    echo "same concurrency. A callback makes two calls to the provider (token, then user-info); (b) ÷ ((c) + (d)) is the whole"
    echo "callback over the provider's own work for it. Latchkey RSS after the run: $RSS_AFTER MB."
} >"$SECTION"

mkdir -p "$(dirname "$RESULTS")"
if [[ -f "$RESULTS" ]]; then
    # Everything but an earlier Connect section (from its heading to the next "## " heading).
    awk '/^## / { skip = ($0 == "## Connect") } !skip' "$RESULTS" >"$SCRATCH/rest.md"
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$SCRATCH/rest.md" >"$SCRATCH/kept.md"
    { cat "$SCRATCH/kept.md"; echo; cat "$SECTION"; } >"$RESULTS"
else
    { echo "# Latest benchmark results"; echo; cat "$SECTION"; } >"$RESULTS"
fi
log "wrote ${RESULTS#"$REPO/"} (section \"Connect\")"
