#!/usr/bin/env bash
# allocation — load figure of the example service: wrk POSTs /allocate (unique order ids over
# SKUS SKUs with plenty of stock, benchmarks/service_allocate.lua) for DURATION on loopback,
# against a Release build, on SQLite (durable, then synchronous=NORMAL) and on PostgreSQL.
# SPDX-License-Identifier: MIT
#
#   benchmarks/service_load.sh                 every database
#   benchmarks/service_load.sh sqlite          only the durable SQLite run (also: sqlite-normal,
#                                              postgres, memory)
#
# Environment: DURATION (10s), THREADS (wrk threads, 2), CONNECTIONS (64), SKUS (64),
# SERVICE_THREADS (the service's --threads; its default when unset), BUILD_DIR
# (build/service-release), REDIS
# (none: run without Redis, the events stay in the outbox), BASELINE (the path of another
# allocation-service executable, e.g. a build of an earlier commit: each run is measured with
# it first, then with this build, and the ratio is printed).
# Redis runs (redis-server on a free port) so the outbox
# relay publishes every event during the run, as in production; PostgreSQL is a throwaway
# cluster from scripts/postgres-test-server.sh, a fresh one for each executable measured, with
# its durable settings (fsync, synchronous_commit on; PG_DURABLE=0: the script's fsync=off
# tuning). Prints one line per run:
#   <database> req/s=... p50=...ms p99=...ms (wrk's figures) non2xx=...
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build/service-release}
duration=${DURATION:-10s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-64}
skus=${SKUS:-64}
service_threads=${SERVICE_THREADS:-}
runs=${*:-sqlite sqlite-normal postgres}

command -v wrk >/dev/null || { echo "service_load: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }

echo "building allocation-service (Release) in $build" >&2
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DALLOCATION_BUILD_TESTS=OFF \
    -DALLOCATION_BUILD_BENCHMARKS=OFF -DALLOCATION_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target allocation-service >/dev/null
service="$build/examples/service/allocation-service"

work=$(mktemp -d "${TMPDIR:-/tmp}/allocation-load.XXXXXX")
service_pid=""
redis_pid=""
pg_state="$work/postgres"
cleanup() {
    if [ -n "$service_pid" ]; then kill -TERM "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
    if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
    if [ -f "$pg_state/url" ]; then "$root/scripts/postgres-test-server.sh" stop "$pg_state" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A port of 127.0.0.1 nothing listens on (for redis-server; the service takes --port 0).
free_port() {
    while :; do
        local port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}

# post PORT PATH JSON: one HTTP/1.0 POST through bash's /dev/tcp; fails unless answered 2xx.
post() {
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
        "$2" "${#3}" "$3" >&3
    local status
    read -r _ status _ <&3
    exec 3<&-
    [[ "$status" == 2* ]]
}

redis_url=none
if [ "${REDIS:-}" != none ] && command -v redis-server >/dev/null; then
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null &
    redis_pid=$!
    redis_url="redis://127.0.0.1:$redis_port"
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
        sleep 0.05
    done
fi

# measure EXECUTABLE NAME DATABASE_URL [service options...]; DATABASE_URL `postgres`: a fresh
# throwaway cluster for this run (so a baseline and this build both start from an empty database).
measure() {
    local exe=$1 name=$2 url=$3 port result
    shift 3
    case "$url" in
        sqlite://*) rm -f "${url#sqlite://}" "${url#sqlite://}-wal" "${url#sqlite://}-shm" ;;
        postgres) url=$(POSTGRES_TEST_DURABLE=${PG_DURABLE:-1} "$root/scripts/postgres-test-server.sh" start "$pg_state") ;;
    esac
    "$exe" --port 0 --database "$url" --redis "$redis_url" ${service_threads:+--threads "$service_threads"} "$@" \
        >"$work/$name.out" 2>"$work/$name.log" &
    service_pid=$!
    for _ in $(seq 100); do
        grep -q "^listening on" "$work/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "^listening on" "$work/$name.out" || { cat "$work/$name.log" >&2; exit 1; }
    port=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$work/$name.out")
    for ((i = 0; i < skus; i++)); do
        post "$port" /add_batch "{\"ref\":\"batch-$i\",\"sku\":\"SKU-$i\",\"qty\":1000000000,\"eta\":null}"
    done
    # A short warm-up (connections, caches, the products loaded), then the measured run.
    SKUS=$skus wrk -t"$threads" -c"$connections" -d2s -s "$root/benchmarks/service_allocate.lua" \
        "http://127.0.0.1:$port" >/dev/null 2>&1
    result=$(SKUS=$skus wrk -t"$threads" -c"$connections" -d"$duration" -s "$root/benchmarks/service_allocate.lua" \
        "http://127.0.0.1:$port" 2>&1 | grep '^RESULT')
    kill -TERM "$service_pid"
    wait "$service_pid" || true
    service_pid=""
    if [ -f "$pg_state/url" ]; then "$root/scripts/postgres-test-server.sh" stop "$pg_state" >/dev/null; fi
    grep -h "transactions written" "$work/$name.log" | sed "s/^[^ ]* /$name: /" >&2 || true
    echo "$result" | awk -v name="$name" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-23s req/s=%s p50=%sms p90=%sms p99=%sms max=%sms non2xx=%s socket_errors=%s\n",
            name, v["req_per_s"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["non2xx"], v["socket_errors"]
    }' | tee -a "$work/lines"
}

# run NAME DATABASE_URL [service options...]: this build, after BASELINE when given.
run() {
    local name=$1
    shift
    if [ -n "${BASELINE:-}" ]; then
        measure "$BASELINE" "$name-baseline" "$@"
        measure "$service" "$name" "$@"
        tail -n 2 "$work/lines" | awk '{ split($2, kv, "="); r[NR] = kv[2] } END {
            if (r[1] > 0) printf "%-23s this build / baseline = %.2fx\n", "", r[2] / r[1] }'
    else
        measure "$service" "$name" "$@"
    fi
}

echo "wrk -t$threads -c$connections -d$duration, $skus SKUs, --threads ${service_threads:-default}, redis $redis_url, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $runs; do
    case "$r" in
        sqlite) run sqlite "sqlite:///$work/sqlite.db" ;;
        sqlite-normal) run sqlite-normal "sqlite:///$work/sqlite-normal.db" --durability normal ;;
        memory) run memory "memory://" ;;
        postgres) run postgres postgres ;;
        *) echo "service_load: unknown run $r (sqlite, sqlite-normal, postgres, memory)" >&2; exit 2 ;;
    esac
done
