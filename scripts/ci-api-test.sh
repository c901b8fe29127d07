#!/usr/bin/env bash
# What CI runs end to end: the real binary on a fresh database with a 2 s TTL and the
# expiry sweeper off (the walk reserves lapsed TENTATIVE rows as they are), walked by
# scripts/api_test_cases.sh, then stopped with SIGTERM (it must exit 0). Usage: scripts/ci-api-test.sh
LOG_PREFIX=ci-api-test
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

TTL=2
SHUTDOWN_SECONDS=15
API_PID=""

# First, so that its exit hook runs last: after the service is killed and the database dropped.
work_dir
# The same server scripts/test.sh uses (a throwaway cluster under target/ when none runs).
find_postgres
scratch_database "ticketing_api_test_$(date +%s)_$$"
debug_binary
pick_port
# No sweeper: the expiry cases reserve a hold straight from its lapsed TENTATIVE row, which
# a sweep in between would already have written EXPIRED.
serve_without_sweeper "$TTL"
log "server ready"

# shellcheck disable=SC2317 # only reached through the EXIT trap
stop_walk() {
    if [[ -n $API_PID ]]; then
        kill -TERM "$API_PID" 2>/dev/null || true
    fi
}
on_exit stop_walk
# In the background and waited for, so that the EXIT trap can stop it if this script is killed.
scripts/api_test_cases.sh "$BASE_URL" "$TTL" &
API_PID=$!
wait "$API_PID" && api_status=0 || api_status=$?
API_PID=""

stop_service_expect_0 "$SHUTDOWN_SECONDS"
log "server stopped cleanly on SIGTERM"
exit "$api_status"
