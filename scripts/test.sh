#!/usr/bin/env bash
# Runs every test: the native core (unit and integration tests on real MNIST), then the page
# built by trunk and driven in headless Chromium (WebGPU on SwiftShader, and the CPU path).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANPLAY_ROOT"
started=$SECONDS

"$GANPLAY_ROOT/scripts/setup.sh" test
log "setup done in $((SECONDS - started)) s"

forget_own_build
log "native tests"
# The GPU kernels' tests run on lavapipe (unpacked by setup), the rest on the CPU backend.
with_lavapipe cargo test --release --all-targets
log "native tests done at $((SECONDS - started)) s"

log "building the page (trunk: the app and its worker for wasm32, wgpu + flex backends)"
with_wasm_toolchain trunk build --release
scripts/compress.sh pkg
for bin in app worker; do
  wasm="pkg/${bin}_bg.wasm"
  [ -s "$wasm" ] || die "no $wasm after trunk build"
  log "$bin: $(stat -c %s "$wasm") bytes raw, $(stat -c %s "$wasm.gz") bytes gzip (served compressed)"
done
log "page built at $((SECONDS - started)) s"

log "browser tests (Chromium, headless)"
(cd tests/browser && npm test)
log "all tests passed in $((SECONDS - started)) s"
