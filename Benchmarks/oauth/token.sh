#!/usr/bin/env bash
# The OAuth token endpoint against a peer authorization server built on Authlib, in the same run on the same machine:
#
#   (1) code:    POST /token grant_type=authorization_code&code&redirect_uri&client_id&code_verifier, every code used
#                once (codes minted before the run; code.lua hands each wrk thread its own share of them)
#   (2) refresh: POST /token grant_type=refresh_token&refresh_token&client_id, rotating: each answer's refresh token is
#                the next request's, one chain per connection (refresh.lua, as many wrk threads as connections)
#                                 -> requests/s, p50 and p99 of each; Latchkey ÷ peer once the Latchkey side runs
#
# The peer is Benchmarks/oauth/peer.py: Authlib's authorization-code grant with PKCE S256 required and its refresh-token
# grant with rotation, one public client (`none`), in-memory storage, served by gunicorn with PEER_WORKERS workers of
# the `gthread` kind (keep-alive) and PEER_THREADS threads each, imported with --preload so that the codes and refresh
# tokens of the run are minted once before the workers fork. A keep-alive connection stays with the worker that
# accepted it, so each refresh chain lives in that worker's memory.
#
# Usage: Benchmarks/oauth/token.sh
# Settings (environment): DURATION=10s WARMUP=3s ROUNDS=3 CONNECTIONS=32 PEER_WORKERS=2 PEER_THREADS=4
#   CODES_PER_RUN=100000 (codes minted per server for each run, shared out among the wrk threads; a thread that uses
#   up its share fails the run, which says so)
#   VENV=Benchmarks/oauth/.venv (where Authlib, Flask and gunicorn are installed with pip; made when missing)
#   BUSY_NOTE="…" (a sentence written next to the figures, e.g. that other work was running on the machine)
# Needs wrk, curl and python3 (with venv). Adds or replaces the "## OAuth token endpoint" section of
# Benchmarks/results/latest.md, keeping the others. Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"
SECTION_TITLE="## OAuth token endpoint"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
PEER_WORKERS="${PEER_WORKERS:-2}"
PEER_THREADS="${PEER_THREADS:-4}"
CODES_PER_RUN="${CODES_PER_RUN:-100000}"
VENV="${VENV:-$HERE/.venv}"
# The versions measured; change them here, together.
PEER_PACKAGES=(authlib==1.9.10 flask==3.1.3 gunicorn==27.0.1)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'token.sh: %s\n' "$*" >&2; exit 1; }

PIDS=()
SCRATCH="$(mktemp -d -t latchkey-oauth-bench.XXXXXX)"
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

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "$tool is needed (apt-get install wrk curl python3-venv)"; done

# ---------------------------------------------------------------------------------------------------------------
# Install: the peer's packages in a virtual environment of their own.
if [[ ! -x "$VENV/bin/gunicorn" ]] || ! "$VENV/bin/pip" freeze 2>/dev/null | grep -ix "${PEER_PACKAGES[0]}" >/dev/null; then
    log "installing ${PEER_PACKAGES[*]} into ${VENV#"$REPO/"}"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PEER_PACKAGES[@]}"
fi

RUNS=$((ROUNDS + 1)) # the warm-up, then the rounds: each gets codes and refresh tokens of its own

# Splits FILE into RUNS files FILE-0 … FILE-(RUNS-1) of PER lines each (0 is the warm-up's).
slice() {
    local file="$1" per="$2" run
    for ((run = 0; run < RUNS; run++)); do
        sed -n "$((run * per + 1)),$(((run + 1) * per))p" "$file" >"$file-$run"
        [[ $(wc -l <"$file-$run") == "$per" ]] || die "$file has too few lines for run $run"
    done
}

# ---------------------------------------------------------------------------------------------------------------
# The peer.
PEER_DIR="$SCRATCH/peer"
mkdir -p "$PEER_DIR"
PEER_PORT=$(free_port)
log "starting the Authlib peer (gunicorn, $PEER_WORKERS workers × $PEER_THREADS threads), minting $((CODES_PER_RUN * RUNS)) codes"
PEER_SEED_DIR="$PEER_DIR" PEER_CODES=$((CODES_PER_RUN * RUNS)) PEER_REFRESH=$((CONNECTIONS * RUNS)) PYTHONWARNINGS=ignore \
    "$VENV/bin/gunicorn" --preload --workers "$PEER_WORKERS" --worker-class gthread --threads "$PEER_THREADS" \
    --keep-alive 75 --no-control-socket --bind "127.0.0.1:$PEER_PORT" --chdir "$HERE" --log-level warning peer:app \
    >"$PEER_DIR/out.log" 2>&1 &
