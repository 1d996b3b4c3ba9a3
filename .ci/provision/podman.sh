#!/usr/bin/env bash
# Provision a container engine for usertest's docker backend: podman behind a Docker-API socket.
#
# Idempotent and fast when done (a few checks). Steps, each skipped when already done:
#   1. apt: podman, runc, debootstrap, and a docker CLI (docker.io) when `docker` is missing
#      (serialized with other apt users: flock /tmp/apt.lock, DPkg::Lock::Timeout=600);
#   2. a containers.conf with default_ulimits and runtime = "runc" (crun fails here on
#      setrlimit and hybrid cgroups);
#   3. the image localhost/usertest-python:bookworm: debootstrap --variant=minbase bookworm
#      from Debian's mirror (python3, venv, pip, CA certificates), imported with `podman
#      import`; cached in podman's storage between runs;
#   4. `podman system service --time=0 unix://$DIR/podman.sock` in the background.
# Prints, as its last line, DOCKER_HOST=unix://... for the docker CLI. Exit 0 when the engine
# answers `docker info` and starts a container (a wedged service is restarted once); 1 with the
# reason on stderr otherwise.
#
# DIR: $MONOREPO_PODMAN_DIR, default $HOME/.cache/monorepo-tools/podman.
set -euo pipefail

DIR="${MONOREPO_PODMAN_DIR:-${HOME}/.cache/monorepo-tools/podman}"
IMAGE="localhost/usertest-python:bookworm"
MIRROR="${MONOREPO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$DIR"
exec 9>"$DIR/provision.lock"
flock 9  # one provisioning at a time (parallel test workers, CI)

log() { echo "podman.sh: $*" >&2; }

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || need+=(runc)
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v docker >/dev/null || need+=(docker.io)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "cannot install ${need[*]}: needs root and apt-get"
    exit 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  flock /tmp/apt.lock apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
  flock /tmp/apt.lock apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${need[@]}" >&2
fi
export PATH="$PATH:/usr/sbin:/sbin"

CONF="$DIR/containers.conf"
cat >"$CONF.new" <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
mv "$CONF.new" "$CONF"
export CONTAINERS_CONF="$CONF"

if ! podman image exists "$IMAGE" 2>/dev/null; then
  ROOTFS="$DIR/rootfs"
  rm -rf "$ROOTFS"
  log "building $IMAGE with debootstrap from $MIRROR (once; a few minutes)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR" >"$DIR/debootstrap.log" 2>&1 || {
    log "debootstrap failed (see $DIR/debootstrap.log):"; tail -5 "$DIR/debootstrap.log" >&2; exit 1; }
  tar -C "$ROOTFS" -c . | podman import - "$IMAGE" >&2
  rm -rf "$ROOTFS"
fi

SOCK="$DIR/podman.sock"
export DOCKER_HOST="unix://$SOCK"
# A service that answers `docker info` may still be wedged (seen after hours of test runs:
# containers stuck in "Created", defunct conmon processes): it must start a container too.
healthy=0
if docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  if timeout 90 docker run --rm "$IMAGE" true >/dev/null 2>&1; then
    healthy=1
  else
    log "the service on $SOCK answers but starts no container: restarting it"
    pkill -f "podman system service --time=0 unix://$SOCK" || true
    sleep 1
    podman rm --all --force >/dev/null 2>&1 || true
  fi
fi
if ! docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  rm -f "$SOCK"
  log "starting podman system service on $SOCK"
  # 9>&-: the service must not inherit (and so hold forever) the provisioning lock.
  nohup setsid podman system service --time=0 "unix://$SOCK" >"$DIR/service.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 1 100); do
    docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
if ! version="$(docker info --format '{{.ServerVersion}}' 2>&1)"; then
  log "the engine does not answer on $SOCK: $version (see $DIR/service.log)"
  exit 1
fi
if [ "$healthy" = 0 ] && ! timeout 90 docker run --rm "$IMAGE" true >/dev/null 2>&1; then
  log "the engine on $SOCK answers but cannot start a container from $IMAGE (see $DIR/service.log)"
  exit 1
fi
log "podman $version answers on $SOCK; image $IMAGE"
echo "DOCKER_HOST=$DOCKER_HOST"
