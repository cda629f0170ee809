# Shared settings for Factory's scripts; sourced, not run.
# The build cache lives outside the clone so that fresh clones (CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/factory/target}"
export PATH="$HOME/.cargo/bin:$PATH"
export LEPTOS_OUTPUT_NAME=factory
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export LEPTOS_SITE_PKG_DIR=pkg
# The machine's PostgreSQL, used by the tests (each test creates its own database there).
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

log() { printf '[factory] %s\n' "$*" >&2; }

# Starts the machine's PostgreSQL if it is installed as a Debian cluster but not running.
ensure_test_postgres() {
  if psql "$TEST_DATABASE_URL" -Atc 'SELECT 1' >/dev/null 2>&1; then return; fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    log "starting the machine's PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  fi
  for _ in $(seq 1 30); do
    psql "$TEST_DATABASE_URL" -Atc 'SELECT 1' >/dev/null 2>&1 && return
    sleep 1
  done
  log "PostgreSQL at $TEST_DATABASE_URL is not reachable; set TEST_DATABASE_URL"
  exit 1
}
