#!/usr/bin/env bash
# Runs every test of the workspace against a PostgreSQL server that
# scripts/ensure-postgres.sh finds or starts, then the HTTP contract walk and schemathesis
# against the real binary. Usage: ./scripts/test.sh [cargo test args to run only some tests]
LOG_PREFIX=test.sh
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

TEST_DATABASE_URL="$(scripts/ensure-postgres.sh)"
export TEST_DATABASE_URL
log "PostgreSQL for the tests at $(redact "$TEST_DATABASE_URL")"

# With arguments (`-p ticketing-postgres`, a test name, ...) cargo runs just what they
# select; `--workspace` would override a `-p`.
if [[ $# -eq 0 ]]; then
    cargo test --workspace --all-targets --locked
else
    cargo test --locked "$@"
fi

# The real binary on a fresh database with a 2 s TTL, walked through the whole HTTP
# contract; skipped when arguments narrow the run to some tests.
if [[ $# -eq 0 ]]; then
    scripts/ci-api-test.sh
    # The benchmark harness, seconds long: every scenario produces numbers, no 5xx. On the
    # debug binary the tests built (a no-op build): it checks the harness, not the speed.
    debug_binary
    BENCH_BINARY=$BINARY scripts/bench.sh --smoke
    # schemathesis against the live service and its OpenAPI document (seeded tickets).
    scripts/schemathesis.sh
    # The alert rules, their promtool unit tests and the dashboard's queries.
    scripts/check-alerts.sh
fi
