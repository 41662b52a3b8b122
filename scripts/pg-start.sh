#!/usr/bin/env bash
# Start a throw-away PostgreSQL 15 cluster for the test suites.
#
#   scripts/pg-start.sh [DIR] [PORT]
#
# DIR   directory that will hold the cluster (data, socket, log). Created if
#       missing; must be empty or absent. Default: a new directory from mktemp.
# PORT  TCP port on 127.0.0.1. Default: a free port picked by the kernel.
#
# The server listens on 127.0.0.1 only (plus a unix socket inside DIR).
# Role "latchkey" (superuser, password "latchkey") and database
# "latchkey_test" are created. stdout carries two lines:
#   PGDIR=<dir>
#   postgres://latchkey:latchkey@127.0.0.1:<port>/latchkey_test?sslmode=disable
# the URL always being the last line. Progress and errors go to stderr.
# Stop the cluster and remove DIR with scripts/pg-stop.sh DIR.
set -euo pipefail

PG_BIN=${LATCHKEY_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=latchkey
PG_PASSWORD=latchkey
PG_DATABASE=latchkey_test
MARKER=.latchkey-pg
START_TIMEOUT=30

log() { printf 'pg-start: %s\n' "$*" >&2; }
die() { printf 'pg-start: error: %s\n' "$*" >&2; exit 1; }

for tool in initdb pg_ctl pg_isready psql; do
    [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool not found (install the Debian package postgresql-15)"
done

# PostgreSQL refuses to run as root: run its tools as the "postgres" system user then.
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

if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    die "running as root but there is no 'postgres' system user (it comes with the postgresql-15 package)"
fi

dir=${1:-}
port=${2:-}

if [[ -z "$dir" ]]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-pg.XXXXXX")
    log "cluster directory: $dir"
else
    mkdir -p "$dir"
fi
dir=$(cd "$dir" && pwd -P)
case "$dir" in
    *"'"* | *' '*) die "directory path must not contain quotes or spaces: $dir" ;;
esac
if [[ -n "$(ls -A "$dir")" ]]; then
    die "$dir is not empty (a cluster already there? stop it with scripts/pg-stop.sh $dir)"
fi

if [[ -z "$port" ]]; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fi
if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    die "invalid port: $port"
fi

# Layout: DIR/.latchkey-pg (marks the directory as ours, so pg-stop.sh may delete it),
# DIR/data (PGDATA), DIR/socket (unix socket), DIR/postgres.log.
touch "$dir/$MARKER"
mkdir -m 700 "$dir/data" "$dir/socket"
pwfile="$dir/pwfile"
(umask 077 && printf '%s\n' "$PG_PASSWORD" >"$pwfile")
if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$dir"
    as_pg test -w "$dir" ||
        die "the 'postgres' user cannot write to $dir (a parent directory is not accessible to it); use a directory under /tmp"
fi

cleanup_on_error() {
    local rc=$?
    if (( rc != 0 )); then
        if [[ -f "$dir/postgres.log" ]]; then
            log "server log (last lines):"
            tail -n 20 "$dir/postgres.log" >&2 || true
        fi
        if [[ -f "$dir/data/postmaster.pid" ]]; then
            as_pg "$PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -w >/dev/null 2>&1 || true
        fi
    fi
}
trap cleanup_on_error EXIT

log "initdb in $dir/data"
if ! as_pg "$PG_BIN/initdb" -D "$dir/data" -U "$PG_USER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust \
        -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
fi
rm -f "$pwfile"

# Throw-away cluster: durability off for speed; TCP on loopback only.
cat >>"$dir/data/postgresql.conf" <<CONF

# --- latchkey throw-away test cluster ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
max_connections = 500
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

log "starting on 127.0.0.1:$port"
if ! as_pg "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t "$START_TIMEOUT" >/dev/null; then
    die "pg_ctl start failed"
fi

ready=0
for ((i = 0; i < START_TIMEOUT * 2; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        ready=1
        break
    fi
    sleep 0.5
done
(( ready )) || die "server on 127.0.0.1:$port not ready after ${START_TIMEOUT}s"

as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U "$PG_USER" -d postgres \
    -c "CREATE DATABASE $PG_DATABASE" >&2 || die "could not create database $PG_DATABASE"

trap - EXIT
log "ready (pid $(head -n 1 "$dir/data/postmaster.pid"))"
echo "PGDIR=$dir"
echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE?sslmode=disable"
