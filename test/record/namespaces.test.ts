/**
 * End-to-end: record real workloads inside `unshare`d namespaces (a single level, nested pid
 * and user namespaces, and a process that unshares mid-recording) and check with babeltrace2
 * that every event of those tasks carries the inodes /proc showed, the vtids of every level,
 * the fork tree, the comms (including a prctl rename and the exec) and the syscall arguments.
 *
 * The workloads stay alive until the recording has stopped, so that everything the recorder
 * reads from /proc is there to read however late a loaded machine lets it run. A value the
 * recorder could not learn is written as 0 / "" ("unknown"): unknown contexts must be rare and
 * accounted for in the recorder's summary; a wrong value (neither the truth nor unknown) fails
 * the test at once. Syscall paths are written only when provably the ones the syscall saw (the
 * probe's opens of a regular file return at once: they are mostly unknown, each one counted in
 * the summary; test/record/strings.test.ts checks the known ones against strace).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../src/record/tracefs/recorder.js';
import type { RecordSummary } from '../../src/record/options.js';
import { TraceSet } from '../../src/ctf/reader.js';
import { fieldIndex } from '../../src/ctf/fields.js';
import {
  babeltrace2,
  field,
  parseBt2Lines,
  skipReason,
  tmpDir,
  expectTracefsRestored,
  tracefsRoot,
  tracefsSnapshot,
  type Bt2Event,
} from './helpers.js';
import { hostView, NS_NAMES, Probe, probeBinary, type HostView } from './probe.js';
import { ReferenceSwitches, type Switch } from './sched-check.js';
import { expectCompleteScheduling } from './scheduling.js';

const reason = skipReason();
if (reason) console.warn(`SKIPPING namespace recording tests: ${reason}`);

const N = 5;
const UNSHARE_ALL = ['unshare', '--pid', '--fork', '--mount-proc', '--uts', '--ipc', '--net', '--cgroup'];

interface Driven {
  view: HostView;
  child: number;
  lines: string[];
}

interface Run {
  summary: RecordSummary;
  events: Bt2Event[];
  opens: OpenAt[];
  bt2stderr: string;
  bt2status: number;
  file: string;
  early: Driven;
  single: Driven;
  nested: Driven;
  unsharer: Driven & { after: Record<string, number> };
  before: Record<string, string>;
  after: Record<string, string>;
  ref: { switches: Switch[]; lost: number };
}

/** An `openat` entry as nstrace's reader decodes it (babeltrace2 2.0.4 misprints "" strings). */
interface OpenAt {
  tid: number;
  dfd: number;
  flags: number;
  filename: string;
}

function readOpens(dir: string): OpenAt[] {
  const ts = TraceSet.open([dir]);
  const out: OpenAt[] = [];
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind !== 'event' || r.eventClass.name !== 'syscall_entry_openat') continue;
      const ec = r.eventClass;
      const at = (n: string): number => fieldIndex(ec.fields, `_${n}`);
      const tidAt = fieldIndex(r.stream.streamClass.eventContext!, '_tid');
      out.push({
        tid: Number(r.streamContext![tidAt]),
        dfd: Number(r.payload![at('dfd')]),
        flags: Number(r.payload![at('flags')]),
        filename: String(r.payload![at('filename')]),
      });
    }
  } finally {
    ts.close();
  }
  return out;
}

/**
 * Values checked against the truth: unknown ones (0, "") are counted, a wrong one fails at
 * once. `label` says where.
 */
class Tally {
  checked = 0;
  unknown = 0;
  readonly where: string[] = [];
  value(label: string, got: string | undefined, want: string, unknown: string): void {
    this.checked++;
    if (got === unknown) {
      this.unknown++;
      if (this.where.length < 20) this.where.push(label);
      return;
    }
    expect(got, label).toBe(want);
  }
}
const ctxTally = new Tally();
const pathTally = new Tally();

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

