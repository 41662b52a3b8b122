#!/usr/bin/env bash
# The proxy route against the reference proxy, all in the same run on the same machine:
#
#   GET of a 1 KiB JSON file from a local nginx, (a) straight from nginx, (b) through an nginx `proxy_pass` server block
#   that adds a header (the reference proxy, keep-alive to the upstream), (c) through Latchkey's
#   /api/v1/proxy/{integration}/{path} (a generic integration whose apiBaseURL is the nginx of (a), an imported token,
#   an admin key; the token injected, the call audited and in the request log), at concurrency 1 and 32
#                                 -> requests/s, p50 and p99; ratios (c)/(b) and (c)/(a); latency added over (a)
#   (d) the same GET as POST /api/v1/tools/invoke; (e) tools/list and (f) tools/call of that tool through /mcp with an
#   MCP access token a console person got by consenting (mcp_token.py)      -> requests/s, p50, p99
#   (g) the same GET through BareRelay, a bare Hummingbird route relaying with AsyncHTTPClient (the stack the proxy is
#   built on, with none of Latchkey's work): the stack's own ceiling     -> requests/s, p50, p99; (g)/(b), (c)/(g)
#
# Usage: Benchmarks/http/proxy.sh     (builds `latchkey` and `BareRelay` in this package's release tree unless SKIP_BUILD=1)
# Settings (environment): DURATION=10s WARMUP=3s ROUNDS=3 CONCURRENCY="1 32" THREADS=2 (wrk threads at concurrency > 1)
# Needs nginx, wrk, curl and python3 (standard library). Adds or replaces the "## Proxy" section of
# Benchmarks/results/latest.md, keeping the others. Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"
SECTION_TITLE="## Proxy"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
ROUNDS="${ROUNDS:-3}"
CONCURRENCY="${CONCURRENCY:-1 32}"
THREADS="${THREADS:-2}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'proxy.sh: %s\n' "$*" >&2; exit 1; }

PIDS=()
SCRATCH="$(mktemp -d -t latchkey-proxy-bench.XXXXXX)"
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
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Polls a URL (with optional curl arguments) until it answers 200.
await_ok() {
    local url="$1" pid="$2" deadline=$((SECONDS + 60))
    shift 2
    while ((SECONDS < deadline)); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)" == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for tool in nginx wrk curl python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done

# Both built in this package's release tree: `latchkey` is the main package's product, built from the same modules
# the other benchmark servers use.
cd "$PACKAGE"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    log "building latchkey and BareRelay (release)"
    swift build -c release --product latchkey
    swift build -c release --product BareRelay
fi
BIN="$(swift build -c release --show-bin-path)"
[[ -x "$BIN/latchkey" ]] || die "release latchkey missing; run without SKIP_BUILD"
RELAY_BIN="$BIN/BareRelay"
[[ -x "$RELAY_BIN" ]] || die "release BareRelay missing; run without SKIP_BUILD"

