#!/usr/bin/env bash
# Reference-data sync of CREDENTIALS credentials × 1 dataset of RECORDS records each (GitHub repositories) against the
# in-process fake provider, on SQLite and PostgreSQL, through the real sync service, proxy, fair limiter, sealing and
# store (Benchmarks/Sources/SyncBench; its clock is moved by the driver, so the sync's pacing is kept exactly without
# waiting for it):
#
#   unpaced  a budget far above what the sync can use, every job due at once: the wall time, records/s and provider
#            calls of the work itself.
#   paced    GitHub's catalog budget (5000 calls an hour), jobs planned as `latchkey serve` plans them: the simulated
#            time to finish and the most sync calls in any budget window against what the sync may take (a fifth).
#
# Usage: Benchmarks/sync/run.sh   (from anywhere; builds SyncBench in release, which takes a while)
# Settings (environment): CREDENTIALS=1000 RECORDS=500 CASES="sqlite:unpaced pg:unpaced sqlite:paced pg:paced"
#   SKIP_BUILD=1; PostgreSQL: LATCHKEY_TEST_DATABASE_URL, else a throw-away cluster started with scripts/pg-start.sh.
# Adds or replaces the "## Reference-data sync" section of Benchmarks/results/latest.md, keeping the other sections.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$PACKAGE/.." && pwd)"
RESULTS="$PACKAGE/results/latest.md"
CREDENTIALS="${CREDENTIALS:-1000}"
RECORDS="${RECORDS:-500}"
CASES="${CASES:-sqlite:unpaced pg:unpaced sqlite:paced pg:paced}"
TITLE="## Reference-data sync"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'sync/run.sh: %s\n' "$*" >&2; exit 1; }

[[ "$CREDENTIALS" =~ ^[1-9][0-9]*$ ]] || die "CREDENTIALS is a positive number"
[[ "$RECORDS" =~ ^[0-9]+$ ]] || die "RECORDS is a number"
for spec in $CASES; do [[ "$spec" =~ ^(sqlite|pg):(unpaced|paced)$ ]] || die "bad case '$spec': sqlite|pg:unpaced|paced"; done

PG_DIR=""
SCRATCH="$(mktemp -d -t latchkey-sync-bench.XXXXXX)"
cleanup() {
    if [[ -n "$PG_DIR" ]]; then "$REPO/scripts/pg-stop.sh" "$PG_DIR" >/dev/null 2>&1 || true; rm -rf "$PG_DIR"; fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    log "swift build -c release --product SyncBench (Benchmarks package)"
    (cd "$PACKAGE" && swift build -c release --product SyncBench >&2)
fi
BIN="$(cd "$PACKAGE" && swift build -c release --show-bin-path)/SyncBench"
[[ -x "$BIN" ]] || die "no SyncBench at $BIN (build it, or unset SKIP_BUILD)"

PG_URL="${LATCHKEY_TEST_DATABASE_URL:-}"
if [[ " $CASES " == *" pg:"* && -z "$PG_URL" ]]; then
    PG_DIR="$(mktemp -d -t latchkey-sync-pg.XXXXXX)"
    PG_URL="$("$REPO/scripts/pg-start.sh" "$PG_DIR" "$(free_port)" | tail -1)" || die "PostgreSQL did not start"
fi

ROWS="$SCRATCH/rows.md"
: >"$ROWS"
for spec in $CASES; do
    store="${spec%%:*}"
    scenario="${spec##*:}"
    database=sqlite
    [[ "$store" == pg ]] && database=postgres
    log "$database, $scenario: $CREDENTIALS credentials × $RECORDS records"
    line="$(LATCHKEY_TEST_DATABASE_URL="$PG_URL" "$BIN" --database "$database" --scenario "$scenario" \
        --credentials "$CREDENTIALS" --records "$RECORDS" | grep '^RESULT ')" || die "SyncBench failed ($spec)"
    log "$line"
    python3 - "$line" >>"$ROWS" <<'PY'
import sys
r = dict(item.split("=", 1) for item in sys.argv[1].split()[1:])
minutes = int(r["simulated_s"]) / 60
print(f"| {r['database']} | {r['scenario']} | {r['wall_s']} s | {int(r['records_per_s']):,} | {r['provider_calls']} "
      f"({r['calls_per_credential']}/credential) | {r['provider_429']} | {int(r['stored']):,} | {r['budget']} | "
      f"{r['sync_most_in_window']} of {r['sync_allowed']} | {minutes:,.0f} min |")
PY
done

SECTION="$SCRATCH/section.md"
{
    echo "$TITLE"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores; \`Benchmarks/sync/run.sh\` (SyncBench, release): $CREDENTIALS credentials of one app's"
    echo "GitHub Connection × the dataset \`github.repos\` of $RECORDS repositories each (pages of 100), against the in-process"
    echo "fake provider; the driver moves a test clock, so pacing costs no wall time. *Sync calls in a window* is the most"
    echo "calls the sync made in any window of the Connection's budget, against the fifth of the budget it may take."
    echo
    echo "| store | scenario | wall time | records/s | provider calls | 429s | records stored | budget given | sync calls in a window | simulated time to finish |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    cat "$ROWS"
} >"$SECTION"

mkdir -p "$(dirname "$RESULTS")"
if [[ -f "$RESULTS" ]]; then
    awk -v title="$TITLE" '/^## / { skip = ($0 == title) } !skip' "$RESULTS" >"$SCRATCH/rest.md"
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$SCRATCH/rest.md" >"$SCRATCH/kept.md"
    { cat "$SCRATCH/kept.md"; echo; cat "$SECTION"; } >"$RESULTS"
else
    { echo "# Latest benchmark results"; echo; cat "$SECTION"; } >"$RESULTS"
fi
log "wrote ${RESULTS#"$REPO/"} (section \"${TITLE#\#\# }\")"
