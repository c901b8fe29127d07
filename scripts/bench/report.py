#!/usr/bin/env python3
"""Turns the raw results of scripts/bench.sh into its table: one row per scenario with
the median over the runs of every figure, the ratio to the pgbench ceiling, and whether
each target of the performance issues is met. With --check (the smoke pass) it fails
unless every scenario produced numbers, without any 5xx or malformed 409, and every
confirmation of reserve+confirm carried its hold's token (no 4xx but 409)."""

import argparse
import statistics
import sys
from collections import defaultdict

SCENARIOS = ["reserve", "reserve+confirm", "hot", "reads", "best"]
MIB = 1024.0


def parse(path):
    """{scenario: [{key: float}, ...one per run]} from `run<TAB>scenario<TAB>k=v k=v`."""
    runs = defaultdict(dict)
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line:
            continue
        run, scenario, pairs = line.split("\t")
        values = {}
        for pair in pairs.split():
            key, value = pair.split("=", 1)
            values[key] = float(value)
        runs[run][scenario] = values
    return runs


def derive(run, clock_ticks):
    """The figures of one run: rates, milliseconds, ratios."""
    ceiling = run.get("pgbench", {}).get("tps", 0.0)
    figures = {}
    for name in SCENARIOS:
        raw = run.get(name)
        if raw is None:
            continue
        seconds = raw["duration_us"] / 1e6 or 1.0
        rps = raw["requests"] / seconds
        figures[name] = {
            "rps": rps,
            "holds": raw["holds"] / seconds,
            "p50": raw["p50_us"] / 1000,
            "p99": raw["p99_us"] / 1000,
            "non2xx": raw["s409"] + raw["s4xx"] + raw["s5xx"] + raw["other"],
            "s409": raw["s409"],
            "s5xx": raw["s5xx"],
            "s4xx": raw["s4xx"],
            "bad409": raw["bad409"],
            "socket": raw["socket_errors"] + raw["timeouts"],
            "ratio": rps / ceiling if ceiling else 0.0,
            "rss": raw["rss_kib"] / MIB,
            # Service CPU per request, microseconds: what the service itself costs.
            "cpu_us": raw["cpu_ticks"] * 1e6 / clock_ticks / raw["requests"]
            if raw["requests"]
            else 0.0,
            "requests": raw["requests"],
            "foreign": raw.get("foreign_pct", -1.0),
        }
    if "pgbench" in run:
        raw = run["pgbench"]
        figures["pgbench"] = {
            "rps": raw["tps"],
            "p50": raw["p50_us"] / 1000,
            "p99": raw["p99_us"] / 1000,
            "failed": raw["failed"],
            "requests": raw["requests"],
            "foreign": raw.get("foreign_pct", -1.0),
        }
    if "startup" in run:
        raw = run["startup"]
        figures["startup"] = {
            "healthy_ms": raw["exec_to_healthy_ms"],
            "seed_ms": raw["seed_ms"],
            "rss": raw["rss_kib"] / MIB,
            "load_before": raw.get("load_before", -1.0),
            "load_after": run.get("load", {}).get("after", -1.0),
        }
    return figures


