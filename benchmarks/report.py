#!/usr/bin/env python3
# allocation benchmarks — turns the JSON results of run.sh into benchmarks/RESULTS.md and the
# chart benchmarks/allocations_per_second.png (gnuplot).
# SPDX-License-Identifier: MIT
# Usage: report.py <results dir> <benchmarks dir>
import datetime
import json
import os
import platform
import re
import subprocess
import sys

results, bench_dir = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.abspath(bench_dir))


def load(name):
    with open(os.path.join(results, name + ".json")) as f:
        return json.load(f)


def medians(data):
    """run name -> median row (or the only row without repetitions)."""
    out = {}
    for b in data["benchmarks"]:
        agg = b.get("aggregate_name")
        if agg in (None, "", "median"):
            out[b.get("run_name", b["name"])] = b
        elif agg in ("BigO", "RMS"):
            out[b["name"]] = b
    return out


def mps(x):
    return f"{x / 1e6:.2f} M/s"


def cache_value(key):
    path = os.path.join(root, "build/release-bench/CMakeCache.txt")
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split("=", 1)[1].strip()
    return ""


cpu = "unknown"
with open("/proc/cpuinfo") as f:
    text = f.read()
m = re.search(r"model name\s*:\s*(.*)", text)
if m:
    cpu = m.group(1).strip()
cores = text.count("processor\t:")
mhz = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
compiler = cache_value("CMAKE_CXX_COMPILER")
version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
flags = (cache_value("CMAKE_CXX_FLAGS") + " " + cache_value("CMAKE_CXX_FLAGS_RELEASE")).strip()
domain = load("domain_allocate")
ctx = domain["context"]
load_avg = ", ".join(f"{x:.2f}" for x in ctx.get("load_avg", []))

d = medians(domain)
bus = medians(load("bus_allocate"))
threads = medians(load("memory_threads"))
compare = medians(load("strategy_compare"))

lines = []
w = lines.append
w("# Benchmark results")
w("")
w("Written by `benchmarks/run.sh` (do not edit by hand; the analysis below the tables is kept in")
w("`benchmarks/ANALYSIS.md` and copied in).")
w("")
w(f"- date of the run: {ctx.get('date', '')} (report written"
  f" {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})")
w(f"- machine: {cpu}, {cores} logical CPUs" + (f" at {float(mhz.group(1)):.0f} MHz" if mhz else "") +
  f", {platform.system()} {platform.release()}")
w(f"- load average when the domain benchmark started: {load_avg} (other jobs shared the machine)")
w(f"- compiler: {version} (`{compiler}`)")
w(f"- flags: `{flags}` (preset `release-bench`, `-std=c++20`)")
w(f"- Google Benchmark ({ctx.get('library_build_type', '')} build of the library"
  " itself, as Debian ships it; it only times the loop)")
w(f"- repetitions: medians of {os.environ.get('REPETITIONS', '3')}; single-threaded runs pinned to one CPU with taskset")
w("- reproduce: `benchmarks/run.sh` (or one executable, e.g."
  " `build/release-bench/benchmarks/domain_allocate --benchmark_filter=open/10$`)")
w("")

open10 = d["allocate/open/10"]["items_per_second"]
full100k = d["allocate/99pct_full/100000"]["items_per_second"]
bus_rate = bus["bus/no_observers"]["items_per_second"]
w("## Targets")
w("")
w("| target | measured | status |")
w("|---|---|---|")
w(f"| domain allocate, 10 batches, one core: ≥ 10 M/s | {mps(open10)} | "
  f"{'met' if open10 >= 10e6 else f'not met ({open10 / 10e6:.0%} of it)'} |")
w(f"| 100,000 batches, 99% full: within 4x of the 10-batch figure (≥ {mps(open10 / 4)}) | {mps(full100k)} "
  f"({open10 / full100k:.2f}x slower) | {'met' if full100k * 4 >= open10 else 'not met'} |")
