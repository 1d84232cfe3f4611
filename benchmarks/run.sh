#!/usr/bin/env bash
# allocation benchmarks — builds the release-bench preset, runs every benchmark (the storage
# ones too: SQLite on a file in the results directory, PostgreSQL on a throwaway cluster), and
# writes benchmarks/RESULTS.md and benchmarks/allocations_per_second.png (gnuplot).
# SPDX-License-Identifier: MIT
# Usage: benchmarks/run.sh [extra Google Benchmark flags, e.g. --benchmark_min_time=2]
# Environment: REPETITIONS (default 3; the tables show medians), PIN_CPU (default 0: taskset
# the single-threaded benchmarks to that CPU; empty to not pin), STORAGE (default 1; 0 skips the
# SQLite and PostgreSQL benchmarks, whose tables are then left out).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin=build/release-bench/benchmarks
out=build/release-bench/results
reps="${REPETITIONS:-3}"
pin="${PIN_CPU-0}"
mkdir -p "$out"

cmake --workflow --preset release-bench >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

storage="${STORAGE:-1}"
pinned() { if [[ -n "$pin" ]] && command -v taskset >/dev/null; then taskset -c "$pin" "$@"; else "$@"; fi; }
common=(--benchmark_repetitions="$reps" --benchmark_display_aggregates_only=true --benchmark_format=console
        --benchmark_out_format=json)

echo "== domain_allocate"
pinned "$bin/domain_allocate" "${common[@]}" --benchmark_out="$out/domain_allocate.json" "$@"
echo "== bus_allocate"
pinned "$bin/bus_allocate" "${common[@]}" --benchmark_out="$out/bus_allocate.json" "$@"
echo "== memory_threads (not pinned; aborts on oversell)"
"$bin/memory_threads" "${common[@]}" --benchmark_out="$out/memory_threads.json" "$@" 2>"$out/memory_threads.stderr"
cat "$out/memory_threads.stderr"
grep -q OVERSOLD "$out/memory_threads.stderr" && { echo "OVERSOLD: see above" >&2; exit 1; }
echo "== strategy_compare"
pinned "$bin/strategy_compare" --benchmark_format=console --benchmark_out_format=json \
  --benchmark_out="$out/strategy_compare.json" "$@"

echo "== holds"
pinned "$bin/holds" "${common[@]}" --benchmark_out="$out/holds.json" "$@"
if [[ -x "$bin/sqlite_holds" ]]; then
  echo "== sqlite_holds (durable SQLite in $out; not pinned)"
  (cd "$out" && "$root/$bin/sqlite_holds" --benchmark_format=console --benchmark_out_format=json \
    --benchmark_out="sqlite_holds.json" "$@")
fi

rm -f "$out/sqlite_bus.json" "$out/postgres_bus.json" "$out/storage.txt"
if [[ "$storage" != 0 ]]; then
  # Not pinned: their threads wait for the disk. One repetition each: every run is 2 s per row.
  df -T "$out" | awk 'NR == 2 {print "filesystem: " $2 " (" $1 ")"}' >"$out/storage.txt"
  echo "== sqlite_bus (database in $out)"
  (cd "$out" && "$root/$bin/sqlite_bus" --benchmark_format=console --benchmark_out_format=json \
     --benchmark_out=sqlite_bus.json "$@")
  if [[ -x "$bin/postgres_bus" ]]; then
    echo "== postgres_bus (throwaway cluster: fsync on, synchronous_commit as each row says)"
    "$bin/postgres_bus" --benchmark_format=console --benchmark_out_format=json \
      --benchmark_out="$out/postgres_bus.json" "$@"
  fi
fi

python3 "$root/benchmarks/report.py" "$out" "$root/benchmarks"
echo "wrote benchmarks/RESULTS.md and benchmarks/allocations_per_second.png"
