#!/usr/bin/env bash
# Makes sure a PostgreSQL server is running and prints its URL (and nothing else) on
# stdout; everything else goes to stderr.
#
# Usage: scripts/ensure-postgres.sh [--data-dir DIR]      (DIR defaults to target/postgres)
#
# In this order, it uses:
#   1. a running server it can log in to (psql, no password prompt) at $TEST_DATABASE_URL,
#      $DATABASE_URL or postgres@127.0.0.1:5432;
#   2. the machine's own cluster, started with pg_ctlcluster (Debian/Ubuntu packages), if
#      it can log in to it then;
#   3. a throwaway cluster in DIR (initdb + pg_ctl, trust auth, 127.0.0.1 only, on a free
#      port remembered in DIR/port), reused by later calls;
#   4. otherwise it says how to install PostgreSQL and exits 1.
LOG_PREFIX=ensure-postgres
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

data_dir=target/postgres
while [ $# -gt 0 ]; do
    case "$1" in
        --data-dir) data_dir="${2:?--data-dir needs a directory}"; shift 2 ;;
        --data-dir=*) data_dir="${1#--data-dir=}"; shift ;;
        -h | --help) sed -n '2,15p' "$0" >&2; exit 0 ;;
        *) echo "ensure-postgres: unknown argument $1" >&2; exit 2 ;;
    esac
done

# The newest installed server binaries (Debian keeps them off PATH).
pg_bin=""
for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && pg_bin="$dir"
done
pg_isready_cmd="$(pg_program pg_isready)"

# A URL without its database: the server the tests and the service create theirs on.
server_url() {
    sed -E 's#^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$#\1\4#' <<<"$1"
}

# accepts URL: the server at URL accepts connections (it may still refuse our login).
accepts() {
    if [ -n "$pg_isready_cmd" ]; then
        "$pg_isready_cmd" -q -t 3 -d "$1" >/dev/null 2>&1
    else
        [[ $1 =~ ^[a-z]+://([^@/?]*@)?([^:/?]+)(:([0-9]+))? ]] || return 1
        timeout 3 bash -c "exec 3<>/dev/tcp/${BASH_REMATCH[2]}/${BASH_REMATCH[4]:-5432}" 2>/dev/null
    fi
}

# answers URL: we can log in to the `postgres` database of the server at URL, as the tests
# and scripts do; without psql, only that it accepts connections.
answers() {
    if [ -n "$PSQL" ]; then
        [ "$(PGCONNECT_TIMEOUT=3 "$PSQL" -X -w -d "$(with_database "$(server_url "$1")" postgres)" \
            -Atqc 'SELECT 1' 2>/dev/null)" = 1 ]
    else
        accepts "$1"
    fi
}

# 1. A server that already answers. TEST_DATABASE_URL first: an explicit test server must
# win over the developer's DATABASE_URL server (tests create and drop databases on it).
for url in "${TEST_DATABASE_URL:-}" "${DATABASE_URL:-}" "postgres://postgres@127.0.0.1:5432"; do
    [ -n "$url" ] || continue
    if answers "$url"; then
        server_url "$url"
        exit 0
    fi
    log "no server we can log in to at $(redact "$(server_url "$url")")"
done

# 2. The machine's cluster (pg_ctlcluster switches to the cluster's owner itself).
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for version in $(cd /etc/postgresql && printf '%s\n' * | sort -rV); do
        [ -d "/etc/postgresql/$version/main" ] || continue
        log "starting the machine's cluster $version/main"
        if pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 \
            || pg_ctlcluster "$version" main start >&2 2>&1; then
            port="$(pg_conftool -s "$version" main show port 2>/dev/null || echo 5432)"
            url="postgres://postgres@127.0.0.1:$port"
            for _ in $(seq 1 30); do
                accepts "$url" && break
                sleep 0.5
            done
            if answers "$url"; then
                echo "$url"
                exit 0
            fi
            log "the machine's cluster $version/main runs but does not let postgres log in at $url"
            continue
        fi
        log "the machine's cluster $version/main did not start"
    done
fi

# 3. A throwaway cluster of our own.
if [ -z "$pg_bin" ]; then
    cat >&2 <<'EOF'
ensure-postgres: no PostgreSQL server answers and none is installed.
Install one, for example:
    sudo apt-get install postgresql        # Debian, Ubuntu
    brew install postgresql@15             # macOS
or point DATABASE_URL / TEST_DATABASE_URL at a running server.
EOF
    exit 1
fi

mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
pgdata="$data_dir/data"
port_file="$data_dir/port"

# initdb and postgres refuse to run as root: run them as the `postgres` user then.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        log "running as root and there is no postgres user to run the server as"
        exit 1
    fi
    as_owner=(runuser -u postgres --)
    chown postgres: "$data_dir"
    if ! runuser -u postgres -- test -w "$data_dir"; then
        log "the postgres user cannot reach $data_dir (check the parent directories' permissions)"
        exit 1
    fi
fi

# One caller at a time sets the cluster up (the test script and run.sh may race).
if command -v flock >/dev/null; then
    exec 9>"$data_dir/.lock"
    flock 9
fi

url_for() { echo "postgres://postgres@127.0.0.1:$1"; }

# Ours is running if its socket is in DIR and it answers on the remembered port.
if [ -f "$port_file" ] && [ -S "$data_dir/.s.PGSQL.$(cat "$port_file")" ] \
    && answers "$(url_for "$(cat "$port_file")")"; then
    log "reusing the cluster in $data_dir"
    url_for "$(cat "$port_file")"
    exit 0
fi

# Running but not answering yet (starting up, or started by a caller that was killed).
if [ -f "$port_file" ] && [ -f "$pgdata/postmaster.pid" ] \
    && "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 9>&-; then
    for _ in $(seq 1 60); do
        if answers "$(url_for "$(cat "$port_file")")"; then
            url_for "$(cat "$port_file")"
            exit 0
        fi
        sleep 0.5
    done
    log "the cluster in $pgdata runs but does not answer on port $(cat "$port_file")"
    exit 1
fi

if [ ! -f "$pgdata/PG_VERSION" ]; then
    log "creating a throwaway cluster in $pgdata with $pg_bin/initdb"
    rm -rf "$pgdata"
    "${as_owner[@]}" "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$data_dir/initdb.log" 2>&1 9>&- || {
        cat "$data_dir/initdb.log" >&2
        exit 1
    }
fi

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && [ ! -e "$data_dir/.s.PGSQL.$1" ]
}
port=""
for candidate in $(cat "$port_file" 2>/dev/null) $(seq 54329 54429); do
    if port_free "$candidate"; then
        port="$candidate"
        break
    fi
done
[ -n "$port" ] || { log "no free port in 54329-54429"; exit 1; }

log "starting it on 127.0.0.1:$port (log: $data_dir/postgres.log)"
# `9>&-`: the server must not inherit the lock, or it would hold it for its lifetime.
if ! "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pgdata" -l "$data_dir/postgres.log" -w -t 60 \
    -o "-p $port -k $data_dir -c listen_addresses=127.0.0.1" start >&2 9>&-; then
    tail -n 20 "$data_dir/postgres.log" >&2 || true
    exit 1
fi
echo "$port" >"$port_file"
url_for "$port"
