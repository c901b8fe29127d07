#!/usr/bin/env bash
# What CI runs end to end: the real binary on a fresh database with a 2 s TTL, walked by
# scripts/api_test_cases.sh, then stopped with SIGTERM (it must exit 0). Usage: scripts/ci-api-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TTL=2
STARTUP_SECONDS=30
SHUTDOWN_SECONDS=15

log() {
    echo "ci-api-test: $*" >&2
}

# with_database URL NAME: URL with its database (path) replaced by NAME, query kept.
with_database() {
    [[ $1 =~ ^([a-z]+://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || {
        log "cannot read a server URL from '$1'"
        exit 1
    }
    echo "${BASH_REMATCH[1]}/$2${BASH_REMATCH[3]}"
}

psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$(with_database "$SERVER_URL" postgres)" "$@"
}

WORK=$(mktemp -d)
SERVER_LOG=$WORK/server.log
SERVER_PID=""
API_PID=""
DATABASE=""
SHOW_LOG=1

# shellcheck disable=SC2317 # only reached through the EXIT trap
cleanup() {
    local status=$?
    if [[ -n $API_PID ]]; then
        kill -TERM "$API_PID" 2>/dev/null || true
    fi
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $SHOW_LOG -eq 1 && -s $SERVER_LOG ]]; then
        log "server log (last 200 lines):"
        tail -n 200 "$SERVER_LOG" >&2
    fi
    if [[ -n $DATABASE ]]; then
        psql_admin -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" ||
            log "could not drop database $DATABASE"
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

# The same server scripts/test.sh uses (a throwaway cluster under target/ when none runs).
SERVER_URL=$(scripts/ensure-postgres.sh)
log "PostgreSQL at $SERVER_URL"

DATABASE="ticketing_api_test_$(date +%s)_$$"
psql_admin -c "CREATE DATABASE \"$DATABASE\""

cargo build --locked -p ticketing-app
BINARY=${CARGO_TARGET_DIR:-target}/debug/ticketing

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL=http://127.0.0.1:$PORT

log "starting $BINARY on $BASE_URL (TTL $TTL s, database $DATABASE)"
DATABASE_URL=$(with_database "$SERVER_URL" "$DATABASE") \
    RESERVATION_TTL_SECONDS=$TTL HOST=127.0.0.1 PORT=$PORT NO_COLOR=1 \
    "$BINARY" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + STARTUP_SECONDS))
until curl -fsS --max-time 2 -o /dev/null "$BASE_URL/api/health" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        wait "$SERVER_PID" && status=0 || status=$?
        SERVER_PID=""
        log "the server exited with status $status before answering /api/health"
        exit 1
    fi
    if [[ $SECONDS -ge $deadline ]]; then
        log "/api/health did not answer 200 within $STARTUP_SECONDS s"
        exit 1
    fi
    sleep 0.2
done
log "server ready"

# In the background and waited for, so that the EXIT trap can stop it if this script is killed.
scripts/api_test_cases.sh "$BASE_URL" "$TTL" &
API_PID=$!
wait "$API_PID" && api_status=0 || api_status=$?
API_PID=""

if ! kill -TERM "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" && server_status=0 || server_status=$?
    SERVER_PID=""
    log "the server died during the walk (exit status $server_status)"
    exit 1
fi
deadline=$((SECONDS + SHUTDOWN_SECONDS))
while kill -0 "$SERVER_PID" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
    sleep 0.2
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server did not stop within $SHUTDOWN_SECONDS s of SIGTERM"
    exit 1
fi
wait "$SERVER_PID" && server_status=0 || server_status=$?
SERVER_PID=""
if [[ $server_status -ne 0 ]]; then
    log "the server exited with status $server_status after SIGTERM, expected 0"
    exit 1
fi
log "server stopped cleanly on SIGTERM"

if [[ $api_status -eq 0 ]]; then
    SHOW_LOG=0
fi
exit "$api_status"
