#!/usr/bin/env bash
# Fuzzes the live service against its own OpenAPI document with schemathesis: the real
# binary on a fresh database, tickets 1..50 seeded through the API in assorted states,
# every check schemathesis has (server errors, status codes, content types, headers and
# bodies not matching the document, refused valid data, accepted invalid data, ...).
# Exits non-zero on any failure; the server's log is shown then.
#
# Usage: scripts/schemathesis.sh [extra `schemathesis run` arguments, e.g. --seed N]
# SCHEMATHESIS_MAX_EXAMPLES (default 200) bounds the cases per operation and phase.
#
# schemathesis comes from PyPI, pinned, into a virtualenv under target/ that later runs
# reuse; it needs python3 with the venv module.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=${CARGO_TARGET_DIR:-target}/schemathesis-venv
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-200}
RUN_TIMEOUT_SECONDS=240
STARTUP_SECONDS=30
SHUTDOWN_SECONDS=15
SEEDED=50

log() {
    echo "schemathesis.sh: $*" >&2
}

# The virtualenv, created or repaired when it does not hold the pinned version.
if [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" != *" $SCHEMATHESIS_VERSION" ]]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

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
DATABASE=""
SHOW_LOG=1

# shellcheck disable=SC2317 # only reached through the EXIT trap
cleanup() {
    local status=$?
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

SERVER_URL=$(scripts/ensure-postgres.sh)
DATABASE="ticketing_schemathesis_$(date +%s)_$$"
psql_admin -c "CREATE DATABASE \"$DATABASE\""

cargo build --locked -p ticketing-app
BINARY=${CARGO_TARGET_DIR:-target}/debug/ticketing

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL=http://127.0.0.1:$PORT

# start_server TTL SWEEP_INTERVAL: the binary on the test database, in the background.
start_server() {
    log "starting $BINARY on $BASE_URL (TTL $1 s, sweep every $2 s)"
    DATABASE_URL=$(with_database "$SERVER_URL" "$DATABASE") \
        RESERVATION_TTL_SECONDS=$1 APP__RESERVATION__SWEEP_INTERVAL_SECONDS=$2 \
        HOST=127.0.0.1 PORT=$PORT NO_COLOR=1 \
        "$BINARY" serve >>"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    local deadline=$((SECONDS + STARTUP_SECONDS))
    until curl -fsS --max-time 2 -o /dev/null "$BASE_URL/api/health" 2>/dev/null; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "the server exited before answering /api/health"
            exit 1
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            log "/api/health did not answer 200 within $STARTUP_SECONDS s"
            exit 1
        fi
        sleep 0.2
    done
}

# stop_server: SIGTERM, and the server must exit 0 in time.
stop_server() {
    kill -TERM "$SERVER_PID"
    local deadline=$((SECONDS + SHUTDOWN_SECONDS))
    while kill -0 "$SERVER_PID" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
        sleep 0.1
    done
    local status=0
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    if [[ $status -ne 0 ]]; then
        log "the server exited with status $status after SIGTERM, expected 0"
        exit 1
    fi
}

# call METHOD PATH EXPECTED_STATUS [JSON_BODY]
call() {
    local args=(-sS -o /dev/null -w '%{http_code}' -X "$1" "$BASE_URL$2")
    if [[ $# -ge 4 ]]; then
        args+=(-H 'Content-Type: application/json' -d "$4")
    fi
    local status
    status=$(curl "${args[@]}")
    if [[ $status != "$3" ]]; then
        log "seeding: $1 $2 answered $status, expected $3"
        exit 1
    fi
}

# Seeding, first with a 1 s TTL (and no sweeper) to leave lapsed and expired holds:
#   31..38 EXPIRED (a confirm found them lapsed), 39..45 lapsed TENTATIVE (read EXPIRED);
# then with a TTL longer than the run:
#   1..10 held, 11..20 confirmed, 46 released, 21..30 and 47..50 never reserved.
start_server 1 0
for id in $(seq 1 $SEEDED); do
    call POST /api/tickets 201 "{\"event_name\": \"Schemathesis night $id\", \"seat\": \"S-$id\"}"
done
for id in $(seq 31 45); do call POST "/api/tickets/$id/reservation" 201; done
sleep 1.2
for id in $(seq 31 38); do call POST "/api/tickets/$id/confirm" 409; done
stop_server

start_server 3600 5
for id in $(seq 1 20) 46; do call POST "/api/tickets/$id/reservation" 201; done
for id in $(seq 11 20); do call POST "/api/tickets/$id/confirm" 200; done
call DELETE /api/tickets/46/reservation 200
log "seeded tickets 1..$SEEDED; running schemathesis $SCHEMATHESIS_VERSION (at most $MAX_EXAMPLES examples per operation)"

# Run from a fresh directory under target/: schemathesis and hypothesis keep caches in the
# working directory and replay earlier cases from them, which after a change of the
# document made schemathesis itself fail; each run starts clean instead.
RUN_DIR=${CARGO_TARGET_DIR:-target}/schemathesis-run
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
HOOKS_DIR=$PWD/scripts/schemathesis
SCHEMATHESIS=$PWD/$VENV/bin/schemathesis
[[ $VENV == /* ]] && SCHEMATHESIS=$VENV/bin/schemathesis
run_status=0
# One worker: with two threads, Python 3.11 sometimes failed inside schemathesis
# ("SystemError: AST constructor recursion depth mismatch"), a CPython race, not the API.
(cd "$RUN_DIR" && PYTHONPATH=$HOOKS_DIR SCHEMATHESIS_HOOKS=hooks \
    timeout "$RUN_TIMEOUT_SECONDS" "$SCHEMATHESIS" run "$BASE_URL/api/openapi.json" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --workers 1 \
    --request-timeout 10 \
    --no-color \
    "$@") || run_status=$?
if [[ $run_status -eq 124 ]]; then
    log "schemathesis did not finish within $RUN_TIMEOUT_SECONDS s"
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server died during the run"
    exit 1
fi
stop_server
if [[ $run_status -eq 0 ]]; then
    SHOW_LOG=0
    log "no failures"
fi
exit "$run_status"
