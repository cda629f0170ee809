#!/usr/bin/env bash
# Installs the build and test tools Factory needs, pinned, reusing what is already there.
# Safe to run again: each step checks for the exact version first.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen crate version pinned in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130

export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[tools] %s\n' "$*" >&2; }

have_version() { # command, expected version substring
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"
}

install_cargo_leptos() {
  if have_version cargo-leptos "$CARGO_LEPTOS_VERSION"; then return; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked \
    --features no_downloads
}

install_wasm_bindgen() {
  if have_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then return; fi
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked fails for this version: a locked dependency is no longer in the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
}

install_wasm_target() {
  if rustup target list --installed | grep -q wasm32-unknown-unknown; then return; fi
  rustup target add wasm32-unknown-unknown
}

install_postgres_binaries() {
  if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    return
  fi
  log "installing PostgreSQL server binaries"
  apt-get update -qq && apt-get install -y -qq postgresql
}

install_chromium() {
  if command -v chromium >/dev/null 2>&1; then return; fi
  log "installing Debian's chromium"
  apt-get update -qq && apt-get install -y -qq chromium
}

case "${1:-build}" in
  build)
    install_wasm_target
    install_postgres_binaries
    install_wasm_bindgen
    install_cargo_leptos
    ;;
  e2e)
    install_chromium
    ;;
  *) log "usage: tools.sh [build|e2e]"; exit 2 ;;
esac
