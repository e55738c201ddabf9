# Sourced by scripts/test.sh and scripts/serve.sh: make sure the local services the project uses
# are up, starting them when installed and installing them (Debian packages) when missing.
# Idempotent: a service that already answers is left alone.

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "cannot install $*: no apt-get here. Install it yourself, or point REDIS_URL / TEST_DATABASE_URL at a running server."
    return 1
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing $* (apt-get)"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do port_open "$port" && return 0; sleep 0.1; done
  log "$name did not start listening on 127.0.0.1:$port"
  return 1
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  port_open 6379 && return 0
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server || return 1
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --logfile /tmp/claudebench-redis.log >/dev/null
  wait_for_port 6379 redis-server
}

ensure_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then return 0; fi
  if ! port_open 5432; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql || return 1
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    # Tests connect over TCP as `postgres` without a password, like the machines this project runs on.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ -w "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
      log "allowing trust auth on 127.0.0.1 in $hba"
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 \
      || pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
    wait_for_port 5432 postgresql || return 1
  fi
  # The `test` database the tests use (each run works in its own schema inside it).
  if command -v psql >/dev/null 2>&1 && ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    log "creating database test"
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null 2>&1 || true
  fi
}

# A Python venv with the OpenAPI tools the tests run against generated/openapi.json, and
# schemathesis, which tests/it/schemathesis.rs runs against the live server.
ensure_python_tools() {
  local venv=".venv"
  if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv || return 1
    log "creating $venv for the OpenAPI validator and client generator"
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; } || return 1
  fi
  if ! "$venv/bin/python" -c 'import openapi_spec_validator, openapi_python_client, schemathesis' >/dev/null 2>&1; then
    log "installing openapi-spec-validator, openapi-python-client and schemathesis into $venv"
    # Exact versions: a clean clone must test against the tools these tests were written for
    # (schemathesis' options and its fuzzing change between releases; a new one is adopted on purpose).
    "$venv/bin/pip" install -q --disable-pip-version-check openapi-spec-validator==0.9.0 \
      openapi-python-client==0.29.1 schemathesis==4.32.5 hypothesis==6.170.17 || return 1
  fi
  export CB_PYTHON="$PWD/$venv/bin/python"
  export PATH="$PWD/$venv/bin:$PATH"
}

# Headless Chromium (Debian's package) and playwright-core (npm, pinned in tests/browser's lock
# file) for the dashboard's browser test, tests/it/browser.rs; it runs `node` on the scripts there.
ensure_browser_tools() {
  [ -x /usr/bin/chromium ] || apt_install chromium || return 1
  command -v node >/dev/null 2>&1 || apt_install nodejs npm || return 1
  if [ ! -f tests/browser/node_modules/playwright-core/package.json ] \
      || ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
    log "installing playwright-core into tests/browser (npm ci)"
    (cd tests/browser && npm ci --silent --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json) \
      || return 1
  fi
  export CB_CHROMIUM=/usr/bin/chromium
}

# cargo-fuzz (from crates.io) for scripts/fuzz.sh, installed once per machine.
ensure_cargo_fuzz() {
  command -v cargo-fuzz >/dev/null 2>&1 && return 0
  log "installing cargo-fuzz (cargo install)"
  cargo install --locked --quiet cargo-fuzz --version '^0.13'
}
