#!/usr/bin/env bash
# Installs the toolchain if needed, builds the page with trunk and serves it on localhost.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANPLAY_ROOT"
"$GANPLAY_ROOT/scripts/setup.sh" serve
if [ ! -f index.html ]; then
  log "toolchain ready; the page is not built yet"
  exit 0
fi
forget_own_build
port="${PORT:-8080}"
log "building the page; then open http://127.0.0.1:$port/"
with_wasm_toolchain trunk serve --release --address 127.0.0.1 --port "$port"
