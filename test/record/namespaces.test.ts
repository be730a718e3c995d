/**
 * End-to-end: record real workloads inside `unshare`d namespaces (a single level, nested pid
 * and user namespaces, and a process that unshares mid-recording) and check with babeltrace2
 * that every event of those tasks carries the inodes /proc showed, the vtids of every level,
 * the fork tree, the comms (including a prctl rename) and the syscall arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, type RecordSummary } from '../../src/record/recorder.js';
import {
  babeltrace2,
  field,
  parseBt2Lines,
  skipReason,
  tmpDir,
  tracefsRoot,
  tracefsSnapshot,
  type Bt2Event,
} from './helpers.js';
import { hostView, NS_NAMES, Probe, probeBinary, type HostView } from './probe.js';

const reason = skipReason();
if (reason) console.warn(`SKIPPING namespace recording tests: ${reason}`);

const N = 5;
const UNSHARE_ALL = ['unshare', '--pid', '--fork', '--mount-proc', '--uts', '--ipc', '--net', '--cgroup'];

interface Run {
  summary: RecordSummary;
  events: Bt2Event[];
  bt2stderr: string;
  bt2status: number;
  file: string;
  early: { view: HostView; child: number; lines: string[] };
  single: { view: HostView; child: number; lines: string[] };
  nested: { view: HostView; child: number; lines: string[] };
  unsharer: { view: HostView; after: Record<string, number>; child: number; lines: string[] };
  before: Record<string, string>;
  after: Record<string, string>;
}

let run: Run | undefined;
let out = '';

function parseNsLine(line: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const t of NS_NAMES) {
    const m = new RegExp(` ${t}=${t}:\\[(\\d+)\\]`).exec(line);
    if (m) r[t] = Number(m[1]);
  }
  return r;
}

async function drive(p: Probe): Promise<{ view: HostView; child: number; lines: string[] }> {
  const view = hostView(p.hostPid());
  p.go();
  const childLine = await p.waitLine('child');
  await p.waitLine('done');
  await p.finish();
  return { view, child: Number(childLine.split(' ')[1]), lines: p.lines };
}

beforeAll(async () => {
  if (reason) return;
  out = tmpDir('ns');
  const file = path.join(out, 'data.txt');
  fs.writeFileSync(file, 'namespace-probe-data\n'.repeat(4));
  probeBinary();
  const before = tracefsSnapshot(tracefsRoot()!);
  // One probe exists before the recording: the statedump must describe it.
  const early = await Probe.start(UNSHARE_ALL, [file, String(N)]);
  const probes: Probe[] = [early];
  try {
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const ac = new AbortController();
    const recP = record({
      outDir: out,
      events: [
        'sched_switch',
        'sched_process_*',
        'sched_wakeup*',
        'syscall_entry_openat',
        'syscall_entry_read',
        'syscall_entry_unshare',
        'syscall_entry_clone',
      ],
      signal: ac.signal,
      excludeChildren: false,
      bufferSizeKb: 8192,
      onStarted: () => started(),
      onWarning: (m) => console.warn('REC-WARN', m),
    });
    await startedP;
    const earlyR = await drive(early);
    const single = await Probe.start(UNSHARE_ALL, [file, String(N)]);
    probes.push(single);
    const singleR = await drive(single);
    const nested = await Probe.start(
      [
        'unshare',
        '--user',
        '--map-root-user',
        '--pid',
        '--fork',
        '--mount-proc',
        '--',
        'unshare',
        '--user',
        '--map-root-user',
        '--pid',
        '--fork',
        '--mount-proc',
      ],
      [file, String(N)],
    );
    probes.push(nested);
    const nestedR = await drive(nested);
    const unsharer = await Probe.start(
      ['unshare', '--pid', '--fork', '--mount-proc'],
      [file, String(N), 'unshare'],
    );
    probes.push(unsharer);
    const uview = hostView(unsharer.hostPid());
    unsharer.go();
    const uchild = Number((await unsharer.waitLine('child')).split(' ')[1]);
    const after = parseNsLine(await unsharer.waitLine('unshared'));
    await unsharer.waitLine('done');
    await unsharer.finish();
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    const summary = await recP;
    console.warn(
      'summary',
      JSON.stringify({
        threads: summary.threads,
        watcher: summary.watcher,
        patches: summary.patches,
        us: summary.userStrings,
      }),
    );
    const bt = babeltrace2([out]);
    run = {
      summary,
      events: parseBt2Lines(bt.stdout),
      bt2stderr: bt.stderr,
      bt2status: bt.status,
      file,
      early: earlyR,
      single: singleR,
      nested: nestedR,
      unsharer: { view: uview, after, child: uchild, lines: unsharer.lines },
      before,
      after: tracefsSnapshot(tracefsRoot()!),
    };
  } finally {
    for (const p of probes) p.kill();
  }
}, 120_000);

afterAll(() => {
  if (out && !process.env.KEEP_TRACE) fs.rmSync(out, { recursive: true, force: true });
  else if (out) console.warn('trace kept in', out);
});

function eventsOf(tid: number): Bt2Event[] {
  return run!.events.filter((e) => e.ctx.get('tid') === String(tid));
}

function expectNs(evs: Bt2Event[], ns: Record<string, number>): void {
  for (const e of evs) {
    for (const t of NS_NAMES) {
      expect(e.ctx.get(`${t}_ns`), `${e.name} ${t}_ns at ${e.ts}`).toBe(String(ns[t]));
    }
  }
}

describe.skipIf(reason !== undefined)('recording namespaced workloads', () => {
  it('writes a trace babeltrace2 reads without a warning, and restores tracefs', () => {
    const r = run!;
    expect(r.bt2status).toBe(0);
    expect(r.bt2stderr).toBe('');
    expect(r.events.length).toBe(r.summary.events);
    expect(r.summary.lost).toBe(0);
    expect(r.after).toEqual(r.before);
  });

  it('statedump describes a namespaced task at every pid-ns level', () => {
    const r = run!;
    const { view } = r.early;
    const pidns = r.events.filter(
      (e) => e.name === 'lttng_statedump_process_pid_ns' && field(e.payload, 'tid') === String(view.pid),
    );
    // Deepest level first: level 1 (vtid 1 in the new namespace), then the root level.
    expect(
      pidns.map((e) => [field(e.payload, 'ns_level'), field(e.payload, 'vtid'), field(e.payload, 'ns_inum')]),
    ).toEqual([
      ['1', '1', String(view.ns.pid)],
      ['0', String(view.pid), String(fs.readlinkSync('/proc/self/ns/pid').match(/\d+/)![0])],
    ]);
    for (const t of ['net', 'mnt', 'uts', 'ipc', 'cgroup'] as const) {
      const e = r.events.find(
        (x) => x.name === `lttng_statedump_process_${t}_ns` && field(x.payload, 'tid') === String(view.pid),
      );
      expect(field(e!.payload, 'ns_inum'), t).toBe(String(view.ns[t]));
    }
    const st = r.events.find(
      (e) => e.name === 'lttng_statedump_process_state' && field(e.payload, 'tid') === String(view.pid),
    );
    expect(st).toBeDefined();
    // The statedump sits between start and end.
    const names = r.events.map((e) => e.name);
    expect(names.indexOf('lttng_statedump_start')).toBeLessThan(
      names.indexOf('lttng_statedump_process_state'),
    );
    expect(names.lastIndexOf('lttng_statedump_end')).toBeGreaterThan(
      names.lastIndexOf('lttng_statedump_process_pid_ns'),
    );
  });

  for (const which of ['early', 'single', 'nested'] as const) {
    it(`${which}: every event of the task and its child carries /proc's inodes and ids`, () => {
      const r = run!;
      const { view, child } = r[which];
      const evs = eventsOf(view.pid);
      expect(evs.length).toBeGreaterThan(4 * N);
      expectNs(evs, view.ns);
      const vtid = String(view.nsPids[view.nsPids.length - 1]);
      for (const e of evs) {
        expect(e.ctx.get('vtid')).toBe(vtid);
        expect(e.ctx.get('vpid')).toBe(vtid);
        expect(e.ctx.get('pid')).toBe(String(view.pid));
      }
      // Syscalls: the known path and read count.
      const opens = evs.filter(
        (e) => e.name === 'syscall_entry_openat' && field(e.payload, 'filename') === JSON.stringify(r.file),
      );
      expect(opens.length).toBe(N);
      const reads = evs.filter((e) => e.name === 'syscall_entry_read' && field(e.payload, 'count') === '7');
      expect(reads.length).toBeGreaterThanOrEqual(N);
      const readExits = evs.filter((e) => e.name === 'syscall_exit_read' && field(e.payload, 'ret') === '7');
      expect(readExits.length).toBeGreaterThanOrEqual(N);
      // The fork: vtids of every level, root first; the child's own level is its vpid.
      // `child` is the pid fork() returned inside the namespace: the vtid at the deepest level.
      const forks = r.events.filter(
        (e) => e.name === 'sched_process_fork' && field(e.payload, 'parent_tid') === String(view.pid),
      );
      expect(forks.length, 'fork events of the probe').toBe(1);
      const fork = forks[0];
      const childTid = Number(field(fork!.payload, 'child_tid'));
      expect(field(fork!.payload, 'parent_tid')).toBe(String(view.pid));
      expect(field(fork!.payload, 'parent_ns_inum')).toBe(String(view.ns.pid));
      expect(field(fork!.payload, 'child_ns_inum')).toBe(String(view.ns.pid));
      const childEvents = eventsOf(childTid);
      expect(childEvents.length).toBeGreaterThan(2 * N);
      expectNs(childEvents, view.ns);
      const childVtids = fork!.payload
        .match(/vtids = \[ (.*?) \]/)![1]!
        .split(', ')
        .map((s) => Number(s.split(' = ')[1]));
      expect(childVtids.length).toBe(view.nsPids.length);
      expect(childVtids[0]).toBe(childTid);
      expect(childVtids[childVtids.length - 1]).toBe(child);
      for (const e of childEvents) {
        expect(e.ctx.get('vtid')).toBe(String(child));
        expect(e.ctx.get('vpid')).toBe(String(child));
        expect(e.ctx.get('pid')).toBe(String(childTid));
      }
      // prctl(PR_SET_NAME) renames the child: later events carry the new procname.
      const opensChild = childEvents.filter((e) => e.name === 'syscall_entry_openat');
      expect(opensChild.length).toBe(N);
      for (const e of opensChild) expect(e.ctx.get('procname')).toBe('"nsprobe-child"');
    });
  }

  it('nested: pid namespaces two levels deep', () => {
    const { view } = run!.nested;
    expect(view.nsPids.length).toBe(3);
    expect(view.nsPids[2]).toBe(1);
  });

  it('unshare(2) mid-recording changes the contexts from its exit on', () => {
    const r = run!;
    const { view, after } = r.unsharer;
    const evs = eventsOf(view.pid);
    const exitIdx = evs.findIndex(
      (e) => e.name === 'syscall_exit_unshare' && field(e.payload, 'ret') === '0',
    );
    expect(exitIdx).toBeGreaterThan(0);
    const entry = evs.find((e) => e.name === 'syscall_entry_unshare');
    expect(Number(field(entry!.payload, 'unshare_flags'))).toBe(0x04000000 | 0x08000000 | 0x40000000);
    expectNs(evs.slice(0, exitIdx), view.ns);
    const newNs = { ...view.ns, uts: after.uts!, ipc: after.ipc!, net: after.net! };
    expect(newNs.uts).not.toBe(view.ns.uts);
    expectNs(evs.slice(exitIdx), newNs);
    const opensAfter = evs.slice(exitIdx).filter((e) => e.name === 'syscall_entry_openat');
    expect(opensAfter.length).toBe(N);
  });
});