# ---------------------------------------------------------------------------------------------------------------
# nginx: the upstream (a) and the reference proxy (b), one instance, readable by its workers.
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/www" "$SCRATCH/nginx-temp"
python3 - "$SCRATCH/www/data.json" <<'EOF'
import json, sys
items = [{"id": i, "name": f"item-{i:04d}", "ok": i % 2 == 0} for i in range(16)]
body = {"items": items, "pad": ""}
body["pad"] = "x" * (1024 - len(json.dumps(body, separators=(",", ":"))))
text = json.dumps(body, separators=(",", ":"))
assert len(text) == 1024, len(text)
open(sys.argv[1], "w").write(text)
EOF
# The sandbox provider's `list_items` tool reads `/items` of its API: the same file.
cp "$SCRATCH/www/data.json" "$SCRATCH/www/items"
chmod -R a+rX "$SCRATCH/www"
BYTES=$(wc -c <"$SCRATCH/www/data.json")
UPSTREAM_PORT=$(free_port)
REFERENCE_PORT=$(free_port)
cat >"$SCRATCH/nginx.conf" <<EOF
worker_processes auto;
pid $SCRATCH/nginx.pid;
error_log $SCRATCH/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $SCRATCH/nginx-temp/body;
    proxy_temp_path $SCRATCH/nginx-temp/proxy;
    fastcgi_temp_path $SCRATCH/nginx-temp/fastcgi;
    uwsgi_temp_path $SCRATCH/nginx-temp/uwsgi;
    scgi_temp_path $SCRATCH/nginx-temp/scgi;
    keepalive_requests 1000000;
    upstream api { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$UPSTREAM_PORT;
        root $SCRATCH/www;
        default_type application/json;
        location /v1/ { alias $SCRATCH/www/; }
    }
    server {
        listen 127.0.0.1:$REFERENCE_PORT;
        location / {
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer reference-token";
        }
    }
}
EOF
nginx -c "$SCRATCH/nginx.conf" -g 'daemon off;' >"$SCRATCH/nginx.out" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
DIRECT_URL="http://127.0.0.1:$UPSTREAM_PORT/v1/data.json"
REFERENCE_URL="http://127.0.0.1:$REFERENCE_PORT/v1/data.json"
await_ok "$DIRECT_URL" "$NGINX_PID" || { cat "$SCRATCH/nginx.out" "$SCRATCH/nginx-error.log" >&2 2>/dev/null; die "nginx did not start"; }
await_ok "$REFERENCE_URL" "$NGINX_PID" || die "the nginx proxy_pass block did not answer 200"
# (g): the bare relay, on the same upstream.
"$RELAY_BIN" 0 "http://127.0.0.1:$UPSTREAM_PORT/v1" >"$SCRATCH/relay.out" 2>"$SCRATCH/relay.err" &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
RELAY_URL=""
for _ in $(seq 1 600); do
    RELAY_URL="$(grep -m1 '^LISTENING=' "$SCRATCH/relay.out" 2>/dev/null | cut -d= -f2 || true)"
    [[ -n "$RELAY_URL" ]] && break
    kill -0 "$RELAY_PID" 2>/dev/null || { cat "$SCRATCH/relay.err" >&2; die "BareRelay exited"; }
    sleep 0.05
done
[[ -n "$RELAY_URL" ]] || die "BareRelay did not say where it listens"
RELAY_URL="http://127.0.0.1:$RELAY_URL/relay/data.json"
cmp -s <(curl -s "$RELAY_URL") "$SCRATCH/www/data.json" || die "BareRelay's body differs from the file"

# ---------------------------------------------------------------------------------------------------------------
# Latchkey (c): SQLite, default settings but warning-level logs, a generic integration whose API is the nginx of (a).
DATA="$SCRATCH/data"
mkdir -p "$DATA"
# A fixed port: the public URL (the OAuth issuer and the /mcp resource of (e) and (f)) names it.
LATCHKEY_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LATCHKEY_LOG_LEVEL=warning "$BIN/latchkey" serve --port "$LATCHKEY_PORT" --data-dir "$DATA" --allow-private-network \
    >"$SCRATCH/latchkey.out" 2>"$SCRATCH/latchkey.err" &
LATCHKEY_PID=$!
PIDS+=("$LATCHKEY_PID")
deadline=$((SECONDS + 60))
LATCHKEY_URL=""
while ((SECONDS < deadline)) && [[ -z "$LATCHKEY_URL" ]]; do
    LATCHKEY_URL="$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$SCRATCH/latchkey.out" "$SCRATCH/latchkey.err" 2>/dev/null | head -1 | cut -d: -f2- || true)"
    kill -0 "$LATCHKEY_PID" 2>/dev/null || { cat "$SCRATCH/latchkey.err" >&2; die "latchkey exited"; }
    sleep 0.05