w(f"| bus, in-memory unit of work: ≥ 1 M Allocate/s | {mps(bus_rate)} | "
  f"{'met' if bus_rate >= 1e6 else f'not met ({bus_rate / 1e6:.0%} of it)'} |")
w("")

w("## Domain allocate (`domain_allocate`)")
w("")
w("One new order line of one unit per iteration, events dropped each time; CPU time per allocation.")
w("")
w("| batches | open: allocations/s | ns | 99% full: allocations/s | ns |")
w("|---:|---:|---:|---:|---:|")
chart = []
for n in [1, 10, 100, 1000, 10000, 100000]:
    o = d[f"allocate/open/{n}"]
    f_ = d[f"allocate/99pct_full/{n}"]
    w(f"| {n:,} | {mps(o['items_per_second'])} | {o['cpu_time']:.0f} | {mps(f_['items_per_second'])} | {f_['cpu_time']:.0f} |")
    chart.append((n, o["items_per_second"], f_["items_per_second"]))
for fam in ["allocate/open", "allocate/99pct_full"]:
    big = d.get(fam + "_BigO")
    rms = d.get(fam + "_RMS")
    if big:
        w("")
        w(f"Fit `{fam}`: {big.get('cpu_coefficient', 0):.1f} · lg N ns"
          + (f" (RMS {rms.get('rms', 0) * 100:.0f}%)" if rms else "") + ".")
w("")
w("Other strategies, 99% of batches full:")
w("")
w("| strategy | 10 batches | 100,000 batches |")
w("|---|---:|---:|")
for s in ["fifo", "fefo", "best_fit"]:
    a = d.get(f"allocate_{s}/99pct_full/10")
    b = d.get(f"allocate_{s}/99pct_full/100000")
    if a and b:
        w(f"| {s} | {mps(a['items_per_second'])} | {mps(b['items_per_second'])} |")
w("")
w("![allocations per second against batch count](allocations_per_second.png)")
w("")

w("## Message bus, in-memory unit of work (`bus_allocate`)")
w("")
w("| row | commands/s | ns per command | what it adds |")
w("|---|---:|---:|---|")
what = {"handler_only": "handlers::allocate on a memory unit of work",
        "bus/no_observers": "bus.handle(): event collection and dispatch, no observer",
        "bus/observers": "allocations view + publisher + notifications observing"}
prev = None
for k in ["handler_only", "bus/no_observers", "bus/observers"]:
    r = bus[k]
    extra = f" (+{r['cpu_time'] - prev:.0f} ns)" if prev is not None else ""
    w(f"| {k} | {mps(r['items_per_second'])} | {r['cpu_time']:.0f}{extra} | {what[k]} |")
    prev = r["cpu_time"]
w("")

w("## Threads through the in-memory store (`memory_threads`)")
w("")
w("Wall-clock throughput of all threads together; the oversell check after each run passed")
w("(the run aborts otherwise; see the `no oversell` lines of `memory_threads.stderr`).")
w("")
w("| workload | threads | commands/s | OutOfStock per thread |")
w("|---|---:|---:|---:|")
for k in sorted(threads):
    r = threads[k]
    m_ = re.match(r"(\w+)/iterations:\d+/real_time/threads:(\d+)", k)
    if not m_:
        continue
    w(f"| {m_.group(1)} | {m_.group(2)} | {mps(r['items_per_second'])} | {r.get('out_of_stock', 0):.0f} |")
w("")

