#!/usr/bin/env bash
# An A/B of two builds on this machine, interleaved (A B A B ...) so that whatever else the
# machine does hits both alike: each round runs A's own scripts/bench.sh in A's work tree
# with A's binary, then this tree's scripts/bench.sh with B's binary (each a full run on a
# fresh database), keeps every run's output, then prints the comparison
# (scripts/bench/ab_report.py). BENCHMARKS.md says how its figures were made with it.
#
# Usage: scripts/bench/ab.sh A_WORKTREE A_BINARY B_BINARY [ROUNDS (3)] [OUT_DIR]
#   e.g. scripts/bench/ab.sh /work/wt/before /work/target-before/release/ticketing \
#            /work/target-scripts/release/ticketing 3
# The bench.sh environment (BENCH_SECONDS, BENCH_COUNT, ...) applies to both.
LOG_PREFIX=bench-ab
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../lib.sh"

[[ $# -ge 3 ]] || { sed -n '8,11p' "$0" >&2; exit 2; }
A_TREE=$(cd "$1" && pwd)
A_BINARY=$(realpath "$2")
B_BINARY=$(realpath "$3")
ROUNDS=${4:-3}
OUT=${5:-$(mktemp -d -t ticketing-ab.XXXXXX)}
[[ -x $A_TREE/scripts/bench.sh ]] || die "$A_TREE has no scripts/bench.sh"
[[ -x $A_BINARY && -x $B_BINARY ]] || die "both binaries must be executables"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
mkdir -p "$OUT"
log "A: $A_BINARY (scripts of $A_TREE, $(git -C "$A_TREE" rev-parse --short HEAD))"
log "B: $B_BINARY (scripts of $PWD, $(git rev-parse --short HEAD) + working tree)"

for round in $(seq 1 "$ROUNDS"); do
    log "round $round/$ROUNDS: A"
    (cd "$A_TREE" && BENCH_BINARY=$A_BINARY scripts/bench.sh) >"$OUT/a-$round.txt"
    log "round $round/$ROUNDS: B"
    BENCH_BINARY=$B_BINARY scripts/bench.sh >"$OUT/b-$round.txt"
done
log "outputs in $OUT"
python3 scripts/bench/ab_report.py "$OUT"
