#!/usr/bin/env bash
# The load benchmark of BENCHMARKS.md, in one command: it makes sure PostgreSQL runs
# (scripts/ensure-postgres.sh), creates a fresh database, seeds it with `ticketing seed`,
# starts the release binary (TTL 600 s) and times exec -> healthy /api/health, runs five
# wrk scenarios (scripts/bench/*.lua: reserve, reserve+confirm with the hold's token, hot
# tickets, reads, best available), then pgbench on the same server and data with the
# adapter's own reservation UPDATE (scripts/bench/reserve.sql) as the ceiling, and prints
# requests/s, holds/s, p50/p99, non-2xx/409/5xx counts, the ratio to the ceiling and the
# service's peak resident memory per scenario.
#
# Usage: scripts/bench.sh [--smoke] [--runs N]
#   --smoke   a seconds-long pass proving the harness works (10,000 tickets, 1 s per
#             scenario); fails unless every scenario produced numbers, no 5xx, no
#             malformed 409 and no refused confirmation (the token). CI runs this.
#   --runs N  N full runs (each on a fresh database and a fresh server process), then
#             the median of every figure.
# Environment: BENCH_COUNT (tickets, 1000000), BENCH_SECONDS (per scenario, 10),
# BENCH_CONNECTIONS (32), BENCH_HOT_CONNECTIONS (64), BENCH_HOT_TICKETS (100),
# BENCH_BEST_CONNECTIONS (64, best available), BENCH_WRK_THREADS (2), BENCH_KEEP_LOGS=1
# (keep the work directory), BENCH_BINARY (a built `ticketing` to run instead of building
# target/release; scripts/test.sh passes its debug build for --smoke), and any setting of
# the service (APP__DATABASE__POOL_MAX_SIZE, APP__SERVER__WORKERS, ...). The service runs
# with APP_ENV=production (JSON logs at info, an access line per request), and unless
# told otherwise with one HTTP worker and 8 connections: here it shares two cores with
# PostgreSQL and the load generator, and that sizing measured best (BENCHMARKS.md).
LOG_PREFIX=bench
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

SMOKE=0
RUNS=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) SMOKE=1; shift ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#--runs=}; shift ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs must be a positive number" >&2; exit 2; }

if [[ $SMOKE -eq 1 ]]; then
    COUNT=${BENCH_COUNT:-10000}
    DURATION=${BENCH_SECONDS:-1}
else
    COUNT=${BENCH_COUNT:-1000000}
    DURATION=${BENCH_SECONDS:-10}