w("## Strategies on a generated workload (`strategy_compare`)")
w("")
w("500 SKUs, 2–12 batches each (two thirds arriving with ETAs, four fifths with expiry dates, some")
w("already past), 5,000 orders of 1–5 lines on a skewed choice of SKUs, seed 20261126. Orders all")
w("or nothing; `whole` never splits a line, `split` splits where no batch takes a line whole.")
w("")
w("| strategy | lines | fill rate | orders filled | OutOfStock | split lines | expired units allocated | ms per workload | lines/s |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for k, r in compare.items():
    parts = k.split("/")
    if len(parts) < 3:
        continue
    w(f"| {parts[1]} | {parts[2]} | {r['fill_rate']:.1%} | {r['orders_filled']:.0f} | {r['out_of_stock']:.0f} | "
      f"{r['split_lines']:.0f} | {r['expired_units']:.0f} | {r['cpu_time']:.2f} | {mps(r['lines_per_second'])} |")
w("")

def load_optional(name):
    path = os.path.join(results, name + ".json")
    return medians(load(name)) if os.path.exists(path) else {}


holds = load_optional("holds")
if holds:
    w("## Holds and backorders (`holds`)")
    w("")
    w("CPU time, one core. A pair is one Hold and one ConfirmHold of one unit through `bus.handle()`")
    w("on the in-memory store (10 batches); expiry is exact at the deadline (advance) and the sweep")
    w("publishes HoldExpired for each; a fill allocates one queued unit per backorder from one arrival.")
    w("")
    w("| row | result | per item |")
    w("|---|---:|---:|")
    pair = holds.get("bus/hold_confirm")
    if pair:
        w(f"| hold + confirm through the bus, in memory | {pair['items_per_second'] / 1e3:.0f} k pairs/s | "
          f"{pair['cpu_time']:.0f} ns |")
    for key, label in (("product/expire/1000000/iterations:3", "expiring 1,000,000 holds of one product"),
                       ("product/fill/100000/iterations:5", "filling 100,000 backorders from one arrival")):
        r = holds.get(key)
        if r:
            w(f"| {label} | {r['cpu_time']:.0f} ms | {r['cpu_time'] * 1e6 / float(key.split('/')[2]):.0f} ns |")
    w("")

sqlite_holds = load_optional("sqlite_holds")
if sqlite_holds:
    w("## Holds on durable SQLite (`sqlite_holds`)")
    w("")
    w("Wall-clock pairs (Hold + ConfirmHold, two commits) acknowledged per second through the bus on")
    w("SQLite with `synchronous=FULL`; one SKU for every thread (a hot SKU), or a SKU per thread.")
    w("")
    w("| SKUs | threads | pairs/s | commands per transaction |")
    w("|---|---:|---:|---:|")
    for k, r in sqlite_holds.items():
        m_ = re.match(r"hold_confirm/one_sku:(\d)/.*threads:(\d+)", k)
        if not m_:
            continue
        w(f"| {'one' if m_.group(1) == '1' else 'one per thread'} | {m_.group(2)} | "
          f"{r['items_per_second']:.0f} | {r.get('per_txn', 0):.1f} |")
    w("")

# The storage benchmarks (run.sh runs them unless STORAGE=0): one run each, rows as measured.
def optional(name):
    path = os.path.join(results, name + ".json")
    return load(name) if os.path.exists(path) else None


def rows(data):
    """(fields of the name, row) for each per-run row."""
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, ""):
            continue
        fields = dict(part.split(":", 1) for part in b["name"].split("/")[1:] if ":" in part)
        yield fields, b


def when(data):
    c = data["context"]
    return (f"{c.get('date', '')}, load average " + ", ".join(f"{x:.2f}" for x in c.get("load_avg", [])))


storage_fs = ""
if os.path.exists(os.path.join(results, "storage.txt")):
    with open(os.path.join(results, "storage.txt")) as f:
        storage_fs = f.read().strip()

