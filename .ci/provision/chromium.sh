#!/usr/bin/env bash
# Debian's chromium for the graph view tests (tests/render/test_browser.py drives it through
# Playwright with executable_path=/usr/bin/chromium: no browser download).
# Idempotent and fast when it is already there; apt runs are serialised with /tmp/apt.lock.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
else
  SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
flock /tmp/apt.lock $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
flock /tmp/apt.lock $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  chromium fonts-dejavu-core
command -v chromium >/dev/null 2>&1
