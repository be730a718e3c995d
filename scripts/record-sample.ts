/**
 * Re-records the bundled sample trace `samples/containers-live/`: a few seconds of this host
 * with real containers of four runtimes running small workloads (Docker: a CPU loop that also
 * opens a file; Podman: writes and deletes a file, page allocations; LXC: a sleeping loop;
 * unshare: a sleeping loop), recorded by `nstrace record` with the namespace contexts, the
 * statedump and the container statedump.
 *
 * Usage (root; docker.io, podman, runc, lxc, busybox-static installed — scripts/test-setup.sh):
 *   node node_modules/vite-node/vite-node.mjs scripts/record-sample.ts [OUT_DIR] [SECONDS]
 *
 * The runtimes are private instances (own dockerd, own Podman storage, own LXC path) started
 * and stopped here, with the recipes of docs/research/runtimes.md (test/containers/harness.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { record } from '../src/record/backend.js';
import {
  Dockerd,
  Lxc,
  Podman,
  Workdir,
  run,
  startUnshare,
  stopUnshare,
  type Spawned,
} from '../test/containers/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

const WEB = [
  '/bin/sh',
  '-c',
  'while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; read x < /etc/hostname; done',
];
const DB = [
  '/bin/sh',
  '-c',
  'while true; do dd if=/dev/zero of=/tmp/blob bs=64k count=4 2>/dev/null; rm -f /tmp/blob; sleep 0.2; done',
];

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(repo, 'samples', 'containers-live'));
  const secs = Number(process.argv[3] ?? 2);
  if (process.getuid?.() !== 0) throw new Error('run as root');
  fs.rmSync(path.join(out, 'kernel'), { recursive: true, force: true });
  const w = new Workdir('nstrace-sample-');
  let dockerd: Dockerd | undefined;
  let podman: Podman | undefined;
  let lxc: Lxc | undefined;
  let uns: Spawned | undefined;
  try {
    const rootfs = await w.rootfs();
    const tar = await w.tar(rootfs);
    dockerd = new Dockerd(w);
    await dockerd.start();
    await dockerd.docker(['import', tar, 'nstrace-sample/bb:latest']);
    await dockerd.docker(['run', '-d', '--name', 'web', 'nstrace-sample/bb:latest', ...WEB]);
    podman = new Podman(w);
    await podman.podman(['import', tar, 'localhost/nstrace-sample-bb:latest']);
    await podman.startService();
    await podman.podman(['run', '-d', '--name', 'db', 'localhost/nstrace-sample-bb:latest', ...DB]);
    lxc = new Lxc(w);
    await lxc.create('cache', rootfs);
    await lxc.start('cache');
    uns = await startUnshare(rootfs);
    await new Promise((r) => setTimeout(r, 1000));
    process.stderr.write(`recording ${secs} s to ${out}\n`);
    const summary = await record({
      outDir: out,
      durationMs: secs * 1000,
      traceName: 'containers-live',
      // The bpf backend where the kernel allows it (contexts and strings read at event time).
      backend: (process.env.NSTRACE_BACKEND as 'bpf' | 'tracefs' | undefined) ?? 'auto',
      events: [
        'sched_switch',
        'sched_wakeup',
        'sched_waking',
        'sched_wakeup_new',
        'sched_process_*',
        'sched_migrate_task',
        'kmem_mm_page_alloc',
        'kmem_mm_page_free',
        'syscall_entry_read',
        'syscall_entry_write',
        'syscall_entry_openat',
        'syscall_entry_close',
        'syscall_entry_execve',
        'syscall_entry_wait4',
        'syscall_entry_clock_nanosleep',
        'syscall_entry_unlinkat',
        'syscall_entry_exit_group',
      ],
      packetSize: 64 * 1024,
      containerOptions: {
        dockerSockets: [dockerd.socket],
        podmanSockets: [podman.socket],
        lxdSockets: [],
        crioSockets: [],
        lxcPaths: [lxc.lxcPath],
      },
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    });
    process.stderr.write(
      `${summary.events} events, ${summary.lost} lost, ${(summary.bytes / 1048576).toFixed(1)} MiB, ` +
        `${summary.containers} containers in the statedump\n`,
    );
  } finally {
    if (uns) await stopUnshare(uns).catch(() => undefined);
    await lxc?.stopAll().catch(() => undefined);
    if (lxc) await run('lxc-destroy', ['-P', lxc.lxcPath, '-n', 'cache']).catch(() => undefined);
    await podman?.stop().catch(() => undefined);
    await dockerd?.stop().catch(() => undefined);
    await w.remove();
  }
}

await main();