PEER_PID=$!
PIDS+=("$PEER_PID")
PEER_URL="http://127.0.0.1:$PEER_PORT"
deadline=$((SECONDS + 120))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$PEER_URL/healthz" || true)" == 200 ]]; do
    kill -0 "$PEER_PID" 2>/dev/null || { cat "$PEER_DIR/out.log" >&2; die "the peer exited"; }
    ((SECONDS < deadline)) || die "the peer did not answer /healthz"
    sleep 0.1
done
slice "$PEER_DIR/codes.txt" "$CODES_PER_RUN"
slice "$PEER_DIR/refresh.txt" "$CONNECTIONS"
PEER_CLIENT_ID="bench-client"
PEER_REDIRECT_URI="http://127.0.0.1:9/callback"

# The peer's whole flow once through its own endpoints: authorize with PKCE, exchange, refresh, a spent refresh refused.
# One keep-alive connection for all of it: each gunicorn worker has its own memory, and a connection stays with one.
"$VENV/bin/python" - "$PEER_URL" >&2 <<'EOF' || die "the peer's own flow failed (see above)"
import base64, hashlib, http.client, json, secrets, sys, urllib.parse
connection = http.client.HTTPConnection(urllib.parse.urlsplit(sys.argv[1]).netloc)
def call(method, path, form=None):
    body = urllib.parse.urlencode(form) if form else None
    connection.request(method, path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"} if form else {})
    response = connection.getresponse()
    return response.status, response.getheader("Location"), response.read().decode()
client, redirect = "bench-client", "http://127.0.0.1:9/callback"
verifier = secrets.token_urlsafe(48)
challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
query = urllib.parse.urlencode({"response_type": "code", "client_id": client, "redirect_uri": redirect, "scope": "tools",
                                "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})
status, location, _ = call("GET", "/authorize?" + query)
assert status == 302 and location, f"authorize answered {status}"
code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client}
status, _, body = call("POST", "/token", dict(exchange, code_verifier="x" * 43))
assert status == 400, f"a wrong code_verifier answered {status}: {body}"
status, _, body = call("POST", "/token", dict(exchange, code_verifier=verifier))
assert status == 200, f"the code exchange answered {status}: {body}"
refresh = json.loads(body)["refresh_token"]
status, _, body = call("POST", "/token", {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client})
assert status == 200 and json.loads(body)["refresh_token"] != refresh, f"the refresh answered {status}: {body}"
status, _, body = call("POST", "/token", {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client})
assert status == 400, f"a spent refresh token answered {status}: {body}"
EOF

SERVERS=(peer)
declare -A BASE_URL TOKEN_PATH CLIENT_ID REDIRECT_URI DIR
BASE_URL[peer]="$PEER_URL"
TOKEN_PATH[peer]="/token"
CLIENT_ID[peer]="$PEER_CLIENT_ID"
REDIRECT_URI[peer]="$PEER_REDIRECT_URI"
DIR[peer]="$PEER_DIR"

# ---------------------------------------------------------------------------------------------------------------
# The Latchkey side: the release benchmark server (`latchkey serve`'s bootstrap and application, SQLite) with its
# `--oauth-seed`: a public client for $PEER_REDIRECT_URI, and per run the codes (PKCE S256, as consent issues them) and
# refresh tokens, made in process before the server starts listening. Codes live 10 minutes: LATCHKEY_CODES per run
# (default CODES_PER_RUN) must be used within that, so the minting comes last before the runs.
LATCHKEY_CODES="${LATCHKEY_CODES:-$CODES_PER_RUN}"
latchkey_side() {
    LATCHKEY_DIR="$SCRATCH/latchkey"
    mkdir -p "$LATCHKEY_DIR/data"
    local bin="$PACKAGE/.build/release/LatchkeyBenchServer"
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        log "building LatchkeyBenchServer (release)"
        (cd "$PACKAGE" && swift build -c release --product LatchkeyBenchServer >&2) || die "the build failed"
    fi
    [[ -x "$bin" ]] || die "no $bin (run without SKIP_BUILD=1)"
    log "starting Latchkey, minting $((LATCHKEY_CODES * RUNS)) codes and $((CONNECTIONS * RUNS)) refresh tokens"
    # The token endpoint's rate per client and address (300 a minute by default) raised above what the run sends: every
    # request comes from one client on one address here. The limiter still runs on every request.
    LATCHKEY_OAUTH_TOKEN_RATE=1000000 LATCHKEY_LOG_LEVEL=warning \
        "$bin" --port 0 --data-dir "$LATCHKEY_DIR/data" --oauth-seed "$LATCHKEY_DIR" --oauth-runs "$RUNS" \
        --oauth-codes "$LATCHKEY_CODES" --oauth-refresh "$CONNECTIONS" --oauth-redirect "$PEER_REDIRECT_URI" \
        >"$LATCHKEY_DIR/out.log" 2>"$LATCHKEY_DIR/err.log" &
    local pid=$!
    PIDS+=("$pid")
    local deadline=$((SECONDS + 1800)) port=""
    until port="$(grep -m1 '^LISTENING=' "$LATCHKEY_DIR/out.log" 2>/dev/null | cut -d= -f2)" && [[ -n "$port" ]]; do
        kill -0 "$pid" 2>/dev/null || { cat "$LATCHKEY_DIR/err.log" >&2; die "Latchkey exited"; }
        ((SECONDS < deadline)) || die "Latchkey did not start listening"
        sleep 0.2
    done
    LATCHKEY_CLIENT_ID="$(grep -m1 '^OAUTH_CLIENT_ID=' "$LATCHKEY_DIR/out.log" | cut -d= -f2)"
    [[ -n "$LATCHKEY_CLIENT_ID" ]] || die "Latchkey printed no OAUTH_CLIENT_ID"
    BASE_URL[latchkey]="http://127.0.0.1:$port"
    TOKEN_PATH[latchkey]="/oauth/token"
    CLIENT_ID[latchkey]="$LATCHKEY_CLIENT_ID"
    REDIRECT_URI[latchkey]="$PEER_REDIRECT_URI"
    DIR[latchkey]="$LATCHKEY_DIR"
}
if latchkey_side; then SERVERS+=(latchkey); fi
# >>> end of the Latchkey side <<<

# ---------------------------------------------------------------------------------------------------------------
# run_case SERVER CASE RUN DURATION: one wrk run, CONNECTIONS connections with a thread each.
run_case() {
    local server="$1" name="$2" run="$3" duration="$4" base="${BASE_URL[$1]}" path="${TOKEN_PATH[$1]}"
    case "$name" in
        code)
            wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"$duration" --latency -s "$HERE/code.lua" "$base" -- \
                "${DIR[$server]}/codes.txt-$run" "$CONNECTIONS" "${CLIENT_ID[$server]}" "${REDIRECT_URI[$server]}" "$path"
            ;;
        refresh)
            wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"$duration" --latency -s "$HERE/refresh.lua" "$base" -- \
                "${DIR[$server]}/refresh.txt-$run" "${CLIENT_ID[$server]}" "$path"
            ;;
    esac
}