done
[[ -n "$LATCHKEY_URL" ]] || die "latchkey did not say where it listens"
await_ok "$LATCHKEY_URL/readyz" "$LATCHKEY_PID" || die "latchkey /readyz never answered 200"
KEY="$("$BIN/latchkey" keys create-admin --name benchmark --data-dir "$DATA" 2>/dev/null | grep -m1 '^lk_')" || die "no admin key"
api() {
    local method="$1" path="$2" body="$3" status
    status=$(curl -s -o "$SCRATCH/api.json" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -d "$body" "$LATCHKEY_URL$path")
    [[ "$status" == 2* ]] || die "$method $path answered $status: $(cat "$SCRATCH/api.json")"
}
ORIGIN="http://127.0.0.1:$UPSTREAM_PORT"
api POST /api/v1/integrations "{\"provider\":\"oauth2\",\"key\":\"bench-api\",\"clientId\":\"c\",\"clientSecret\":\"s\",\"scopes\":[\"read\"],
    \"settings\":{\"authorizationURL\":\"$ORIGIN/authorize\",\"tokenURL\":\"$ORIGIN/token\",\"apiBaseURL\":\"$ORIGIN/v1\"}}"
api POST /api/v1/credentials '{"integration":"bench-api","type":"oauth2","accessToken":"bench-token","externalUserId":"bench-user","expiresAt":"2099-01-01T00:00:00Z"}'
# The Connection's rate budget raised far above what the run can send (the limiter still runs on every call).
unlimit() {
    local connection
    connection=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["connectionId"])' "$SCRATCH/api.json") ||
        die "no connectionId in $(cat "$SCRATCH/api.json")"
    api PUT "/api/v1/connections/$connection/rate-limit" '{"budget":1000000,"windowSeconds":60}'
}
unlimit
LATCHKEY_PROXY_URL="$LATCHKEY_URL/api/v1/proxy/bench-api/data.json"
PROXY_HEADERS=(-H "Authorization: Bearer $KEY" -H "Latchkey-End-User: bench-user")
await_ok "$LATCHKEY_PROXY_URL" "$LATCHKEY_PID" "${PROXY_HEADERS[@]}" || die "the proxied call did not answer 200"
cmp -s <(curl -s "${PROXY_HEADERS[@]}" "$LATCHKEY_PROXY_URL") "$SCRATCH/www/data.json" || die "the proxied body differs from the file"
cmp -s <(curl -s "$REFERENCE_URL") "$SCRATCH/www/data.json" || die "the reference proxy's body differs from the file"
# (d) the same GET as a tool call: the sandbox provider's `list_items` on an integration whose API is that nginx.
api POST /api/v1/integrations "{\"provider\":\"sandbox\",\"key\":\"bench-tools\",\"clientId\":\"c\",\"clientSecret\":\"s\",
    \"settings\":{\"authorizationURL\":\"$ORIGIN/authorize\",\"tokenURL\":\"$ORIGIN/token\",\"apiBaseURL\":\"$ORIGIN/v1\"}}"
api POST /api/v1/credentials '{"integration":"bench-tools","type":"oauth2","accessToken":"bench-token","externalUserId":"bench-user","expiresAt":"2099-01-01T00:00:00Z","scopes":["items.read"]}'
unlimit
INVOKE_BODY='{"tool":"sandbox.list_items","integration":"bench-tools","input":{},"externalUserId":"bench-user"}'
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' \
    "'$INVOKE_BODY'" "$KEY" >"$SCRATCH/invoke.lua"
api POST /api/v1/tools/invoke "$INVOKE_BODY"
grep -q '"result"' "$SCRATCH/api.json" || die "the tool call gave no result: $(cat "$SCRATCH/api.json")"
# (e) and (f): `tools/list` and the same tool call through /mcp (protocol 2026-07-28: one self-contained POST, no
# session), with an access token a console person got by consenting to the integration (mcp_token.py).
MCP_EMAIL="bench-person@example.com"
MCP_PASSWORD="benchmark-password-$RANDOM$RANDOM"
MCP_USER_ID="$(printf '%s\n' "$MCP_PASSWORD" | "$BIN/latchkey" users create --email "$MCP_EMAIL" --name "Bench person" --password-stdin \
    --data-dir "$DATA" 2>/dev/null | grep -oE '^[0-9a-f-]{36}$' | tail -1)" || die "could not create the console person"
