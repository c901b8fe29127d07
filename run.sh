#!/usr/bin/env bash
# Builds and runs the ticketing service, locally or with Docker Compose; see ./run.sh --help.
LOG_PREFIX=run.sh
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/scripts/lib.sh"

COMPOSE_FILE=docker/compose.yaml

usage() {
    cat <<EOF
Usage: ./run.sh [--docker | --docker-detached] [-- ARGS...]

Without options: builds the service in release mode
(cargo build --release --locked -p ticketing-app) and runs \`ticketing serve\` in the
foreground; Ctrl-C (SIGINT) or SIGTERM drains in-flight requests and stops it.

  Database: DATABASE_URL if set. Otherwise the \`ticketing\` database on the server
  scripts/ensure-postgres.sh --data-dir .data finds or starts, the first of: one it can
  log in to as postgres on 127.0.0.1:5432; the machine's cluster, started with
  pg_ctlcluster; a project-local cluster under .data/ (PostgreSQL's programs must be
  installed; nothing else is needed). The service creates the database if it is missing
  and applies the migrations at start-up.

  -- ARGS...          run \`ticketing ARGS...\` instead of \`ticketing serve\`,
                      e.g. ./run.sh -- migrate   (apply migrations and exit)
                           ./run.sh -- --help    (the binary's own options)

  --docker            docker compose -f $COMPOSE_FILE up --build: PostgreSQL 15 and the
                      service in containers, on http://localhost:8080 (Ctrl-C stops both).
  --docker-detached   the same in the background (-d); stop it with
                      docker compose -f $COMPOSE_FILE down   (add -v to drop the data)
  -h, --help          this text

Environment (read by the service; the values below are the defaults from config/default.toml
unless config/\$APP_ENV.toml overrides them):
  DATABASE_URL              PostgreSQL URL, database included (see above)
  RESERVATION_TTL_SECONDS   how long a hold lasts, 1..=86400 (default 60)
  HOST, PORT                where to listen (default 127.0.0.1:8080)
  APP_ENV                   which config/\$APP_ENV.toml overlay to load: local (default), production
  RUST_LOG                  log filter, e.g. info or ticketing=debug
  APP__SECTION__KEY         any other key of config/default.toml, e.g. APP__DATABASE__POOL_MAX_SIZE=32
  APP_CONFIG_DIR            where config/ is (default ./config)
With --docker only RESERVATION_TTL_SECONDS is taken from your shell (default 60); the rest is
set in $COMPOSE_FILE and docker/Dockerfile.

Examples:
  ./run.sh
  RESERVATION_TTL_SECONDS=2 PORT=9000 ./run.sh
  DATABASE_URL=postgres://me:secret@db.example:5432/tickets ./run.sh
  RESERVATION_TTL_SECONDS=5 ./run.sh --docker
EOF
}

# Docker Compose v2 is a docker plugin; v1 (Debian's docker-compose package) a separate program.
compose() {
    if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
        docker compose "$@"
    elif command -v docker-compose >/dev/null; then
        docker-compose "$@"
    else
        die "--docker needs Docker Compose: the 'docker compose' plugin or 'docker-compose'"
    fi
}

mode=local
binary_args=(serve)
while [[ $# -gt 0 ]]; do
    case $1 in
    -h | --help)
        usage
        exit 0
        ;;
    --docker) mode=docker ;;
    --docker-detached) mode=docker-detached ;;
    --)
        shift
        if [[ $# -gt 0 ]]; then binary_args=("$@"); fi
        break
        ;;
    *)
        echo "run.sh: unknown option '$1'" >&2
        echo "Try ./run.sh --help" >&2
        exit 2
        ;;
    esac
    shift
done

case $mode in
docker | docker-detached)
    if [[ ${binary_args[*]} != serve ]]; then
        die "arguments after -- are for the local binary; with --docker use $COMPOSE_FILE"
    fi
    up=(up --build)
    if [[ $mode == docker-detached ]]; then up+=(-d); fi
    compose -f "$COMPOSE_FILE" "${up[@]}"
    if [[ $mode == docker-detached ]]; then
        echo "run.sh: the service starts on http://localhost:8080 once PostgreSQL is healthy;"
        echo "        logs: docker compose -f $COMPOSE_FILE logs -f app; stop: docker compose -f $COMPOSE_FILE down"
    fi
    exit 0
    ;;
esac

command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"

if [[ -z ${DATABASE_URL:-} ]]; then
    # Not the tests' server (TEST_DATABASE_URL): the service's data does not belong there.
    server_url=$(env -u TEST_DATABASE_URL scripts/ensure-postgres.sh --data-dir .data) ||
        die "scripts/ensure-postgres.sh found or started no PostgreSQL (see above); or set DATABASE_URL"
    DATABASE_URL=$(with_database "$server_url" ticketing)
fi
export DATABASE_URL

cargo build --release --locked -p ticketing-app

binary=${CARGO_TARGET_DIR:-target}/release/ticketing
echo "run.sh: ticketing ${binary_args[*]} with DATABASE_URL=$(redact "$DATABASE_URL")" >&2
exec "$binary" "${binary_args[@]}"
