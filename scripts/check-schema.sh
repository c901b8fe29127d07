#!/usr/bin/env bash
# Fails, showing the diff, when crates/postgres/src/schema.rs is not what
# `diesel print-schema` generates from migrations/ (with diesel.toml's settings).
# Installs the diesel_cli matching the locked diesel crate into a cache on first use.
LOG_PREFIX=check-schema
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

schema=crates/postgres/src/schema.rs

# The CLI of the very diesel version Cargo.lock holds, cached per version.
version="$(awk '$0 == "name = \"diesel\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$version" ] || { log "no diesel in Cargo.lock"; exit 1; }
tools="${TICKETING_TOOLS_DIR:-$HOME/.cache/ticketing-tools}/diesel_cli-$version"
diesel="$tools/bin/diesel"
if [ ! -x "$diesel" ]; then
    log "installing diesel_cli $version into $tools (once)"
    cargo install diesel_cli --version "=$version" --no-default-features --features postgres \
        --locked --root "$tools" >&2
fi

scratch="$(mktemp -d)"
# shellcheck disable=SC2317 # only reached through the EXIT trap
remove_scratch() { rm -rf "$scratch"; }
on_exit remove_scratch

find_postgres
scratch_database "ticketing_schema_check_$$"
# Created here: diesel, not the binary (which creates its database), migrates it.
psql_admin -c "CREATE DATABASE \"$SCRATCH_DATABASE\"" >&2
# Migrate with a configuration that has no print_schema section: `migration run` would
# otherwise rewrite schema.rs itself and hide the difference.
printf '[migrations_directory]\ndir = "%s/migrations"\n' "$PWD" >"$scratch/migrate.toml"
"$diesel" migration run --database-url "$SCRATCH_URL" --config-file "$scratch/migrate.toml" >&2
"$diesel" print-schema --database-url "$SCRATCH_URL" --config-file diesel.toml >"$scratch/schema.rs"

if ! diff -u "$schema" "$scratch/schema.rs"; then
    log "$schema differs from what the migrations generate (above: - committed, + generated)."
    log "Regenerate it with: diesel print-schema --database-url <url of a migrated database> > $schema"
    exit 1
fi
log "$schema matches the migrations"
