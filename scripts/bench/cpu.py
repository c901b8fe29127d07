#!/usr/bin/env python3
"""How quiet the machine was during a scenario of scripts/bench.sh.

`cpu.py snapshot FILE` records the machine's busy CPU time and every process's CPU time;
`cpu.py foreign BEFORE AFTER --database NAME --pid PID...` prints the share of the
machine's capacity (all cores) that processes other than the benchmark's own used between
the two snapshots. The benchmark's own are the given pids (the service, the load
generator), the PostgreSQL backends serving database NAME, and the PostgreSQL server's
background processes (WAL writer, checkpointer, ...). Everything else, such as compilers
and other people's tests (their PostgreSQL backends included), is foreign."""

import argparse
import json
import os
import sys
import time

# PostgreSQL's own background processes, named in their process titles.
PG_BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum",
    "logical replication launcher",
    "stats collector",
    "archiver",
)


def snapshot():
    started = time.monotonic()
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()[1:]
    # user nice system idle iowait irq softirq: busy is the time processes ran (user, nice,
    # system); interrupts are left out, as loopback networking runs there for everyone.
    values = [int(value) for value in fields[:3]]
    busy = sum(values)
    processes = {}
    for entry in os.listdir("/proc"):
        # Not this snapshot itself: measuring is part of the benchmark.
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                raw = stat.read()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                title = cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue  # gone meanwhile
        after_name = raw[raw.rfind(")") + 2 :].split()
        ticks = int(after_name[11]) + int(after_name[12])  # utime + stime
        if not title.strip():
            title = "[" + raw[raw.find("(") + 1 : raw.rfind(")")] + "]"
        processes[entry] = {"title": title[:200], "ticks": ticks}
    return {"time": started, "busy": busy, "processes": processes}


def is_ours(pid, process, pids, database):
    title = process["title"]
    if pid in pids:
        return True
    if title.startswith("postgres:"):
        return f" {database} " in title or any(name in title for name in PG_BACKGROUND)
    return False


def foreign(before, after, pids, database):
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    capacity = (after["time"] - before["time"]) * ticks_per_second * os.cpu_count()
    ours = 0
    for pid, process in after["processes"].items():
        if is_ours(pid, process, pids, database):
            previous = before["processes"].get(pid)
            ours += process["ticks"] - (previous["ticks"] if previous else 0)
    others = max(after["busy"] - before["busy"] - ours, 0)
    return 100.0 * others / capacity if capacity > 0 else 0.0


def top_foreign(before, after, pids, database, count=8):
    """The foreign processes that used the most CPU between the snapshots."""
    rows = []
    for pid, process in after["processes"].items():
        if not is_ours(pid, process, pids, database):
            previous = before["processes"].get(pid)
            used = process["ticks"] - (previous["ticks"] if previous else 0)
            if used > 0:
                rows.append((used, pid, process["title"][:80]))
    return sorted(rows, reverse=True)[:count]


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    take = sub.add_parser("snapshot")
    take.add_argument("file")
    compare = sub.add_parser("foreign")
    compare.add_argument("before")
    compare.add_argument("after")
    compare.add_argument("--database", required=True)
    compare.add_argument("--pid", action="append", default=[])
    compare.add_argument("--top", action="store_true", help="also list the busiest foreign processes")
    args = parser.parse_args()
    if args.command == "snapshot":
        with open(args.file, "w", encoding="utf-8") as out:
            json.dump(snapshot(), out)
        return 0
    with open(args.before, encoding="utf-8") as first, open(args.after, encoding="utf-8") as second:
        share = foreign(json.load(first), json.load(second), set(args.pid), args.database)
    print(f"{share:.1f}")
    if args.top:
        with open(args.before, encoding="utf-8") as first, open(args.after, encoding="utf-8") as second:
            rows = top_foreign(json.load(first), json.load(second), set(args.pid), args.database)
        for used, pid, title in rows:
            print(f"  {used:6d} ticks  {pid:>7}  {title}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
