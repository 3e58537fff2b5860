#!/usr/bin/env bash
# Proves the fallback route of scripts/setup.sh, for machines where rustup cannot add the wasm32
# target: Debian's rustc-web building std from source (-Zbuild-std). Forces that route even where
# rustup has the target, installs what it needs, and builds the whole page with it into its own
# target folder (about half an hour cold on two cores; not part of every test run).
set -euo pipefail
export GANPLAY_WASM_ROUTE=debian
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ganplay/target-debian-route}"
source "$(dirname "$0")/env.sh"
cd "$GANPLAY_ROOT"
"$GANPLAY_ROOT/scripts/setup.sh" serve
forget_own_build
log "building the page with Debian's rustc-web and -Zbuild-std"
with_wasm_toolchain rustc --version
with_wasm_toolchain trunk build --release --dist "$CARGO_TARGET_DIR/pkg"
for bin in app worker; do
  [ -s "$CARGO_TARGET_DIR/pkg/${bin}_bg.wasm" ] || die "no ${bin}_bg.wasm from the fallback route"
done
log "the fallback route built the page: $CARGO_TARGET_DIR/pkg"