api POST /api/v1/credentials "{\"integration\":\"bench-tools\",\"type\":\"oauth2\",\"accessToken\":\"bench-token\",\"externalUserId\":\"$MCP_USER_ID\",\"expiresAt\":\"2099-01-01T00:00:00Z\",\"scopes\":[\"items.read\"]}"
unlimit
MCP_TOKEN="$(python3 "$HERE/mcp_token.py" "$LATCHKEY_URL" "$MCP_EMAIL" "$MCP_PASSWORD")" || die "no MCP access token"
mcp_script() {
    local method="$1" name="$2" params="$3"
    printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Accept"] = "application/json, text/event-stream"\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["MCP-Protocol-Version"] = "2026-07-28"\nwrk.headers["Mcp-Method"] = "%s"\n%s' \
        "'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}'" "$MCP_TOKEN" "$method" \
        "${name:+wrk.headers[\"Mcp-Name\"] = \"$name\"}"
}
MCP_META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
mcp_script tools/list "" "{$MCP_META}" >"$SCRATCH/mcp-list.lua"
mcp_script tools/call sandbox.list_items "{\"name\":\"sandbox.list_items\",\"arguments\":{},$MCP_META}" >"$SCRATCH/mcp-call.lua"
for script in mcp-list mcp-call; do
    wrk -t1 -c1 -d1s -s "$SCRATCH/$script.lua" "$LATCHKEY_URL/mcp" >"$SCRATCH/$script.check" 2>&1
    ! grep -q "Non-2xx" "$SCRATCH/$script.check" || die "$script through /mcp did not answer 200: $(cat "$SCRATCH/$script.check")"
done

# ---------------------------------------------------------------------------------------------------------------
# run_case CASE CONNECTIONS DURATION: one wrk run; CASE is direct, reference or latchkey.
run_case() {
    local name="$1" connections="$2" duration="$3" threads="$THREADS"
    ((connections < threads)) && threads=$connections
    case "$name" in
        direct) wrk -t"$threads" -c"$connections" -d"$duration" --latency "$DIRECT_URL" ;;
        reference) wrk -t"$threads" -c"$connections" -d"$duration" --latency "$REFERENCE_URL" ;;
        latchkey) wrk -t"$threads" -c"$connections" -d"$duration" --latency "${PROXY_HEADERS[@]}" "$LATCHKEY_PROXY_URL" ;;
        tools) wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$SCRATCH/invoke.lua" "$LATCHKEY_URL/api/v1/tools/invoke" ;;
        mcplist) wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$SCRATCH/mcp-list.lua" "$LATCHKEY_URL/mcp" ;;
        mcpcall) wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$SCRATCH/mcp-call.lua" "$LATCHKEY_URL/mcp" ;;
        relay) wrk -t"$threads" -c"$connections" -d"$duration" --latency "$RELAY_URL" ;;
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

CASES=(direct reference latchkey tools mcplist mcpcall relay)
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for c in $CONCURRENCY; do
    log "warm-up at concurrency $c: $WARMUP each"
    for name in "${CASES[@]}"; do run_case "$name" "$c" "$WARMUP" >/dev/null; done
    for name in "${CASES[@]}"; do : >"$SCRATCH/$name-$c-runs"; done
    for ((round = 1; round <= ROUNDS; round++)); do
        for name in "${CASES[@]}"; do
            log "round $round/$ROUNDS, concurrency $c: $name, $DURATION"
            run_case "$name" "$c" "$DURATION" >"$SCRATCH/$name-$c-$round.txt"
            parse_wrk "$SCRATCH/$name-$c-$round.txt" | tee -a "$SCRATCH/$name-$c-runs" >&2
        done
    done
    for name in "${CASES[@]}"; do
        awk '$4 > 0 { exit 1 }' "$SCRATCH/$name-$c-runs" || die "some $name requests failed at concurrency $c; see the wrk reports above"
    done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
