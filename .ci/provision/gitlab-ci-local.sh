#!/usr/bin/env bash
# Provision gitlab-ci-local (a real runner of GitLab pipelines, from npm) for the CI fan-out tests.
#
# Idempotent and fast when done: does nothing when `gitlab-ci-local --version` already answers
# 4.70.0 (4.75 crashes on Node 20). Needs node/npm (installed from Debian when missing) and rsync
# (gitlab-ci-local copies the project with it). Serialized with other installers by locks.
set -euo pipefail
WANTED="4.70.0"

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  flock /tmp/apt.lock apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

if ! have rsync; then apt_install rsync; fi
if ! have npm; then
  flock /tmp/apt.lock apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  apt_install nodejs npm
fi
if have gitlab-ci-local && [ "$(gitlab-ci-local --version 2>/dev/null)" = "$WANTED" ]; then
  exit 0
fi
flock /tmp/npm-gitlab-ci-local.lock npm install -g --no-fund --no-audit --loglevel=error "gitlab-ci-local@${WANTED}" >/dev/null
gitlab-ci-local --version
