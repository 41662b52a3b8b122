#!/usr/bin/env bash
# Stop a throw-away PostgreSQL cluster started by scripts/pg-start.sh and remove its directory.
#
#   scripts/pg-stop.sh DIR
#
# Safe to run more than once; a DIR that pg-start.sh did not create is left in place.
set -euo pipefail

PG_BIN=${LATCHKEY_PG_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.latchkey-pg

log() { printf 'pg-stop: %s\n' "$*" >&2; }

dir=${1:-}
if [[ -z "$dir" ]]; then
    echo "usage: scripts/pg-stop.sh DIR" >&2
    exit 2
fi
if [[ ! -d "$dir" ]]; then
    exit 0
fi

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# True while PID is a live (not zombie) postgres process.
is_postgres() {
    local pid=$1 stat
    if [[ -d /proc/self ]]; then
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
        [[ "$stat" == *"(postgres"* ]] || return 1
        stat=${stat##*) }
        [[ "${stat%% *}" != Z ]]
    else
        kill -0 "$pid" 2>/dev/null
    fi
}

pidfile="$dir/data/postmaster.pid"
if [[ -f "$pidfile" ]]; then
    pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
    if [[ -x "$PG_BIN/pg_ctl" ]]; then
        as_pg "$PG_BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t 30 >/dev/null 2>&1 || true
    fi
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_postgres "$pid"; then
        log "pg_ctl stop did not stop pid $pid; sending SIGTERM"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            is_postgres "$pid" || break
            sleep 0.5
        done
        if is_postgres "$pid"; then
            log "sending SIGKILL to pid $pid"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
        fi
    fi
fi

if [[ -f "$dir/$MARKER" ]]; then
    rm -rf -- "$dir"
else
    log "$dir was not created by pg-start.sh; not removing it"
fi
