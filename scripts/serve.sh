#!/usr/bin/env bash
# Installs the toolchain if needed, builds the page with trunk and serves it on localhost, with
# the compressed copies of its files (scripts/compress.sh, scripts/serve.py).
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
log "building the page"
with_wasm_toolchain trunk build --release
scripts/compress.sh pkg
log "open http://127.0.0.1:$port/"
exec python3 scripts/serve.py pkg "$port"