fi
CONNECTIONS=${BENCH_CONNECTIONS:-32}
HOT_CONNECTIONS=${BENCH_HOT_CONNECTIONS:-64}
HOT_TICKETS=${BENCH_HOT_TICKETS:-100}
BEST_CONNECTIONS=${BENCH_BEST_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
TTL=600
EVENT="Benchmark Night"
STARTUP_SECONDS=30
SHUTDOWN_SECONDS=10

# wrk comes from Debian's package; installed when missing (needs root or sudo).
if ! command -v wrk >/dev/null; then
    log "installing wrk (apt-get install wrk)"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    command -v apt-get >/dev/null || die "wrk is missing and there is no apt-get: install wrk"
    "${sudo_cmd[@]}" apt-get install -y -qq wrk >&2 ||
        { "${sudo_cmd[@]}" apt-get update -qq >&2 && "${sudo_cmd[@]}" apt-get install -y -qq wrk >&2; } ||
        die "could not install wrk"
fi
PGBENCH=$(pg_program pgbench)
[[ -n $PGBENCH ]] || die "pgbench is missing: apt-get install postgresql-client (or postgresql)"

WORK=$(mktemp -d -t ticketing-bench.XXXXXX)
RESULTS=$WORK/results.tsv

# Registered first, so it runs last: after the service is killed and the database dropped.
# shellcheck disable=SC2317 # only reached through the EXIT trap
keep_or_remove_work() {
    if [[ $EXIT_STATUS -ne 0 && -s $WORK/server.log ]]; then
        log "server log (last 40 lines):"
        tail -n 40 "$WORK/server.log" >&2
    fi
    if [[ ${BENCH_KEEP_LOGS:-0} == 1 || $EXIT_STATUS -ne 0 ]]; then
        log "logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
on_exit keep_or_remove_work

find_postgres
if [[ -n ${BENCH_BINARY:-} ]]; then
    BINARY=$BENCH_BINARY
    [[ -x $BINARY ]] || die "BENCH_BINARY=$BINARY is not an executable"
else
    log "building the release binary"
    cargo build --release --locked -q -p ticketing-app >&2
    BINARY=${CARGO_TARGET_DIR:-target}/release/ticketing
fi

now_ns() { date +%s%N; }

# The service's resident-memory high-water mark so far, in KiB.
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVICE_PID/status"; }
# Starts a new high-water mark at the current resident size (proc(5), clear_refs).
reset_peak_rss() { echo 5 >"/proc/$SERVICE_PID/clear_refs" 2>/dev/null || true; }
# CPU time (user + system) the service used so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVICE_PID/stat"; }

# run_wrk RUN NAME SCRIPT THREADS CONNECTIONS FIRST LAST [ARG...]: one scenario, one TSV
# line; the script gets FIRST LAST ARG... as its arguments.
run_wrk() {
    local run=$1 name=$2 script=$3 threads=$4 connections=$5 first=$6 last=$7
    shift 7
    local output=$WORK/run$run-$name.txt
    reset_peak_rss
    local cpu_before
    cpu_before=$(cpu_ticks)
    python3 scripts/bench/cpu.py snapshot "$WORK/cpu.before"
    wrk -t "$threads" -c "$connections" -d "${DURATION}s" --timeout 5s --latency \
        -s "scripts/bench/$script" "$BASE_URL" -- "$first" "$last" "$@" >"$output" 2>"$output.err" &
    local loader=$!
    local foreign
    foreign=$(foreign_cpu "$loader" "$SERVICE_PID")
    wait "$loader" || die "wrk failed in scenario $name: $(cat "$output.err")"
    local cpu_after rss line
    cpu_after=$(cpu_ticks)
    rss=$(peak_rss_kib)
    line=$(grep '^RESULT ' "$output") || die "wrk printed no RESULT in scenario $name: $(cat "$output" "$output.err")"
    if [[ -s $output.err ]]; then
        log "wrk ($name) said: $(head -n 3 "$output.err")"
    fi
    # key=value pairs into one TSV line: run, scenario, then the pairs.
    printf '%s\t%s\t%s rss_kib=%s cpu_ticks=%s foreign_pct=%s\n' "$run" "$name" "${line#RESULT }" \
        "$rss" "$((cpu_after - cpu_before))" "$foreign" >>"$RESULTS"
}

# foreign_cpu PID...: while the load generator runs (the snapshot "before" was taken just
# before it started), the share of the machine other processes used: compilers, other
# people's tests. Taken before the end, while the benchmark's processes still exist.
foreign_cpu() {
    local pids=()
    for pid in "$@"; do pids+=(--pid "$pid"); done
    # At 80% of the run: the snapshot takes a moment, and the processes must still be there.
    sleep "$(python3 -c "print($DURATION * 0.8)")"
    python3 scripts/bench/cpu.py snapshot "$WORK/cpu.after"
    python3 scripts/bench/cpu.py foreign "$WORK/cpu.before" "$WORK/cpu.after" \
        --database "$SCRATCH_DATABASE" "${pids[@]}" --top 2>>"$WORK/foreign.log"
}

# run_pgbench RUN FIRST LAST: the ceiling, one TSV line.
run_pgbench() {
    local run=$1 first=$2 last=$3
    local output=$WORK/run$run-pgbench.txt now expires
    now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    expires=$(date -u -d "+$TTL seconds" +%Y-%m-%dT%H:%M:%S.%6NZ)
    # The bound values of a reservation: write a hold from these phases (Command::write),
    # for anyone (no owner to check) and with no bound on the hold's start.
    python3 scripts/bench/cpu.py snapshot "$WORK/cpu.before"
    (cd "$WORK" && exec "$PGBENCH" -n -M prepared -c "$CONNECTIONS" -j "$WRK_THREADS" -T "$DURATION" \
        -f "$OLDPWD/scripts/bench/reserve.sql" -l --log-prefix="pgbench-run$run" \
        -D first="$first" -D last="$last" -D now="$now" -D expires="$expires" \
        -D tentative=TENTATIVE -D expired_status=EXPIRED -D confirmed_status=CONFIRMED \
        -D unreserved=true -D held=false -D lapsed=true -D expired=true -D confirmed=false \
        -D hold_id=0b6c4a8e-5f1d-4c2a-9e37-2d1f6b0c9a41 -D digest="\\x$(printf '%064d' 0)" \
        -D anyone=true -D any_start=true \
        "$SCRATCH_URL") >"$output" 2>&1 &
    local loader=$!
    local foreign
    foreign=$(foreign_cpu "$loader")
    wait "$loader" || die "pgbench failed: $(tail -n 5 "$output")"
    local tps failed
    tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$output")
    failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$output")
    [[ -n $tps ]] || die "pgbench printed no tps: $(cat "$output")"
    # Per-transaction log lines: client, transaction, latency in microseconds, ...
    cat "$WORK"/pgbench-run"$run".* | awk '{ print $3 }' | sort -n >"$WORK/latencies"
    local n p50 p99
    n=$(wc -l <"$WORK/latencies")
    p50=$(sed -n "$(((n + 1) / 2))p" "$WORK/latencies")
    p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$WORK/latencies")
    rm -f "$WORK"/pgbench-run"$run".*
    printf '%s\tpgbench\ttps=%s requests=%s p50_us=%s p99_us=%s failed=%s foreign_pct=%s\n' \
        "$run" "$tps" "$n" "${p50:-0}" "${p99:-0}" "${failed:-0}" "$foreign" >>"$RESULTS"
}

# VACUUM (ANALYZE) the tickets and write the dirty pages out (CHECKPOINT needs a superuser;
# without one the checkpoint is left to the server's schedule).
settle_database() {
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$SCRATCH_URL" -c "VACUUM (ANALYZE) tickets" >&2
    "$PSQL" -X -q -d "$SCRATCH_URL" -c "CHECKPOINT" >/dev/null 2>&1 || true
}

for run in $(seq 1 "$RUNS"); do
    scratch_database "ticketing_bench_$(date +%s)_$$_$run"
    export APP_ENV=production RESERVATION_TTL_SECONDS=$TTL NO_COLOR=1
    export APP__SERVER__WORKERS=${APP__SERVER__WORKERS:-1}
    export APP__DATABASE__POOL_MAX_SIZE=${APP__DATABASE__POOL_MAX_SIZE:-8}

    # How busy the machine was (other processes share its cores): 1-minute load average.
    load_before=$(cut -d ' ' -f 1 /proc/loadavg)
    log "run $run/$RUNS: seeding $COUNT tickets into $SCRATCH_DATABASE (load average $load_before)"
    seed_started=$(now_ns)
    seeded=$(DATABASE_URL=$SCRATCH_URL "$BINARY" seed --event "$EVENT" --count "$COUNT" \
        --seat-prefix S- 2>"$WORK/seed.log") || die "seeding failed: $(cat "$WORK/seed.log")"
    seed_ms=$((($(now_ns) - seed_started) / 1000000))
    [[ $seeded =~ ids\ ([0-9]+)\.\.=([0-9]+)$ ]] || die "unexpected seed output: $seeded"
    FIRST=${BASH_REMATCH[1]}
    LAST=${BASH_REMATCH[2]}
    log "$seeded in $seed_ms ms"
    # Settle the fresh table first, so autovacuum (due after a million inserts) and the
    # seed's dirty pages are not flushed in the middle of a scenario.
    settle_database

    pick_port
    # The database is migrated (seed did it): this is the start-up a restart sees.
    started=$(now_ns)
    start_service "$WORK/server.log" env DATABASE_URL="$SCRATCH_URL" HOST=127.0.0.1 PORT="$PORT" \
        "$BINARY" serve
    wait_healthy "$BASE_URL" "$STARTUP_SECONDS" 0.005
    healthy_ms=$((($(now_ns) - started) / 1000000))
    printf '%s\tstartup\texec_to_healthy_ms=%s seed_ms=%s rss_kib=%s load_before=%s\n' "$run" \
        "$healthy_ms" "$seed_ms" "$(peak_rss_kib)" "$load_before" >>"$RESULTS"
    log "healthy $healthy_ms ms after exec; scenarios of $DURATION s at $CONNECTIONS connections" \
        "($APP__SERVER__WORKERS HTTP workers, $APP__DATABASE__POOL_MAX_SIZE database connections)"

    run_wrk "$run" reserve reserve.lua "$WRK_THREADS" "$CONNECTIONS" "$FIRST" "$LAST"
    # One connection per wrk thread, so each connection confirms the hold it just got.
    run_wrk "$run" reserve+confirm reserve_confirm.lua "$CONNECTIONS" "$CONNECTIONS" "$FIRST" "$LAST"
    run_wrk "$run" hot reserve.lua "$WRK_THREADS" "$HOT_CONNECTIONS" "$FIRST" \
        "$((FIRST + HOT_TICKETS - 1))"
    run_wrk "$run" reads reads.lua "$WRK_THREADS" "$CONNECTIONS" "$FIRST" "$LAST"
    # Last: it holds the lowest free tickets of the one event, past the holds placed above.
    run_wrk "$run" best best_available.lua "$WRK_THREADS" "$BEST_CONNECTIONS" "$FIRST" "$LAST" "$EVENT"
    stop_service_expect_0 "$SHUTDOWN_SECONDS"
    # pgbench starts from the state the reserve scenario started from: no holds.
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$SCRATCH_URL" -c "UPDATE tickets SET reservation_status = NULL,
        reservation_created_at = NULL, reservation_expires_at = NULL,
        reservation_confirmed_at = NULL, hold_id = NULL, hold_token_digest = NULL
        WHERE reservation_status IS NOT NULL"
    settle_database
    run_pgbench "$run" "$FIRST" "$LAST"
    printf '%s\tload\tafter=%s\n' "$run" "$(cut -d ' ' -f 1 /proc/loadavg)" >>"$RESULTS"
    drop_scratch_database
done

report=(python3 scripts/bench/report.py "$RESULTS" --connections "$CONNECTIONS"
    --hot-connections "$HOT_CONNECTIONS" --hot-tickets "$HOT_TICKETS"
    --best-connections "$BEST_CONNECTIONS" --seconds "$DURATION"
    --tickets "$COUNT" --clock-ticks "$(getconf CLK_TCK)")
[[ $SMOKE -eq 1 ]] && report+=(--check)
"${report[@]}"
