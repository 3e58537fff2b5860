# Sourced by the other scripts: where builds go, and how to reach a wasm32 toolchain.
# shellcheck shell=bash

GANPLAY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds live outside the checkout so that a fresh clone on the same machine builds
# incrementally (a cold wasm build of burn takes most of an hour on two cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ganplay/target}"
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# True when the rustc on PATH has a prebuilt std for wasm32 (rustup with the target added).
# GANPLAY_WASM_ROUTE=debian forces the fallback route (scripts/check-debian-route.sh).
has_rustup_wasm_target() {
  [ "${GANPLAY_WASM_ROUTE:-}" = debian ] && return 1
  local libdir
  libdir="$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null)" || return 1
  compgen -G "$libdir/libstd-*.rlib" >/dev/null
}

# Runs a command with a toolchain that can build for wasm32: rustup's target where it is
# installed, otherwise Debian's rustc-web building std from source (-Zbuild-std).
with_wasm_toolchain() {
  if has_rustup_wasm_target; then
    "$@"
  else
    PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 \
      CARGO_UNSTABLE_BUILD_STD="std,panic_abort" \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
      "$@"
  fi
}

# Several checkouts may share CARGO_TARGET_DIR (a CI clone beside a work tree). Cargo judges
# ganplay itself fresh by the file times of the sources it last built, which may be another
# checkout's: forget ganplay's own fingerprints so that it is rebuilt from this checkout
# (a minute; the dependencies stay built).
forget_own_build() {
  find "$CARGO_TARGET_DIR" -maxdepth 4 -type d -path '*/.fingerprint/ganplay-*' -exec rm -rf {} + 2>/dev/null || true
}

# Mesa's lavapipe (Vulkan on the CPU), unpacked here by `scripts/setup.sh test` (its libraries
# installed, the driver and the Vulkan loader not), so that Chromium keeps its own WebGPU
# adapter: native wgpu tests of ganplay's GPU kernels run on it.
LAVAPIPE_DIR="$HOME/.cache/ganplay/lavapipe"

# Runs a command with lavapipe as the only Vulkan device, and with the kernel tests required
# (GANPLAY_WGPU_TESTS), when it is unpacked; as it is otherwise.
with_lavapipe() {
  if [ -s "$LAVAPIPE_DIR/lvp.json" ] && [ -s "$LAVAPIPE_DIR/libdir" ]; then
    LD_LIBRARY_PATH="$(cat "$LAVAPIPE_DIR/libdir")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      VK_DRIVER_FILES="$LAVAPIPE_DIR/lvp.json" GANPLAY_WGPU_TESTS=1 "$@"
  else
    "$@"
  fi
}
