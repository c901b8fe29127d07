#!/usr/bin/env bash
# Walks the whole HTTP contract (README "API") against a running service: one PASS/FAIL line
# per case, exit 1 on any failure, 2 on a usage error. The walk is scripts/api_walk.py.
# Usage: scripts/api_test_cases.sh BASE_URL [TTL_SECONDS]   (see scripts/api_walk.py --help)
if ! command -v python3 >/dev/null; then
    echo "api_test_cases.sh: 'python3' is required but not installed" >&2
    exit 2
fi
exec python3 "$(dirname "$0")/api_walk.py" "$@"