HWM="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$LATCHKEY_PID/status")"

# Per concurrency: medians over the rounds, and ratios taken round by round (same round, then the median).
ROWS=()
SUMMARY=()
TOOLS=()
MCP=()
CEILING=()
for c in $CONCURRENCY; do
    declare -A RPS P50 P99
    for name in "${CASES[@]}"; do
        RPS[$name]=$(awk '{ print $1 }' "$SCRATCH/$name-$c-runs" | median)
        P50[$name]=$(awk '{ print $2 }' "$SCRATCH/$name-$c-runs" | median)
        P99[$name]=$(awk '{ print $3 }' "$SCRATCH/$name-$c-runs" | median)
    done
    vs_reference=$(paste -d' ' "$SCRATCH/latchkey-$c-runs" "$SCRATCH/reference-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    vs_direct=$(paste -d' ' "$SCRATCH/latchkey-$c-runs" "$SCRATCH/direct-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    ref_vs_direct=$(paste -d' ' "$SCRATCH/reference-$c-runs" "$SCRATCH/direct-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    added_p50=$(awk -v a="${P50[latchkey]}" -v b="${P50[direct]}" 'BEGIN { printf "%+.3f", a - b }')
    added_p99=$(awk -v a="${P99[latchkey]}" -v b="${P99[direct]}" 'BEGIN { printf "%+.3f", a - b }')
    ref_p50=$(awk -v a="${P50[reference]}" -v b="${P50[direct]}" 'BEGIN { printf "%+.3f", a - b }')
    ref_p99=$(awk -v a="${P99[reference]}" -v b="${P99[direct]}" 'BEGIN { printf "%+.3f", a - b }')
    ROWS+=("| $c | (a) nginx, direct | ${RPS[direct]} | ${P50[direct]} | ${P99[direct]} | 1 | | |")
    ROWS+=("| $c | (b) nginx \`proxy_pass\` | ${RPS[reference]} | ${P50[reference]} | ${P99[reference]} | $ref_vs_direct | $ref_p50 | $ref_p99 |")
    ROWS+=("| $c | (c) Latchkey proxy | ${RPS[latchkey]} | ${P50[latchkey]} | ${P99[latchkey]} | $vs_direct | $added_p50 | $added_p99 |")
    tools_vs_proxy=$(paste -d' ' "$SCRATCH/tools-$c-runs" "$SCRATCH/latchkey-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    tools_p50=$(awk -v a="${P50[tools]}" -v b="${P50[latchkey]}" 'BEGIN { printf "%+.3f", a - b }')
    ROWS+=("| $c | (d) Latchkey \`tools/invoke\` | ${RPS[tools]} | ${P50[tools]} | ${P99[tools]} | | | |")
    SUMMARY+=("| $c | $vs_reference | $vs_direct | $added_p50 | $added_p99 |")
    TOOLS+=("| $c | $tools_vs_proxy | $tools_p50 |")
    mcp_vs_invoke=$(paste -d' ' "$SCRATCH/mcpcall-$c-runs" "$SCRATCH/tools-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    MCP+=("| $c | \`tools/list\` | ${RPS[mcplist]} | ${P50[mcplist]} | ${P99[mcplist]} | |")
    MCP+=("| $c | \`tools/call\` \`sandbox.list_items\` | ${RPS[mcpcall]} | ${P50[mcpcall]} | ${P99[mcpcall]} | $mcp_vs_invoke |")
    relay_vs_reference=$(paste -d' ' "$SCRATCH/relay-$c-runs" "$SCRATCH/reference-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    latchkey_vs_relay=$(paste -d' ' "$SCRATCH/latchkey-$c-runs" "$SCRATCH/relay-$c-runs" | awk '{ printf "%.4f\n", $1 / $5 }' | median | awk '{ printf "%.2f", $1 }')
    relay_p50=$(awk -v a="${P50[relay]}" -v b="${P50[direct]}" 'BEGIN { printf "%+.3f", a - b }')
    CEILING+=("| $c | ${RPS[relay]} | ${P50[relay]} | ${P99[relay]} | $relay_p50 | $relay_vs_reference | $latchkey_vs_relay |")
    unset RPS P50 P99
done

COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
NGINX_VERSION="$(nginx -v 2>&1 | awk -F/ '{ print $2 }')"
SECTION="$SCRATCH/section.md"
{
    echo "$SECTION_TITLE"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` on $(nproc) cores ($CPU), nginx $NGINX_VERSION, by"
    echo "\`Benchmarks/http/proxy.sh\`. Load average before: $LOAD_BEFORE; after: $LOAD_AFTER. \`GET\` of a $BYTES-byte JSON file:"
    echo "(a) straight from nginx, (b) through an nginx \`proxy_pass\` block that adds an \`Authorization\` header (keep-alive to"
    echo "the upstream), (c) through \`/api/v1/proxy/bench-api/data.json\` of a release \`latchkey serve\` (SQLite, warning-level"
    echo "logs) with an admin key and \`Latchkey-End-User\`, whose integration's \`apiBaseURL\` is the nginx of (a): the credential"
    echo "resolved, the token injected, the fair rate limiter asked (the Connection's budget set to 1,000,000 a minute), the hand-out"
    echo "audited and the call in the request log. \`wrk --latency\`, ${THREADS} threads"
    echo "(1 at concurrency 1), $DURATION per run after a $WARMUP warm-up, $ROUNDS rounds of (a), (b), (c); req/s and latencies are"
    echo "medians over the rounds, ratios are taken within each round and their median shown. wrk, nginx and Latchkey share the machine."
    echo
    echo "| concurrency | (c) ÷ (b) req/s | (c) ÷ (a) req/s | added p50 ms vs (a) | added p99 ms vs (a) |"
    echo "| ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${SUMMARY[@]}"
    echo
    echo "| concurrency | case | req/s | p50 ms | p99 ms | ÷ (a) req/s | added p50 ms | added p99 ms |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Budget: (c) ÷ (b) ≥ 0.5 and added p50 ≤ 1 ms at concurrency 1. Latchkey's peak RSS over the run: $HWM MB."
    echo
    echo "(d) \`POST /api/v1/tools/invoke\` of the sandbox provider's \`list_items\` on an integration whose API is the same"
    echo "nginx (the input checked, the request built from the catalog, the scope checked, the answer parsed and shaped), in"
    echo "the same rounds, against the raw proxy (c):"
    echo
    echo "| concurrency | (d) ÷ (c) req/s | added p50 ms vs (c) |"
    echo "| ---: | ---: | ---: |"
    printf '%s\n' "${TOOLS[@]}"
    echo
    echo "(e) and (f): MCP through \`POST /mcp\` (protocol 2026-07-28: one self-contained request, no session) with an access"
    echo "token a console person got by consenting to the \`bench-tools\` service (\`mcp_token.py\`: sign-in, registration,"
    echo "consent, PKCE code exchange): \`tools/list\` of the granted tools, and \`tools/call\` of the same \`sandbox.list_items\`"
    echo "as (d), run as that person (token checked, their credential resolved, rate share asked, audited, request-logged)."
    echo
    echo "| concurrency | MCP request | req/s | p50 ms | p99 ms | ÷ (d) req/s |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${MCP[@]}"
    echo
    echo "(g) the stack's own ceiling: \`GET /relay/data.json\` of \`BareRelay\` (Benchmarks/Sources/BareRelay), a bare Hummingbird"
    echo "route with no middleware that relays to the same nginx with AsyncHTTPClient's shared client, adding an"
    echo "\`Authorization\` header and streaming the answer back (no credential, audit, request log or rate limit), in the same rounds:"
    echo
    echo "| concurrency | (g) req/s | p50 ms | p99 ms | added p50 ms vs (a) | (g) ÷ (b) req/s | (c) ÷ (g) req/s |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${CEILING[@]}"
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
log "wrote ${RESULTS#"$REPO/"} (section \"Proxy\")"