def median(per_run, scenario, key):
    values = [run[scenario][key] for run in per_run if scenario in run and key in run[scenario]]
    return statistics.median(values) if values else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--hot-connections", type=int, required=True)
    parser.add_argument("--hot-tickets", type=int, required=True)
    parser.add_argument("--best-connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--clock-ticks", type=float, default=100.0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    per_run = [derive(run, args.clock_ticks) for _, run in sorted(parse(args.results).items())]
    n = len(per_run)
    m = lambda scenario, key: median(per_run, scenario, key)

    print()
    print(
        f"{args.tickets} tickets; {args.seconds:g} s per scenario; {args.connections} connections "
        f"({args.hot_connections} on {args.hot_tickets} tickets for hot, {args.best_connections} for "
        "best available of 2); "
        + (f"median of {n} runs" if n > 1 else "1 run")
    )
    header = (
        f"{'scenario':<16}{'req/s':>9}{'holds/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'non-2xx':>9}{'409':>9}{'5xx':>6}{'bad 409':>8}{'sock err':>9}"
        f"{'x ceiling':>10}{'peak RSS':>10}{'CPU/req':>9}"
    )
    print(header)
    print("-" * len(header))
    labels = {"hot": "hot tickets", "best": "best available"}
    for scenario in SCENARIOS:
        if m(scenario, "rps") is None:
            continue
        print(
            f"{labels.get(scenario, scenario):<16}{m(scenario, 'rps'):>9.0f}"
            f"{m(scenario, 'holds'):>9.0f}{m(scenario, 'p50'):>8.2f}{m(scenario, 'p99'):>8.2f}"
            f"{m(scenario, 'non2xx'):>9.0f}{m(scenario, 's409'):>9.0f}{m(scenario, 's5xx'):>6.0f}"
            f"{m(scenario, 'bad409'):>8.0f}{m(scenario, 'socket'):>9.0f}"
            f"{m(scenario, 'ratio'):>9.2f}x{m(scenario, 'rss'):>6.1f} MiB"
            f"{m(scenario, 'cpu_us'):>6.0f} us"
        )
    if m("pgbench", "rps") is not None:
        print(
            f"{'pgbench ceiling':<16}{m('pgbench', 'rps'):>9.0f}{'':>9}"
            f"{m('pgbench', 'p50'):>8.2f}{m('pgbench', 'p99'):>8.2f}"
            f"{'':>9}{'':>9}{'':>6}{'':>8}{'':>9}{1:>9.2f}x"
        )
    print()
    peak = max(
        [run[s]["rss"] for run in per_run for s in SCENARIOS + ["startup"] if s in run] or [0]
    )
    healthy = m("startup", "healthy_ms")
    seed_ms = m("startup", "seed_ms")
    if healthy is not None:
        print(f"exec to healthy /api/health (migrated database): {healthy:.0f} ms")
        print(f"seeding {args.tickets} tickets (ticketing seed, whole command): {seed_ms:.0f} ms")
    print(f"peak RSS of the service over all scenarios and runs: {peak:.1f} MiB")
    loads = [
        f"{run['startup']['load_before']:.2f} -> {run['startup']['load_after']:.2f}"
        for run in per_run
        if "startup" in run
    ]
    print(f"1-minute load average before -> after each run (2 cores): {', '.join(loads)}")
    foreign = [
        f"{labels.get(scenario, scenario)} {m(scenario, 'foreign'):.1f}%"
        for scenario in SCENARIOS + ["pgbench"]
        if m(scenario, "foreign") is not None
    ]
    if args.seconds >= 5:
        print(f"CPU used by other processes during each scenario (share of all cores): {', '.join(foreign)}")
    else:
        # Per-process CPU time comes in 10 ms ticks: over a second, rounding swamps it.
        print("CPU used by other processes: not measured in scenarios shorter than 5 s")
    if n > 1:
        for scenario in SCENARIOS + ["pgbench"]:
            values = [f"{run[scenario]['rps']:.0f}" for run in per_run if scenario in run]
            print(f"  {scenario} req/s per run: {' '.join(values)}")
        for scenario in ("reserve", "best"):
            values = [f"{run[scenario]['holds']:.0f}" for run in per_run if scenario in run]
            print(f"  {scenario} holds/s per run: {' '.join(values)}")

    reserve_rps, hot_rps = m("reserve", "rps"), m("hot", "rps")
    reserve_holds, best_holds = m("reserve", "holds"), m("best", "holds")
    targets = []
    if reserve_rps is not None and m("pgbench", "rps"):
        ratio, fives = m("reserve", "ratio"), max(r["reserve"]["s5xx"] for r in per_run)
        targets.append(("reserve >= 0.7 x pgbench ceiling, no 5xx", ratio >= 0.7 and fives == 0,
                        f"{ratio:.2f}x, {fives:.0f} 5xx"))
        p99 = m("reserve", "p99")
        targets.append(("reserve p99 <= 25 ms", p99 <= 25, f"{p99:.2f} ms"))
    if hot_rps is not None and reserve_rps:
        fives = max(r["hot"]["s5xx"] for r in per_run)
        bad = max(r["hot"]["bad409"] for r in per_run)
        share = hot_rps / reserve_rps
        targets.append(("hot >= 0.5 x reserve, no 5xx, every 409 an envelope",
                        share >= 0.5 and fives == 0 and bad == 0,
                        f"{share:.2f}x, {fives:.0f} 5xx, {bad:.0f} malformed 409"))
    if best_holds is not None and reserve_holds:
        fives = max(r["best"]["s5xx"] for r in per_run)
        share, p99 = best_holds / reserve_holds, m("best", "p99")
        targets.append(("best available holds/s >= 0.5 x reserve holds/s, p99 <= 25 ms, no 5xx",
                        share >= 0.5 and p99 <= 25 and fives == 0,
                        f"{share:.2f}x ({best_holds:.0f} against {reserve_holds:.0f}), p99 {p99:.2f} ms, "
                        f"{fives:.0f} 5xx"))
    targets.append(("peak RSS <= 64 MiB", peak <= 64, f"{peak:.1f} MiB"))
    if healthy is not None:
        targets.append(("exec to healthy <= 1 s", healthy <= 1000, f"{healthy:.0f} ms"))
    print()
    for name, met, value in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {name}: {value}")

    if args.check:
        problems = []
        for index, run in enumerate(per_run, start=1):
            for scenario in SCENARIOS:
                figures = run.get(scenario)
                if figures is None or figures["requests"] <= 0:
                    problems.append(f"run {index}: {scenario} produced no requests")
                    continue
                if figures["s5xx"] > 0:
                    problems.append(f"run {index}: {scenario} had {figures['s5xx']:.0f} 5xx")
                if figures["bad409"] > 0:
                    problems.append(f"run {index}: {scenario} had malformed 409 bodies")
            if run.get("reserve", {}).get("holds", 0) <= 0:
                problems.append(f"run {index}: reserve granted no holds")
            if run.get("best", {}).get("holds", 0) <= 0:
                problems.append(f"run {index}: best available granted no holds")
            if run.get("reserve+confirm", {}).get("s4xx", 0) > 0:
                problems.append(f"run {index}: reserve+confirm had {run['reserve+confirm']['s4xx']:.0f} 4xx "
                                "other than 409 (a confirmation without its hold's token?)")
            if run.get("pgbench", {}).get("rps", 0) <= 0:
                problems.append(f"run {index}: pgbench produced no transactions")
            if run.get("startup", {}).get("healthy_ms") is None:
                problems.append(f"run {index}: no start-up time")
        if problems:
            for problem in problems:
                print(f"bench --smoke: {problem}", file=sys.stderr)
            return 1
        print("\nbench --smoke: every scenario produced numbers, no 5xx, no malformed 409, "
              "every confirmation carried its token")
    return 0


if __name__ == "__main__":
    sys.exit(main())