/** Runs a probe's phases; it stays alive (and its child) until `finish()`. */
async function drive(p: Probe): Promise<Driven> {
  const view = hostView(p.hostPid());
  p.go();
  const childLine = await p.waitLine('child ');
  await p.waitLine('kiddone');
  await p.waitLine('done');
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
  const reference = new ReferenceSwitches(tracefsRoot()!);
  try {
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const ac = new AbortController();
    reference.start();
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
        'syscall_entry_execve',
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
    const uchild = Number((await unsharer.waitLine('child ')).split(' ')[1]);
    const after = parseNsLine(await unsharer.waitLine('unshared'));
    await unsharer.waitLine('kiddone');
    await unsharer.waitLine('done');
    ac.abort();
    const summary = await recP;
    const ref = reference.stop();
    // Only now may the workloads go.
    for (const p of probes) await p.finish();
    console.warn(
      'summary',
      JSON.stringify({
        threads: summary.threads,
        watcher: summary.watcher,
        patches: summary.patches,
        strings: summary.userStrings,
      }),
    );
    const bt = babeltrace2([out]);
    run = {
      summary,
      events: parseBt2Lines(bt.stdout),
      opens: readOpens(out),
      bt2stderr: bt.stderr,
      bt2status: bt.status,
      file,
      early: earlyR,
      single: singleR,
      nested: nestedR,
      unsharer: { view: uview, after, child: uchild, lines: unsharer.lines },
      before,
      after: tracefsSnapshot(tracefsRoot()!),
      ref,
    };
  } finally {
    reference.remove();
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

/** Every event of `evs` carries the namespaces `ns` (or 0: unknown, counted). */
function expectNs(evs: Bt2Event[], ns: Record<string, number>, who: string): void {
  for (const e of evs) {
    for (const t of NS_NAMES) {
      ctxTally.value(`${who}: ${e.name} ${t}_ns at ${e.ts}`, e.ctx.get(`${t}_ns`), String(ns[t]), '0');
    }
  }
}

/** Every event of `evs` carries these ids (vtid/vpid 0: unknown, counted). */
function expectIds(evs: Bt2Event[], ids: { vtid: number; pid: number }, who: string): void {
  for (const e of evs) {
    const at = `${who}: ${e.name} at ${e.ts}`;
    ctxTally.value(`${at} vtid`, e.ctx.get('vtid'), String(ids.vtid), '0');
    ctxTally.value(`${at} vpid`, e.ctx.get('vpid'), String(ids.vtid), '0');
    expect(e.ctx.get('pid'), `${at} pid`).toBe(String(ids.pid));
  }
}

/**
 * The `N` phase opens of `tid` (flags O_RDONLY, dfd AT_FDCWD: the dynamic loader's opens have
 * O_CLOEXEC): each one's path is the file, or "" (unknown, counted).
 */
function expectPhaseOpens(tid: number, who: string): void {
  const r = run!;
  const opens = r.opens.filter((o) => o.tid === tid && o.flags === 0 && o.dfd === -100);
  expect(opens.length, `${who}: phase opens`).toBe(N);
  for (const o of opens) pathTally.value(`${who}: openat path`, o.filename, r.file, '');
}

/**
 * `procname`: the parent's comm ("unshare") until the exec renames the task, the program's name
 * from then on. The rename happens inside execve, between its entry and `sched_process_exec`
 * (the task may wake someone up in between, e.g. closing a close-on-exec pipe): there either
 * name is right, but once renamed, never back.
 */
function expectComms(evs: Bt2Event[], who: string): void {
  const exec = evs.findIndex((e) => e.name === 'sched_process_exec');
  let entry = -1;
  for (let i = 0; i < exec; i++) if (evs[i]!.name === 'syscall_entry_execve') entry = i;
  if (exec >= 0) expect(entry, `${who}: execve entry before the exec`).toBeGreaterThanOrEqual(0);
  const name = JSON.stringify(path.basename(probeBinary()).slice(0, 15));
  let renamed = false;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    const got = e.ctx.get('procname');
    let want = name;
    if (exec >= 0 && i <= entry) want = '"unshare"';
    else if (exec >= 0 && i < exec && !renamed && got !== name) want = '"unshare"';
    if (got === name) renamed = true;
    ctxTally.value(`${who}: ${e.name} procname at ${e.ts}`, got, want, '""');
  }
}

describe.skipIf(reason !== undefined)('recording namespaced workloads', () => {
  it('writes a trace babeltrace2 reads without a warning, and restores tracefs', () => {
    const r = run!;
    expect(r.bt2status).toBe(0);
    expect(r.bt2stderr).toBe('');
    expect(r.events.length).toBe(r.summary.events);
    expect(r.summary.lost).toBe(0);
    expectTracefsRestored(r.before, r.after);
  });

  it("scheduling: the kernel's switches, whole chains, CPU usage that adds up", async () => {
    await expectCompleteScheduling(out, run!.ref);
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
      expectNs(evs, view.ns, which);
      const vtid = view.nsPids[view.nsPids.length - 1]!;
      expectIds(evs, { vtid, pid: view.pid }, which);
      // The probes started during the recording were exec'd by unshare's child: the events
      // before the exec are unshare's (a later rename never reaches back).
      expectComms(evs, which);
      // Syscalls: the known path and read count.
      expectPhaseOpens(view.pid, which);
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
      ctxTally.value(
        `${which}: fork parent_ns_inum`,
        field(fork!.payload, 'parent_ns_inum'),
        String(view.ns.pid),
        '0',
      );
      ctxTally.value(
        `${which}: fork child_ns_inum`,
        field(fork!.payload, 'child_ns_inum'),
        String(view.ns.pid),
        '0',
      );
      const childEvents = eventsOf(childTid);
      expect(childEvents.length).toBeGreaterThan(2 * N);
      expectNs(childEvents, view.ns, `${which} child`);
      const childVtids = fork!.payload
        .match(/vtids = \[ (.*?) \]/)![1]!
        .split(', ')
        .map((s) => s.split(' = ')[1]);
      expect(childVtids.length).toBe(view.nsPids.length);
      expect(childVtids[0]).toBe(String(childTid));
      ctxTally.value(`${which}: fork vtids`, childVtids[childVtids.length - 1], String(child), '0');
      expectIds(childEvents, { vtid: child, pid: childTid }, `${which} child`);
      // prctl(PR_SET_NAME) renames the child: its later events carry the new procname.
      const opensChild = childEvents.filter((e) => e.name === 'syscall_entry_openat');
      expect(opensChild.length).toBeGreaterThanOrEqual(N);
      expectPhaseOpens(childTid, `${which} child`);
      // prctl(PR_SET_NAME) renames the child: the parent's comm until then, the new one after
      // (its phase opens among them), never back.
      const parentComm = JSON.stringify(path.basename(probeBinary()).slice(0, 15));
      let renamedAt = -1;
      childEvents.forEach((e, i) => {
        const pc = e.ctx.get('procname');
        if (pc === '"nsprobe-child"') {
          if (renamedAt < 0) renamedAt = i;
          return;
        }
        const want = renamedAt >= 0 ? '"nsprobe-child"' : parentComm;
        ctxTally.value(`${which} child: ${e.name} procname at ${e.ts}`, pc, want, '""');
      });
      expect(renamedAt).toBeGreaterThan(0);
      const phase = childEvents.filter(
        (e) => e.name === 'syscall_entry_openat' && field(e.payload, 'flags') === '0',
      );
      expect(phase.length).toBe(N);
      for (const e of phase) expect(childEvents.indexOf(e)).toBeGreaterThan(renamedAt - 1);
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
    expectNs(evs.slice(0, exitIdx), view.ns, 'unsharer before');
    const newNs = { ...view.ns, uts: after.uts!, ipc: after.ipc!, net: after.net! };
    expect(newNs.uts).not.toBe(view.ns.uts);
    expectNs(evs.slice(exitIdx), newNs, 'unsharer after');
    expectComms(evs, 'unsharer');
    const opens = r.opens.filter((o) => o.tid === view.pid && o.flags === 0 && o.dfd === -100);
    // N before the unshare, N after.
    expect(opens.length).toBe(2 * N);
    for (const o of opens) pathTally.value('unsharer: openat path', o.filename, r.file, '');
  });

  // Last (vitest runs a file's tests in order): the tallies of the tests above.
  it('unknown values are rare and each one is accounted for in the summary', () => {
    const s = run!.summary;
    console.warn(
      'unknown values:',
      JSON.stringify({
        contexts: `${ctxTally.unknown}/${ctxTally.checked}`,
        paths: `${pathTally.unknown}/${pathTally.checked}`,
        where: [...ctxTally.where, ...pathTally.where],
      }),
    );
    expect(ctxTally.checked).toBeGreaterThan(1000);
    // early, single, nested: the probe's and its child's; the unsharer's before and after.
    expect(pathTally.checked).toBe(3 * 2 * N + 2 * N);
    // Rare: the workloads wait for the recording to end, so /proc always has the answer;
    // what can still be missed is a watcher starved for seconds.
    expect(ctxTally.unknown, ctxTally.where.join('\n')).toBeLessThanOrEqual(ctxTally.checked / 100);
    // Accounted for: unresolved namespaces or patches too late or never resolved.
    if (ctxTally.unknown > 0)
      expect(s.threads.nsUnresolved + s.patches.tooLate + s.patches.unresolved).toBeGreaterThan(0);
    // Paths: every unknown one is counted in the summary (known ones were checked above: a
    // wrong path fails at once).
    expect(s.userStrings.unknown).toBeGreaterThanOrEqual(pathTally.unknown);
    expect(s.userStrings.known + s.userStrings.unknown).toBeGreaterThanOrEqual(pathTally.checked);
  });
});
