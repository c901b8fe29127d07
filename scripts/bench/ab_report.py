#!/usr/bin/env python3
"""Compares the runs scripts/bench/ab.sh kept (OUT_DIR/a-N.txt, b-N.txt: the tables
scripts/bench.sh printed): per run and as medians, the reserve scenario of A and B, B over A,
and B's best available against B's reserve, with the targets of the holds issue.

Usage: ab_report.py OUT_DIR
"""
import pathlib
import re
import statistics
import sys

COLUMNS = ("rps", "holds", "p50", "p99", "non2xx", "s409", "s5xx")
LABELS = {"reserve": "reserve", "best available": "best", "pgbench ceiling": "pgbench"}


def table(path):
    """{scenario: {column: value}} from one bench.sh output."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        for label, name in LABELS.items():
            if line.startswith(label + " ") and name not in rows:
                numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", line[len(label):])]
                if name == "pgbench":
                    rows[name] = {"rps": numbers[0], "p50": numbers[1], "p99": numbers[2]}
                else:
                    rows[name] = dict(zip(COLUMNS, numbers))
    return rows


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = pathlib.Path(argv[0])
    runs = {side: [table(p) for p in sorted(out.glob(f"{side}-*.txt"), key=lambda p: int(p.stem[2:]))]
            for side in ("a", "b")}
    if not runs["a"] or not runs["b"] or any("reserve" not in r for r in runs["a"] + runs["b"]):
        print(f"ab_report.py: no complete a-N.txt and b-N.txt tables in {out}", file=sys.stderr)
        return 1

    def figures(side, scenario, column):
        return [r[scenario][column] for r in runs[side] if scenario in r]

    def median(side, scenario, column):
        values = figures(side, scenario, column)
        return statistics.median(values) if values else None

    print(f"{'':<22}{'per run':<32}{'median':>8}")
    for side, scenario in (("a", "reserve"), ("b", "reserve"), ("b", "best"), ("a", "pgbench"), ("b", "pgbench")):
        for column in ("rps", "holds", "p99") if scenario != "pgbench" else ("rps",):
            values = figures(side, scenario, column)
            if values:
                shown = " ".join(f"{v:g}" for v in values)
                print(f"{side.upper()} {scenario} {column:<{20 - len(scenario)}}{shown:<32}{median(side, scenario, column):>8g}")
    ratio = median("b", "reserve", "holds") / median("a", "reserve", "holds")
    per_round = [b["reserve"]["holds"] / a["reserve"]["holds"] for a, b in zip(runs["a"], runs["b"])]
    print(f"\nreserve holds/s, B / A: {ratio:.2f}x of the medians; per round "
          + " ".join(f"{r:.2f}" for r in per_round))
    targets = [("reserve (B, with a token) >= 0.9 x A", ratio >= 0.9, f"{ratio:.2f}x")]
    if median("b", "best", "holds") is not None:
        share = median("b", "best", "holds") / median("b", "reserve", "holds")
        p99 = median("b", "best", "p99")
        fives = max(figures("b", "best", "s5xx"))
        print(f"best available holds/s / reserve holds/s (B): {share:.2f}x")
        targets.append(("best available >= 0.5 x reserve, p99 <= 25 ms, no 5xx",
                        share >= 0.5 and p99 <= 25 and fives == 0, f"{share:.2f}x, p99 {p99:g} ms, {fives:g} 5xx"))
    print()
    for name, met, value in targets:
        print(f"  {'met    ' if met else 'NOT MET'}  {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
