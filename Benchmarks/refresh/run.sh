#!/usr/bin/env bash
# Background refresh against a local fake OAuth provider: refreshes/s with 1 and with 3 `latchkey serve` instances,
# duplicate refreshes (must be 0) and the lag from a credential's due time to its refresh.
#
# Each case: a fresh store (SQLite data directory, or a new database on a throw-away PostgreSQL), an import server
# (`latchkey serve` whose refresher is told to look only once a day) through which COUNT credentials of the fake
# provider are imported with POST /api/v1/credentials, then the measured instance(s) on that store, then the fake's
# call log, the due times read from the store before the instances started, and the instances' /metrics.
#
#   backlog  every credential is already due when the instances start (expiresAt = import time + 150 s, so the due
#            time, 150-300 s before expiry, has passed): the drain rate, i.e. the refresher's throughput.
#   spread   every credential expires at the same instant, SPREAD_LEAD + 300 s after the import starts: the product
#            spreads their due times over the 150 s before that instant, so they come due at ~COUNT/150 per second.
#            The rate is then set by the arrivals; the figure of this scenario is the lag.
#
# Usage: Benchmarks/refresh/run.sh   (from anywhere; builds latchkey and FakeTokenServer in release)
# Settings (environment): COUNT=10000 CASES="sqlite:1:backlog pg:1:backlog pg:3:backlog pg:3:spread"
#   (a case is STORE:INSTANCES:SCENARIO[:CONCURRENCY[:POLL_MS]]; an empty or "-" CONCURRENCY / POLL_MS is the product
#   default) IMPORT_WORKERS=8 SPREAD_LEAD=240 SKIP_BUILD=1 LATCHKEY_BIN=path
# Adds or replaces the "## Refresh" section of Benchmarks/results/latest.md, keeping the other sections.
# Every server listens on 127.0.0.1 only and is stopped by PID on exit, PostgreSQL included.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"
HELPER="$HERE/refreshbench.py"

COUNT="${COUNT:-10000}"
CASES="${CASES:-sqlite:1:backlog pg:1:backlog pg:3:backlog pg:3:spread}"
IMPORT_WORKERS="${IMPORT_WORKERS:-8}"
SPREAD_LEAD="${SPREAD_LEAD:-240}"
INTEGRATION=bench
QUIET_POLL_MS=86400000 # the import server's refresher: one look at start-up, the next a day later

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'refresh/run.sh: %s\n' "$*" >&2; exit 1; }

