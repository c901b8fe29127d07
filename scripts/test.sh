#!/usr/bin/env bash
# Runs every test of the workspace against a PostgreSQL server that
# scripts/ensure-postgres.sh finds or starts. Usage: ./scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_DATABASE_URL="$(scripts/ensure-postgres.sh)"
export TEST_DATABASE_URL
echo "test.sh: PostgreSQL for the tests at $TEST_DATABASE_URL" >&2

cargo test --workspace --all-targets --locked "$@"
