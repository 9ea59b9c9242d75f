#!/usr/bin/env bash
# A throwaway Postgres cluster on loopback for the API tests, so that they run on Postgres as well as on
# SQLite. Installs Debian's postgresql when it is missing.
#   source scripts/postgres.sh start   # exports ROOFLAW_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT
#   scripts/postgres.sh stop           # stops it and removes its files
# The cluster runs with fsync off (its data is thrown away) under /tmp/rooflaw-pg.*.
set -euo pipefail

pg_start() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$bin" ]; then
        echo "==> installing postgresql (Debian)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    local dir port as=()
    dir=$(mktemp -d /tmp/rooflaw-pg.XXXXXX)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # initdb refuses to run as root: run the cluster as the postgres user then.
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log"
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    echo "$dir" >/tmp/rooflaw-pg.current
    export ROOFLAW_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port"
    echo "==> Postgres on 127.0.0.1:$port (files in $dir)"
}

pg_stop() {
    local dir bin as=()
    dir=$(cat /tmp/rooflaw-pg.current 2>/dev/null || true)
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" /tmp/rooflaw-pg.current
}

case "${1:-}" in
    start) pg_start ;;
    stop) pg_stop ;;
    *) echo "usage: source scripts/postgres.sh start | scripts/postgres.sh stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
