# shellcheck shell=bash
# Start-up code the scripts share; sourced, not run. Sourcing it sets -euo pipefail and
# changes to the repository root:
#   LOG_PREFIX=name
#   # shellcheck source=scripts/lib.sh
#   source "$(dirname "$0")/lib.sh"     (run.sh, at the root: source "$(dirname "$0")/scripts/lib.sh")
# Globals it keeps: SERVER_URL (a server URL, see ensure-postgres.sh and find_postgres),
# SCRATCH_DATABASE, SCRATCH_URL, SERVICE_PID, PSQL, EXIT_STATUS (inside exit hooks), WORK and
# SERVER_LOG (work_dir), BINARY (debug_binary), PORT and BASE_URL (pick_port).
# shellcheck disable=SC2034 # the globals are for the scripts that source this
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "${LOG_PREFIX:-${0##*/}}: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# with_database URL NAME: URL with its database (path) replaced by NAME, query kept.
with_database() {
    [[ $1 =~ ^([a-z]+://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || die "cannot read a server URL from '$(redact "$1")'"
    echo "${BASH_REMATCH[1]}/$2${BASH_REMATCH[3]}"
}

# redact URL: the URL without its password, for messages.
redact() {
    sed -E 's#^([a-z]+://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}

# pg_program NAME: a PostgreSQL client program, from PATH or else the newest
# /usr/lib/postgresql/*/bin (Debian keeps some off PATH); empty when there is none.
pg_program() {
    local found candidate
    found=$(command -v "$1" || true)
    if [[ -z $found ]]; then
        while read -r candidate; do
            if [[ -x $candidate ]]; then found=$candidate; fi
        done < <(printf '%s\n' /usr/lib/postgresql/*/bin/"$1" | sort -V)
    fi
    echo "$found"
}
PSQL=$(pg_program psql)

# psql_admin ARGS...: psql on the `postgres` database of $SERVER_URL, stopping at the first error.
psql_admin() {
    [[ -n $PSQL ]] || die "psql not found: apt-get install postgresql-client"
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$(with_database "$SERVER_URL" postgres)" "$@"
}

# pick_port: a free PORT on 127.0.0.1 and its BASE_URL, for the service to listen on.
PORT=""
BASE_URL=""
pick_port() {
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    BASE_URL=http://127.0.0.1:$PORT
}

# find_postgres: SERVER_URL, the server scripts/ensure-postgres.sh finds or starts.
find_postgres() {
    SERVER_URL=$(scripts/ensure-postgres.sh)
    log "PostgreSQL at $(redact "$SERVER_URL")"
}

# debug_binary: builds the debug binary; BINARY is its path.
BINARY=""
debug_binary() {
    cargo build --locked -p ticketing-app
    BINARY=${CARGO_TARGET_DIR:-target}/debug/ticketing
}

# --- exit hooks: on_exit FUNCTION runs FUNCTION when the script exits, the latest first;
# the script's exit status is kept (and is in EXIT_STATUS meanwhile).
EXIT_HOOKS=()
# shellcheck disable=SC2317 # only reached through the EXIT trap
run_exit_hooks() {
    EXIT_STATUS=$?
    local i
    for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
        "${EXIT_HOOKS[i]}" || true
    done
    exit "$EXIT_STATUS"
}
on_exit() {
    local hook
    for hook in "${EXIT_HOOKS[@]}"; do
        if [[ $hook == "$1" ]]; then return 0; fi
    done
    EXIT_HOOKS+=("$1")
    trap run_exit_hooks EXIT
}

# --- work directory: work_dir makes WORK (SERVER_LOG is the service's log in it) and
# removes it on exit, showing the log's last 200 lines first when the script failed. Call it
# before anything else registers an exit hook, so that it runs last.
WORK=""
SERVER_LOG=""
work_dir() {
    WORK=$(mktemp -d)
    SERVER_LOG=$WORK/server.log
    on_exit remove_work_dir
}
# shellcheck disable=SC2317 # only reached through the EXIT trap
remove_work_dir() {
    if [[ $EXIT_STATUS -ne 0 && -s $SERVER_LOG ]]; then
        log "server log (last 200 lines):"
        tail -n 200 "$SERVER_LOG" >&2
    fi
    rm -rf "$WORK"
}

# --- scratch database: scratch_database NAME names a database on $SERVER_URL
# (SCRATCH_DATABASE, its URL in SCRATCH_URL) and drops it on exit. Nothing creates it
# here: the binary creates the database it is given when it is missing.
SCRATCH_DATABASE=""
SCRATCH_URL=""
scratch_database() {
    SCRATCH_DATABASE=$1
    SCRATCH_URL=$(with_database "$SERVER_URL" "$1")
    on_exit drop_scratch_database
}
# shellcheck disable=SC2317 # also reached through the EXIT trap
drop_scratch_database() {
    if [[ -n $SCRATCH_DATABASE ]]; then
        # client_min_messages: no NOTICE when it was never created.
        PGOPTIONS="-c client_min_messages=warning" psql_admin \
            -c "DROP DATABASE IF EXISTS \"$SCRATCH_DATABASE\" WITH (FORCE)" ||
            log "could not drop database $SCRATCH_DATABASE"
    fi
    SCRATCH_DATABASE=""
    SCRATCH_URL=""
}

# --- the service: start_service LOG_FILE COMMAND... starts COMMAND (e.g. env VAR=... BINARY
# serve; env execs, so SERVICE_PID is the binary's) in the background, its output appended
# to LOG_FILE; it is killed if the script exits while it runs.
SERVICE_PID=""
start_service() {
    local log_file=$1
    shift
    "$@" >>"$log_file" 2>&1 &
    SERVICE_PID=$!
    on_exit kill_service
}

# serve_without_sweeper TTL: $BINARY serve on $SCRATCH_URL at $BASE_URL (pick_port), its log
# in $SERVER_LOG, with that TTL and the expiry sweeper off; returns once it is healthy
# (within STARTUP_SECONDS, default 30).
serve_without_sweeper() {
    log "starting $BINARY on $BASE_URL (TTL $1 s, no sweeper, database $SCRATCH_DATABASE)"
    start_service "$SERVER_LOG" env DATABASE_URL="$SCRATCH_URL" \
        RESERVATION_TTL_SECONDS="$1" APP__RESERVATION__SWEEP_INTERVAL_SECONDS=0 \
        HOST=127.0.0.1 PORT="$PORT" NO_COLOR=1 "$BINARY" serve
    wait_healthy "$BASE_URL" "${STARTUP_SECONDS:-30}"
}

# wait_healthy BASE_URL TIMEOUT_SECONDS [POLL_SECONDS]: until /api/health answers 200;
# exits 1 if the service dies first (with its exit status) or the time runs out.
wait_healthy() {
    local base_url=$1 timeout=$2 poll=${3:-0.2} status
    local deadline=$((SECONDS + timeout))
    until curl -fsS --max-time 2 -o /dev/null "$base_url/api/health" 2>/dev/null; do
        if ! kill -0 "$SERVICE_PID" 2>/dev/null; then
            wait "$SERVICE_PID" && status=0 || status=$?
            SERVICE_PID=""
            die "the server exited with status $status before answering /api/health"
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            die "/api/health did not answer 200 within $timeout s"
        fi
        sleep "$poll"
    done
}

# stop_service_expect_0 TIMEOUT_SECONDS: SIGTERM, and the service must exit 0 within the
# time; exits 1 otherwise, or when it had died already.
stop_service_expect_0() {
    local timeout=$1 status
    if ! kill -TERM "$SERVICE_PID" 2>/dev/null; then
        wait "$SERVICE_PID" && status=0 || status=$?
        SERVICE_PID=""
        die "the server had died before it was stopped (exit status $status)"
    fi
    local deadline=$((SECONDS + timeout))
    while kill -0 "$SERVICE_PID" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
        sleep 0.1
    done
    if kill -0 "$SERVICE_PID" 2>/dev/null; then
        die "the server did not stop within $timeout s of SIGTERM"
    fi
    wait "$SERVICE_PID" && status=0 || status=$?
    SERVICE_PID=""
    if [[ $status -ne 0 ]]; then
        die "the server exited with status $status after SIGTERM, expected 0"
    fi
}

# shellcheck disable=SC2317 # only reached through the EXIT trap
kill_service() {
    if [[ -n $SERVICE_PID ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -KILL "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    SERVICE_PID=""
}
