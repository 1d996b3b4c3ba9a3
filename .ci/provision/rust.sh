#!/usr/bin/env bash
# Rust (cargo + rustc) for maturin's real build in tests/publish/test_backends_compiled.py, and
# the C compiler rustc links with (scikit-build-core's CMake project there compiles with it too).
#
# Idempotent and fast when done: nothing is installed when `cargo` is on PATH or in
# ${CARGO_HOME:-~/.cargo}/bin (rustup's place) and `cc` is on PATH. Otherwise Debian's cargo
# (which brings rustc and gcc) or gcc is installed, serialised with other apt users
# (flock /tmp/apt.lock, DPkg::Lock::Timeout=600).
# Prints, as its last line, the folder that holds cargo (the tests put it on the backend's PATH).
# Exit 0 when `cargo --version` and `cc --version` answer; 1 with the reason on stderr otherwise.
set -euo pipefail

log() { echo "rust.sh: $*" >&2; }

where() {
  if command -v cargo >/dev/null 2>&1; then
    dirname "$(command -v cargo)"
  elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    echo "${CARGO_HOME:-$HOME/.cargo}/bin"
  else
    return 1
  fi
}

need=()
dir="$(where)" || need+=(cargo)
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "${need[*]} missing and there is no apt-get to install it (Rust: https://rustup.rs)"
    exit 1
  fi
  log "installing Debian's ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() {
    flock /tmp/apt.lock $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${need[@]}" >&2
  }
  if ! apt_install; then  # a fresh machine may have no package lists yet
    flock /tmp/apt.lock $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    apt_install
  fi
  dir="$(where)" || { log "cargo is still missing after apt-get install ${need[*]}"; exit 1; }
fi
if ! "$dir/cargo" --version >&2; then
  log "$dir/cargo does not run"
  exit 1
fi
if ! cc --version >/dev/null; then
  log "cc (the C compiler and linker) does not run"
  exit 1
fi
echo "$dir"
