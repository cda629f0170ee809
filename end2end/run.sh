#!/usr/bin/env bash
# Runs the browser tests: a fresh database, the demo accounts, a real `factory serve`, and
# Playwright driving Debian's Chromium against it. Expects `cargo leptos build` to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh

ensure_test_postgres
(cd end2end && npm ci --no-audit --no-fund --silent)

bin="$CARGO_TARGET_DIR/debug/factory"
name="factory_e2e_$(date +%s)"
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name"
export DATABASE_URL="${TEST_DATABASE_URL%/*}/$name"
export FACTORY_ADDR="${E2E_ADDR:-127.0.0.1:3123}"
export FACTORY_HEARTBEAT_SECS=1
log_file="$(mktemp /tmp/factory-e2e.XXXXXX.log)"

# The demo history gives last month an outage for the SLA report test.
"$bin" demo --history 90 --seed 7 >/dev/null
"$bin" serve >"$log_file" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
}
trap cleanup EXIT

for _ in $(seq 1 60); do
  curl -fsS "http://$FACTORY_ADDR/readyz" >/dev/null 2>&1 && break
  sleep 1
done
if ! curl -fsS "http://$FACTORY_ADDR/readyz" >/dev/null; then
  log "factory did not become ready; its log:"
  cat "$log_file" >&2
  exit 1
fi

export FACTORY_URL="http://$FACTORY_ADDR"
status=0
node --test --test-reporter=spec end2end/tests/ || status=$?
if [ "$status" -ne 0 ]; then
  log "end-to-end tests failed; factory's log:"
  tail -n 100 "$log_file" >&2
fi
exit "$status"