# Reads wrk's report: "REQS P50_MS P99_MS BAD" (BAD = non-2xx responses plus socket errors).
parse_wrk() {
    awk '
        function ms(v,   unit) { unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
            return (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
        /^Requests\/sec:/ { reqs = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { bad += $NF }
        /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { n = $i; sub(/,/, "", n); bad += n } }
        END { printf "%s %.3f %.3f %d\n", reqs, p50, p99, bad }
    ' "$1"
}

CASES=(code refresh)
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "warm-up: $WARMUP each"
for server in "${SERVERS[@]}"; do
    for name in "${CASES[@]}"; do
        run_case "$server" "$name" 0 "$WARMUP" >"$SCRATCH/$server-$name-0.txt"
        read -r _ _ _ bad < <(parse_wrk "$SCRATCH/$server-$name-0.txt")
        ((bad == 0)) || { cat "$SCRATCH/$server-$name-0.txt" >&2; die "$server $name: $bad requests failed in the warm-up"; }
    done
done
for server in "${SERVERS[@]}"; do for name in "${CASES[@]}"; do : >"$SCRATCH/$server-$name-runs"; done; done
for ((round = 1; round <= ROUNDS; round++)); do
    for name in "${CASES[@]}"; do
        for server in "${SERVERS[@]}"; do
            log "round $round/$ROUNDS: $server $name, $DURATION"
            run_case "$server" "$name" "$round" "$DURATION" >"$SCRATCH/$server-$name-$round.txt"
            parse_wrk "$SCRATCH/$server-$name-$round.txt" | tee -a "$SCRATCH/$server-$name-runs" >&2
        done
    done
done
for server in "${SERVERS[@]}"; do
    for name in "${CASES[@]}"; do
        awk '$4 > 0 { exit 1 }' "$SCRATCH/$server-$name-runs" ||
            die "some $server $name requests failed (a code case that ran out of codes needs a larger CODES_PER_RUN)"
    done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

ROWS=()
RATIOS=()
for name in "${CASES[@]}"; do
    for server in "${SERVERS[@]}"; do
        runs="$SCRATCH/$server-$name-runs"
        rps=$(awk '{ print $1 }' "$runs" | median)
        p50=$(awk '{ print $2 }' "$runs" | median)
        p99=$(awk '{ print $3 }' "$runs" | median)
        label="Authlib peer"
        if [[ "$server" == latchkey ]]; then label="Latchkey, SQLite"; fi
        ROWS+=("| $name | $label | $rps | $p50 | $p99 |")
    done
    if [[ " ${SERVERS[*]} " == *" latchkey "* ]]; then
        ratio=$(paste -d' ' "$SCRATCH/latchkey-$name-runs" "$SCRATCH/peer-$name-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
        RATIOS+=("| $name | $ratio |")
    fi
done

COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
PYTHON_VERSION="$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
WRK_VERSION="$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $2 }')"
SECTION="$SCRATCH/section.md"
{
    echo "$SECTION_TITLE"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` on $(nproc) cores ($CPU) by \`Benchmarks/oauth/token.sh\`."
    echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER.${BUSY_NOTE:+ $BUSY_NOTE}"
    echo
    echo "\`POST /token\`, form-encoded, public client (\`none\`): (1) **code**, \`grant_type=authorization_code\` with"
    echo "\`code\`, \`redirect_uri\`, \`client_id\` and a PKCE S256 \`code_verifier\`, every code used once (minted before the run);"
    echo "(2) **refresh**, \`grant_type=refresh_token\` with \`refresh_token\` and \`client_id\`, each answer's rotated refresh"
    echo "token sent next, one chain per connection. The peer: \`Benchmarks/oauth/peer.py\`, Authlib $("$VENV/bin/python" -c 'import authlib; print(authlib.__version__)')"
    echo "(its authorization-code grant with PKCE S256 required, its refresh-token grant with rotation, in-memory storage) on"
    echo "Flask, Python $PYTHON_VERSION, served by gunicorn $("$VENV/bin/gunicorn" --version 2>&1 | awk '{ print $NF }' | tr -d '()') with $PEER_WORKERS \`gthread\` workers × $PEER_THREADS threads"
    echo "(keep-alive). \`wrk $WRK_VERSION --latency\`, $CONNECTIONS connections with a thread each, $DURATION per run after a"
    echo "$WARMUP warm-up, $ROUNDS rounds; req/s and latencies are medians over the rounds. wrk and the servers share the machine."
    echo "What the peer does not do that Latchkey does: its tokens are kept in each worker's memory as they are (not hashed, not"
    echo "written to a database, no audit event), and its codes and refresh tokens are minted before the workers fork."
    echo
    echo "| case | server | req/s | p50 ms | p99 ms |"
    echo "| --- | --- | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
    echo
    if ((${#RATIOS[@]})); then
        echo "| case | Latchkey ÷ peer req/s (per round, median) |"
        echo "| --- | ---: |"
        printf '%s\n' "${RATIOS[@]}"
        echo
        echo "Budget: Latchkey ≥ 1,500 req/s on SQLite (DESIGN §9); goal ≥ 3× the peer."
    else
        echo "The Latchkey side of this script is not written yet (Latchkey's \`/oauth/token\` is being built): these are the"
        echo "peer's figures alone, for the Latchkey ÷ peer ratio to come. Budget: Latchkey ≥ 1,500 req/s on SQLite (DESIGN §9);"
        echo "goal ≥ 3× the peer, measured in the same run."
    fi
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
log "wrote ${RESULTS#"$REPO/"} (section \"OAuth token endpoint\")"
