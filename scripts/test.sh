#!/usr/bin/env bash
# Runs every test: the native core (unit and integration tests on real MNIST), then the
# core built for wasm32 with the WebGPU and CPU backends.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANPLAY_ROOT"
started=$SECONDS

"$GANPLAY_ROOT/scripts/setup.sh" test
log "setup done in $((SECONDS - started)) s"

log "native tests"
cargo test --release --all-targets
log "native tests done at $((SECONDS - started)) s"

log "wasm32 build of the core (wgpu + flex backends)"
with_wasm_toolchain cargo build --release --lib --target wasm32-unknown-unknown
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/ganplay.wasm"
[ -s "$wasm" ] || die "no wasm module at $wasm"
log "wasm core: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzip"
log "all tests passed in $((SECONDS - started)) s"