[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || die "COUNT is a positive number"
[[ "$IMPORT_WORKERS" =~ ^[1-9][0-9]*$ ]] || die "IMPORT_WORKERS is a positive number"
[[ "$SPREAD_LEAD" =~ ^[0-9]+$ ]] || die "SPREAD_LEAD is whole seconds"
for spec in $CASES; do
    [[ "$spec" =~ ^(sqlite|pg):[1-9][0-9]*:(backlog|spread)(:(-|[0-9]*)(:(-|[0-9]*))?)?$ ]] ||
        die "bad case '$spec': STORE:INSTANCES:SCENARIO[:CONCURRENCY[:POLL_MS]], e.g. pg:3:backlog or sqlite:1:backlog:64"
done

# ---------------------------------------------------------------------------------------------------------------
# Processes and scratch directories, cleaned up whatever happens.
PIDS=()
PG_DIR=""
SCRATCH="$(mktemp -d -t latchkey-refresh-bench.XXXXXX)"
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ -n "$PG_DIR" ]]; then "$REPO/scripts/pg-stop.sh" "$PG_DIR" || true; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop() {
    local pid="$1"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

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

await_ok() {
    local url="$1" pid="$2" deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

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

# ---------------------------------------------------------------------------------------------------------------
# Binaries: the real `latchkey` executable (the main package's, built here in release) and the fake provider.
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed"
cd "$PACKAGE"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY=""
if [[ -n "$(git -C "$REPO" status --porcelain -- . ':(exclude)Benchmarks' 2>/dev/null)" ]]; then
    DIRTY=" plus uncommitted changes to the main package"
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building latchkey and FakeTokenServer (release)"
    # Without the cached build plan: source files added to the main package since the last build are then always seen.
    swift build -c release --product latchkey --disable-build-manifest-caching
    swift build -c release --product FakeTokenServer
fi
BIN="$(swift build -c release --show-bin-path)"
for binary in latchkey FakeTokenServer; do
    [[ -x "$BIN/$binary" ]] || die "release binary $binary missing; run without SKIP_BUILD"
done
LATCHKEY="$BIN/latchkey"
if [[ -n "${LATCHKEY_BIN:-}" ]]; then
    # Another latchkey binary (for trying the script out); the report says so.
    [[ -x "$LATCHKEY_BIN" ]] || die "LATCHKEY_BIN is not an executable"
    LATCHKEY="$LATCHKEY_BIN"
    DIRTY="$DIRTY, **latchkey binary given by LATCHKEY_BIN, not built by this run**"
fi

# One master key for every instance of a case (and for the CLI), as a cluster shares it.
MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
export LATCHKEY_MASTER_KEY="$MASTER_KEY"
export LATCHKEY_LOG_LEVEL=warning

# A throw-away PostgreSQL when a case needs one; each case gets a new database on it.
PG_URL=""
if [[ " $CASES" == *" pg:"* ]]; then
    command -v psql >/dev/null || die "psql is needed for the PostgreSQL cases"
    # Its own directory straight under the temporary directory: the postgres user must be able to reach it.
    PG_DIR="$(mktemp -d -t latchkey-refresh-pg.XXXXXX)"
    PG_URL="$("$REPO/scripts/pg-start.sh" "$PG_DIR" "$(free_port)" | tail -1)" || { rm -rf "$PG_DIR"; PG_DIR=""; die "PostgreSQL did not start"; }
fi
pg_database_url() { sed -E "s#/[A-Za-z0-9_]+\?#/$1?#" <<<"$PG_URL"; }

# ---------------------------------------------------------------------------------------------------------------
# One case.
RESULT_FILES=()
CASE_NOTES=()
LOADS=()
run_case() {
    local spec="$1" number="$2"
    local store instances scenario concurrency poll
    IFS=: read -r store instances scenario concurrency poll <<<"$spec"
    [[ "$concurrency" == - ]] && concurrency=""
    [[ "$poll" == - ]] && poll=""
    local dir="$SCRATCH/case-$number"
    mkdir -p "$dir"
    local store_name label
    store_name=$([[ "$store" == sqlite ]] && echo SQLite || echo PostgreSQL)
    label="$store_name, $instances instance$([[ "$instances" == 1 ]] || echo s), $scenario"
    [[ -n "$concurrency" ]] && label="$label, concurrency $concurrency"
    [[ -n "$poll" ]] && label="$label, poll ${poll} ms"
    log "case $number: $label"

    local -a store_env due_args
    if [[ "$store" == sqlite ]]; then
        store_env=("LATCHKEY_DATA_DIR=$dir/data")
        mkdir -p "$dir/data"
        due_args=(--sqlite "$dir/data/latchkey.sqlite")
    else
        local database="refresh_bench_$number" url
        url="$(pg_database_url "$database")"
        psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $database" >/dev/null || die "CREATE DATABASE failed"
        store_env=("LATCHKEY_DATABASE_URL=$url" "LATCHKEY_DATA_DIR=$dir/data")
        mkdir -p "$dir/data"
        due_args=(--postgres "$url")
    fi

    # The fake provider, fresh for the case so that its call log is the case's alone.
    "$BIN/FakeTokenServer" 0 >"$dir/fake.out" 2>"$dir/fake.err" &
    local fake_pid=$!
    PIDS+=("$fake_pid")
    local fake_port
    fake_port="$(await_line "$dir/fake.out" LISTENING "$fake_pid")" || { cat "$dir/fake.err" >&2; die "FakeTokenServer did not start"; }
    local fake_url="http://127.0.0.1:$fake_port"

    # The import server: the same store, a refresher that looks once at start-up (nothing is there yet) and not again.
    local port url
    port="$(free_port)" || die "no free port"
    url="http://127.0.0.1:$port"
    env "${store_env[@]}" LATCHKEY_REFRESH_POLL_MS="$QUIET_POLL_MS" "$LATCHKEY" serve --host 127.0.0.1 --port "$port" \
        --public-url "$url" --allow-private-network >"$dir/import.out" 2>"$dir/import.err" &
    local import_pid=$!
    PIDS+=("$import_pid")
    await_ok "$url/readyz" "$import_pid" || { cat "$dir/import.err" >&2; die "the import server's /readyz never answered 200"; }
    # The admin key once the vault exists: only `latchkey serve` creates one, the CLI refuses to make an empty vault.
    local admin_key
    admin_key="$(env "${store_env[@]}" "$LATCHKEY" keys create-admin --name benchmark 2>"$dir/admin.err" | grep -m1 '^lk_')" ||
        { cat "$dir/admin.err" >&2; die "no admin key"; }

    local status
    status=$(curl -s -o "$dir/integration.json" -w '%{http_code}' -X POST "$url/api/v1/integrations" \
        -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
        -d "{\"provider\":\"oauth2\",\"key\":\"$INTEGRATION\",\"displayName\":\"Benchmark provider\",\"clientId\":\"c\",\"clientSecret\":\"s\",
             \"settings\":{\"authorizationURL\":\"$fake_url/authorize\",\"tokenURL\":\"$fake_url/token\"}}")
    [[ "$status" == 201 ]] || die "POST /api/v1/integrations answered $status: $(cat "$dir/integration.json")"

    local -a expiry
    if [[ "$scenario" == backlog ]]; then
        expiry=(--expires-in 150)
    else
        expiry=(--expires-at "$(($(date +%s) + SPREAD_LEAD + 300))")
    fi
    log "importing $COUNT credentials"
    python3 "$HELPER" import --url "$url" --key "$admin_key" --integration "$INTEGRATION" --count "$COUNT" \
        --workers "$IMPORT_WORKERS" "${expiry[@]}" --out "$dir/ids.tsv" 2>"$dir/import.log" ||
        { cat "$dir/import.log" >&2; die "the import failed (the server's errors: $(tail -c 2000 "$dir/import.err"))"; }
    cat "$dir/import.log" >&2
    local imported
    imported="$(grep -m1 '^imported' "$dir/import.log" | sed 's/^imported [0-9]* credentials //')"
    stop "$import_pid"
    [[ -z "$(curl -s "$fake_url/_stats?calls=0" | grep -v '"refreshCalls":0,')" ]] || die "the import server refreshed credentials"
    python3 "$HELPER" due --ids "$dir/ids.tsv" "${due_args[@]}" --out "$dir/due.json" || die "could not read the due times"

    # The measured instances, launched together; the clock of the case starts at the first launch.
    local -a tuning=() pids=() metrics=()
    [[ -n "$concurrency" ]] && tuning+=("LATCHKEY_REFRESH_CONCURRENCY=$concurrency")
    [[ -n "$poll" ]] && tuning+=("LATCHKEY_REFRESH_POLL_MS=$poll")
    local -a ports=()
    for ((i = 0; i < instances; i++)); do ports+=("$(free_port)") || die "no free port"; done
    local load_before started
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    started="$(date +%s.%N)"
    for ((i = 0; i < instances; i++)); do
        env "${store_env[@]}" "${tuning[@]}" "$LATCHKEY" serve --host 127.0.0.1 --port "${ports[$i]}" \
            --public-url "http://127.0.0.1:${ports[$i]}" --allow-private-network >"$dir/instance-$i.out" 2>"$dir/instance-$i.err" &
        pids+=($!)
        PIDS+=($!)
        metrics+=("http://127.0.0.1:${ports[$i]}/metrics")
    done
    for ((i = 0; i < instances; i++)); do
        await_ok "http://127.0.0.1:${ports[$i]}/readyz" "${pids[$i]}" ||
            { cat "$dir/instance-$i.err" >&2; die "instance $i's /readyz never answered 200"; }
    done

    local timeout
    if [[ "$scenario" == backlog ]]; then timeout=900; else timeout=$((SPREAD_LEAD + 300 + 300)); fi
    python3 "$HELPER" wait --fake "$fake_url" --count "$COUNT" --timeout "$timeout" --settle 3
    local case_json
    case_json="{\"store\":\"$store_name\",\"instances\":$instances,\"scenario\":\"$scenario\",\"concurrency\":\"${concurrency:-16 (default)}\",\"poll\":\"${poll:-1000 (default)}\"}"
    python3 "$HELPER" analyze --fake "$fake_url" --due "$dir/due.json" --started "$started" \
        --metrics "$(IFS=,; echo "${metrics[*]}")" --label "$label" --case "$case_json" --out "$SCRATCH/result-$number.json" ||
        die "the analysis failed"
    RESULT_FILES+=("$SCRATCH/result-$number.json")
    LOADS+=("${load_before%% *}")
    CASE_NOTES+=("$label: import through one server ($IMPORT_WORKERS connections) $imported; load average before the instances started $load_before")

    # Errors the instances logged, for the record (warning level and above).
    local errors=0
    for ((i = 0; i < instances; i++)); do
        errors=$((errors + $(cat "$dir/instance-$i.err" "$dir/instance-$i.out" | { grep -ci 'error' || true; })))
        stop "${pids[$i]}"
    done
    ((errors == 0)) || { log "case $number: the instances logged $errors error line(s); first ones:"; grep -hi error "$dir"/instance-*.err | head -5 >&2 || true; }
    stop "$fake_pid"
    if [[ "$store" == pg ]]; then psql "$PG_URL" -X -q -c "DROP DATABASE refresh_bench_$number" >/dev/null || true; fi
    rm -rf "$dir/data"
}

number=0
for spec in $CASES; do
    number=$((number + 1))
    run_case "$spec" "$number"
done

TABLES="$(python3 "$HELPER" table "${RESULT_FILES[@]}")"
echo
echo "$TABLES"
echo

# ---------------------------------------------------------------------------------------------------------------
# Report: the "## Refresh" section of results/latest.md, replaced in place or added at the end.
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
SWIFT="$({ swift --version 2>/dev/null || true; } | awk 'NR == 1')"
PG_VERSION=""
if [[ -n "$PG_URL" ]]; then PG_VERSION="$(psql "$PG_URL" -X -At -c 'SHOW server_version' 2>/dev/null | awk '{ print $1 }')"; fi
SECTION="$SCRATCH/section.md"
{
    echo "## Refresh"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\`$DIRTY on $(nproc) cores ($CPU), $SWIFT${PG_VERSION:+, PostgreSQL $PG_VERSION (throw-away cluster: fsync off, synchronous_commit off)}."
    echo "Written by \`Benchmarks/refresh/run.sh\`; \`Benchmarks/README.md\` says what each figure means."
    echo
    echo "The background refresher of \`latchkey serve --allow-private-network\` (release, warning-level logs) refreshing $(sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<<"$COUNT") imported"
    echo "OAuth 2.0 credentials at the fake provider \`FakeTokenServer\` (client_secret_basic; every refresh answered at once with"
    echo "a new access token, \`expires_in\` 3600 and a rotated refresh token), fresh store and fresh fake per case. **backlog**: all"
    echo "credentials already due when the instances start, so refreshes/s is the drain rate and the budget figure. **spread**: all"
    echo "expire at one instant and the product spreads their due times over the 150 s before it (~$((COUNT / 150))/s come due), so the"
    echo "rate follows the arrivals and the lag is the figure. Refreshes/s = credentials refreshed ÷ (last − first provider call)."
    echo "Lag = provider call − the later of (due time, instances launched), per credential, over all instances; in a backlog it is"
    echo "the wait in the queue. A duplicate is any refresh call beyond the first per credential (the same refresh token presented"
    echo "again, or a credential refreshed twice). Latchkey, PostgreSQL and the fake provider share the machine's cores."
    echo
    echo "$TABLES"
    echo
    for note in "${CASE_NOTES[@]}"; do echo "- $note"; done
    echo
    if awk -v cores="$(nproc)" '{ for (i = 1; i <= NF; i++) if ($i + 0 > cores) busy = 1 } END { exit !busy }' <<<"${LOADS[*]}"; then
        echo "**The machine was busy with other work during this run** (a 1-minute load average above its $(nproc) cores before"
        echo "at least one case): the rates are lower bounds for this machine, and cases run at different loads compare poorly."
        echo
    fi
    echo "The lag histogram in \`/metrics\` (\`latchkey_refresh_lag_seconds\`) uses the metrics factory's default buckets (5, 10, 25 … s),"
    echo "so only its sum and count (the mean) and the share at or under 5 s are shown; in a backlog it also counts the time a"
    echo "credential was already due before the instances started."
} >"$SECTION"

mkdir -p "$(dirname "$RESULTS")"
if [[ -f "$RESULTS" ]]; then
    awk '/^## / { skip = ($0 == "## Refresh") } !skip' "$RESULTS" >"$SCRATCH/rest.md"
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$SCRATCH/rest.md" >"$SCRATCH/kept.md"
    { cat "$SCRATCH/kept.md"; echo; cat "$SECTION"; } >"$RESULTS"
else
    { echo "# Latest benchmark results"; echo; cat "$SECTION"; } >"$RESULTS"
fi
log "wrote ${RESULTS#"$REPO/"} (section \"Refresh\")"