sq = optional("sqlite_bus")
if sq:
    w("## Message bus on SQLite (`sqlite_bus`)")
    w("")
    w(f"Run by `benchmarks/run.sh` ({when(sq)}); the database file is in the results directory"
      + (f" ({storage_fs})" if storage_fs else "") + ". Each row: that many threads send")
    w("`bus.handle(Allocate)` of one unit at once; a command is counted when `handle` returns, i.e. once")
    w("the transaction holding it is durable as the durability says. `spread`: each thread on its own")
    w("SKU; `hot`: every thread on the same SKU. per txn: commands per SQLite transaction (the group")
    w("commit's batch); pages: database pages written per command (WAL frames); failed: commands that")
    w("did not succeed, per thread.")
    w("")
    w("| durability | workload | threads | Allocate commands/s | per txn | pages | failed |")
    w("|---|---|---:|---:|---:|---:|---:|")
    names = {"0": "FULL (WAL, `synchronous=FULL`: survives power loss)",
             "1": "NORMAL (WAL, `synchronous=NORMAL`: survives a process crash)"}
    for fields, r in rows(sq):
        durability = names.get(fields.get("normal", ""), fields.get("normal", ""))
        names[fields.get("normal", "")] = durability.split(" ")[0]  # spelled out once
        w(f"| {durability} | {'hot' if fields.get('hot') == '1' else 'spread'} | {fields.get('threads', '')} | "
          f"{r['items_per_second'] / 1e3:.1f} k/s | {r.get('per_txn', 0):.1f} | {r.get('pages', 0):.1f} | "
          f"{r.get('failed', 0):.0f} |")
    w("")

pg = optional("postgres_bus")
if pg:
    w("## Message bus on PostgreSQL (`postgres_bus`)")
    w("")
    w(f"Run by `benchmarks/run.sh` ({when(pg)}) on a throwaway PostgreSQL 15 cluster with `fsync` on.")
    w("`synchronous_commit=on`: a command is acknowledged once its WAL is flushed; `off`: the benchmark's")
    w("sessions do not wait for the flush. `spread`: each thread on 1,024 products of its own, most met")
    w("for the first time in the run; `warm`: each thread on 8 products of its own; `hot`: every thread")
    w("on one product at a time. store: `postgres::store` (a transaction per command) or")
    w("`postgres::grouped_store` (the commits queued meanwhile in one transaction); per txn: commands per")
    w("transaction.")
    w("")
    w("| synchronous_commit | workload | store | threads | Allocate commands/s | per txn | failed |")
    w("|---|---|---|---:|---:|---:|---:|")
    for fields, r in rows(pg):
        workload = "hot" if fields.get("hot") == "1" else ("warm" if fields.get("warm") == "1" else "spread")
        store = "grouped" if fields.get("grouped") == "1" else "store"
        w(f"| {'on' if fields.get('sync') == '1' else 'off'} | {workload} | {store} | "
          f"{fields.get('threads', '')} | {r['items_per_second'] / 1e3:.2f} k/s | {r.get('per_txn', 0):.1f} | "
          f"{r.get('failed', 0):.0f} |")
    w("")

# Hand-written analysis, then the storage and service figures measured by their own commands.
for extra in ("ANALYSIS.md", "STORAGE.md"):
    path = os.path.join(bench_dir, extra)
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if text.startswith("<!--"):
            text = text[text.index("-->") + 3:]
        w(text.strip())
        w("")

with open(os.path.join(bench_dir, "RESULTS.md"), "w") as f:
    f.write("\n".join(lines))

dat = os.path.join(results, "chart.dat")
with open(dat, "w") as f:
    for n, o, fu in chart:
        f.write(f"{n} {o / 1e6} {fu / 1e6}\n")
png = os.path.join(bench_dir, "allocations_per_second.png")
y_top = max([12.0] + [max(o, fu) / 1e6 * 1.25 for _, o, fu in chart])
script = f"""
set terminal pngcairo size 900,540 font ",11"
set output "{png}"
set title "Domain allocate, one core ({cpu})"
set xlabel "batches of the SKU"
set ylabel "allocations per second (millions)"
set logscale x
set xrange [0.7:150000]
set yrange [0:{y_top:.1f}]
set grid
set key top right
plot "{dat}" using 1:2 with linespoints lw 2 pt 7 title "every batch open", \\
     "{dat}" using 1:3 with linespoints lw 2 pt 5 title "99% of batches full", \\
     10 with lines dt 2 lc rgb "#888888" title "target: 10 M/s at 10 batches", \\
     {open10 / 4e6} with lines dt 3 lc rgb "#aa4444" title "within 4x of the 10-batch figure"
"""
subprocess.run(["gnuplot"], input=script, text=True, check=True)
