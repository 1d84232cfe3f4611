#!/bin/sh
# allocation — a throwaway PostgreSQL cluster on 127.0.0.1 for the tests and benchmarks.
# SPDX-License-Identifier: MIT
#
#   scripts/postgres-test-server.sh start [STATE_DIR]   prints DATABASE_URL on stdout
#   scripts/postgres-test-server.sh stop  [STATE_DIR]   stops the cluster and removes it
#
# The cluster lives in a temporary directory (recorded in STATE_DIR/cluster, default
# ${TMPDIR:-/tmp}/allocation-postgres-test), listens on a free TCP port of 127.0.0.1 only (no
# Unix socket), trusts every local connection, and is tuned for throwaway speed: no fsync,
# no full-page writes, no waiting for the WAL at commit. Its data never outlives `stop`. Run as
# root, the server runs as the `postgres` system user (PostgreSQL refuses root); run as another
# user, as that user.
# Environment: PG_BINDIR (default: /usr/lib/postgresql/15/bin, else the newest installed);
# POSTGRES_TEST_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous_commit) for
# benchmarks whose commits must be acknowledged only once on disk.
set -eu

command=${1:-}
state_dir=${2:-${TMPDIR:-/tmp}/allocation-postgres-test}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    if [ -x /usr/lib/postgresql/15/bin/initdb ]; then echo /usr/lib/postgresql/15/bin; return; fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    done
    echo "postgres-test-server: no initdb found; install postgresql (Debian: postgresql-15)" >&2
    exit 1
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF' 2>/dev/null && return
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
    # Without python3: a random high port that nothing listens on.
    while :; do
        port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
        if ! (ss -ltn 2>/dev/null | grep -q ":$port "); then echo "$port"; return; fi
    done
}

start() {
    bindir=$(find_bindir)
    mkdir -p "$state_dir"
    if [ -f "$state_dir/cluster" ] && [ -f "$state_dir/url" ]; then
        cluster=$(cat "$state_dir/cluster")
        if as_owner "$bindir/pg_ctl" -D "$cluster/data" status >/dev/null 2>&1; then
            cat "$state_dir/url"   # already running
            return
        fi
    fi
    cluster=$(mktemp -d "${TMPDIR:-/tmp}/allocation-pg.XXXXXX")
    chmod 755 "$cluster"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$cluster"; fi
    echo "$cluster" > "$state_dir/cluster"
    as_owner "$bindir/initdb" -D "$cluster/data" -U postgres --auth=trust --no-sync \
        --encoding=UTF8 --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1 || {
        cat "$cluster/initdb.log" >&2
        exit 1
    }
    if [ "${POSTGRES_TEST_DURABLE:-0}" = 1 ]; then
        tuning=""
    else
        tuning="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    fi
    # A port can be taken between choosing and binding it: try a few.
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories= $tuning \
                -c max_connections=200 -c shared_buffers=128MB" start >/dev/null 2>&1; then
            url="postgresql://postgres@127.0.0.1:$port/postgres"
            echo "$url" > "$state_dir/url"
            echo "$url"
            return
        fi
    done
    cat "$cluster/server.log" >&2
    exit 1
}

stop() {
    [ -f "$state_dir/cluster" ] || return 0
    bindir=$(find_bindir)
    cluster=$(cat "$state_dir/cluster")
    if [ -d "$cluster/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$cluster" in
        */allocation-pg.*) rm -rf "$cluster" ;;
    esac
    rm -f "$state_dir/cluster" "$state_dir/url"
    rmdir "$state_dir" 2>/dev/null || true
}

case "$command" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2 ;;
esac
