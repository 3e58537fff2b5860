#!/usr/bin/env bash
# Writes compressed copies beside the built page's files (gzip always, brotli where the `brotli`
# command is installed), for static hosts that serve them as they are and for scripts/serve.py.
# The wasm modules are most of the download and shrink about four times.
set -euo pipefail
dir="${1:-pkg}"
find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) -print0 |
  while IFS= read -r -d '' file; do
    gzip -9 -k -f "$file"
    if command -v brotli >/dev/null; then brotli -q 11 -f -k "$file"; fi
  done
