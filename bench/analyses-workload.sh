#!/bin/sh
# A host doing CPU, disk (with fsync), loopback network and IRQ work for SECONDS (default 5):
# the workload of the analyses' recordings (test/analyses/recorded.test.ts, bench/analyses.ts).
# Disk writes go to DIR (default: a temporary directory on the root filesystem, a real disk).
set -eu
SECONDS_=${1:-5}
DIR=${2:-$(mktemp -d /var/tmp/nstrace-workload-XXXXXX)}
mkdir -p "$DIR"
end=$(($(date +%s) + SECONDS_))
# CPU: a busy shell loop.
(while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); done; done) &
# Disk: 256 KiB written then fsync'd, read back, in a loop (block requests and disk IRQs).
(n=0; while [ "$(date +%s)" -lt "$end" ]; do
  dd if=/dev/zero of="$DIR/f$((n % 4))" bs=64k count=4 conv=fsync status=none
  cat "$DIR/f$((n % 4))" > /dev/null
  n=$((n + 1))
done) &
# Loopback network: a TCP echo over 127.0.0.1 (net_dev_xmit, netif_receive_skb, softirqs).
/usr/bin/python3 - "$SECONDS_" <<'PY' &
import socket, sys, threading, time
end = time.time() + float(sys.argv[1])
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
def echo():
    c, _ = srv.accept()
    while True:
        d = c.recv(65536)
        if not d: break
        c.sendall(d)
threading.Thread(target=echo, daemon=True).start()
cl = socket.create_connection(("127.0.0.1", port))
buf = b"x" * 4096
while time.time() < end:
    cl.sendall(buf)
    got = 0
    while got < len(buf): got += len(cl.recv(65536))
    time.sleep(0.0005)
cl.close()
PY
wait
rm -rf "$DIR"
