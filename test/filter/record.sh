#!/bin/sh
# Records the nsfilt workload with real LTTng, in several sessions at once, for the filter
# differential test (filter-lttng.test.ts).
#
#   record.sh SPEC OUTDIR NSFILT_BINARY
#
# SPEC has one session per line, fields separated by TAB:
#   NAME  EVENTS  EXCLUDE  FILTER
# (EXCLUDE and FILTER may be '-' for none). Each session gets one UST channel and one
# `lttng enable-event -u` with those arguments. A session whose enable-event command fails is
# destroyed and its lttng error output left in OUTDIR/NAME.err. The session named `base`
# records every namespace and process context.
#
# Isolation: a root lttng-sessiond always uses /var/run/lttng (LTTNG_HOME is ignored for root),
# and other processes on this machine may run their own. So this script re-executes itself in a
# private mount namespace with tmpfs on /var/run/lttng and /dev/shm: its sessiond, consumerd,
# lttng CLI and traced apps all meet there, and nothing outside sees them. The sessiond it
# starts is killed on exit.
set -eu

if [ "${NSFILT_IN_MNTNS:-}" != 1 ]; then
  export NSFILT_IN_MNTNS=1
  exec unshare --mount --propagation private -- "$0" "$@"
fi

SPEC=$1
OUT=$2
BIN=$3

mkdir -p /var/run/lttng
mount -t tmpfs tmpfs /var/run/lttng
mount -t tmpfs tmpfs /dev/shm

WORK=$(mktemp -d /tmp/nsfilt-rec.XXXXXX)
export LTTNG_HOME="$WORK/home"
export HOME="$WORK/home"
mkdir -p "$LTTNG_HOME" "$OUT"

cleanup() {
  if [ -f /var/run/lttng/lttng-sessiond.pid ]; then
    pid=$(cat /var/run/lttng/lttng-sessiond.pid)
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

lttng-sessiond --no-kernel --daemonize --quiet

# Small buffers: there are many sessions; the workload is small and paced.
TAB=$(printf '\t')
while IFS="$TAB" read -r name events exclude filter; do
  [ -n "$name" ] || continue
  case "$name" in \#*) continue ;; esac
  lttng create "$name" --output="$OUT/$name" >/dev/null
  lttng enable-channel -u -s "$name" ch --subbuf-size=256K --num-subbuf=4 --buffers-uid >/dev/null
  set -- enable-event -u -s "$name" -c ch "$events"
  [ "$exclude" = - ] || set -- "$@" "--exclude=$exclude"
  [ "$filter" = - ] || set -- "$@" "--filter=$filter"
  if ! lttng "$@" >"$OUT/$name.err" 2>&1; then
    lttng destroy "$name" >/dev/null 2>&1 || true
    rm -rf "${OUT:?}/$name"
    continue
  fi
  rm -f "$OUT/$name.err"
  if [ "$name" = base ]; then
    lttng add-context -u -s base -c ch -t vpid -t vtid -t procname -t pthread_id -t ip \
      -t cgroup_ns -t ipc_ns -t mnt_ns -t net_ns -t pid_ns -t time_ns -t user_ns -t uts_ns \
      -t vuid -t veuid -t vsuid -t vgid -t vegid -t vsgid >/dev/null
  fi
  lttng start "$name" >/dev/null
done <"$SPEC"

# The workload, under several names (procname) and sets of namespaces. A symlink keeps the
# name chosen here as the process name.
for n in nsf-host nsf-pidns nsf-misc nsf-user; do ln -s "$BIN" "$WORK/$n"; done
export LTTNG_UST_REGISTER_TIMEOUT=20000
"$WORK/nsf-host" 1
unshare --pid --fork --mount-proc "$WORK/nsf-pidns" 1
unshare --uts --ipc --net --cgroup --time --fork "$WORK/nsf-misc" 1
unshare --user --map-user=1000 --map-group=1000 --fork "$WORK/nsf-user" 1

for s in $(lttng list | sed -n 's/^ *[0-9][0-9]*) \([^ ]*\) .*/\1/p'); do
  lttng stop "$s" >/dev/null
  lttng destroy "$s" >/dev/null
done
