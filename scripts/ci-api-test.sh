#!/usr/bin/env bash
# What CI runs end to end: the real binary on a fresh database with a 2 s TTL and the
# expiry sweeper off (the walk reserves lapsed TENTATIVE rows as they are), walked by
# scripts/api_test_cases.sh, then stopped with SIGTERM (it must exit 0). Usage: scripts/ci-api-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LOG_PREFIX=ci-api-test
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

TTL=2
STARTUP_SECONDS=30
SHUTDOWN_SECONDS=15

WORK=$(mktemp -d)
SERVER_LOG=$WORK/server.log
API_PID=""
SHOW_LOG=1

# Registered first, so it runs last: after the service is killed and the database dropped.
# shellcheck disable=SC2317 # only reached through the EXIT trap
remove_work() {
    if [[ $SHOW_LOG -eq 1 && -s $SERVER_LOG ]]; then
        log "server log (last 200 lines):"
        tail -n 200 "$SERVER_LOG" >&2
    fi
    rm -rf "$WORK"
}
on_exit remove_work

# The same server scripts/test.sh uses (a throwaway cluster under target/ when none runs).
SERVER_URL=$(scripts/ensure-postgres.sh)
log "PostgreSQL at $(redact "$SERVER_URL")"
scratch_database "ticketing_api_test_$(date +%s)_$$"

cargo build --locked -p ticketing-app
BINARY=${CARGO_TARGET_DIR:-target}/debug/ticketing

PORT=$(free_port)
BASE_URL=http://127.0.0.1:$PORT

log "starting $BINARY on $BASE_URL (TTL $TTL s, no sweeper, database $SCRATCH_DATABASE)"
# No sweeper: the expiry cases reserve a hold straight from its lapsed TENTATIVE row, which
# a sweep in between would already have written EXPIRED.
start_service "$SERVER_LOG" env DATABASE_URL="$SCRATCH_URL" \
    RESERVATION_TTL_SECONDS=$TTL APP__RESERVATION__SWEEP_INTERVAL_SECONDS=0 \
    HOST=127.0.0.1 PORT="$PORT" NO_COLOR=1 "$BINARY" serve
wait_healthy "$BASE_URL" "$STARTUP_SECONDS"
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

if [[ $api_status -eq 0 ]]; then
    SHOW_LOG=0
fi
exit "$api_status"
