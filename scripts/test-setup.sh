#!/bin/sh
# Installs from Debian everything the test suite needs. Idempotent: apt-get runs only when a
# package is missing. Called by `npm test` (and therefore by .ci/run); never rely on a package
# installed by hand.
set -eu

PACKAGES="
babeltrace2
babeltrace
lttng-tools
liblttng-ust-dev
python3-lttnganalyses
python3-bt2
gcc
libc6-dev
make
util-linux
busybox-static
docker.io
podman
runc
lxc
systemd-container
chromium
fonts-dejavu-core
strace
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-setup: missing Debian packages:$missing (run as root so that they can be installed)" >&2
    exit 1
  fi
  echo "test-setup: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >&2
fi

# The recorder's tests need tracefs mounted (test/record/helpers.ts; under CI=true a missing one
# fails the run). `nstrace record` mounts it for a recording and unmounts it after, so a fresh
# machine may have none: mount it here, as root, where the kernel has it.
if [ "$(id -u)" = 0 ] && ! grep -q ' tracefs ' /proc/mounts; then
  if [ -d /sys/kernel/tracing ] && mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
    echo "test-setup: mounted tracefs on /sys/kernel/tracing" >&2
  else
    echo "test-setup: could not mount tracefs on /sys/kernel/tracing: the recorder tests will say why" >&2
  fi
fi

if [ ! -d node_modules ]; then
  npm ci >&2
fi
