/**
 * CTF writer benchmark: events/s and CPU per event writing a sched_switch-like event (7 payload
 * fields, two char[16]) with 8 channel contexts (6 namespace inodes, vpid, vtid) on 2 per-CPU
 * streams, 1 MiB packets, compared in the same run with lttng-ust recording the same event
 * layout with the same 8 contexts (a C program, private sessiond, blocking mode so nothing is
 * lost). lttng-ust's cost is split between the traced program (ring buffer writes) and
 * lttng-consumerd (copying packets to disk); both are measured.
 *
 * nstrace runs in this process: once into a sink that drops the bytes (pure encoding), once to
 * a directory (encoding + packets + index + write(2)).
 *
 * Usage: NSTRACE_BENCH_MAIN=1 npx vite-node bench/writer.ts   (NSTRACE_BENCH_WRITER_EVENTS, default
 * 4,000,000), or through bench/run.ts.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceWriter, charArray, lttngField, lttngLayout, s32, s64, u32 } from '../src/ctf/writer/index.js';
import type { TraceSink } from '../src/ctf/writer/index.js';
import type { BenchResult } from './measure.js';
import { LttngSandbox, buildUstApp } from '../test/util/lttng.js';

const EVENTS = Number(process.env.NSTRACE_BENCH_WRITER_EVENTS ?? 4_000_000);
const NS = ['pid_ns', 'user_ns', 'mnt_ns', 'net_ns', 'uts_ns', 'ipc_ns'];

interface Cost {
  wall: number;
  cpu: number;
  bytes: number;
}

const dropSink: TraceSink = {
  openStream: () => ({ writePackets: () => undefined, close: () => undefined }),
  writeMetadata: () => undefined,
  close: () => undefined,
};

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = statSync(p);
    n += s.isDirectory() ? dirBytes(p) : s.size;
  }
  return n;
}

/** lttng-modules' sched_switch payload (both writers write it). */
function schedSwitchFields(): ReturnType<typeof lttngField>[] {
  return [
    lttngField('prev_comm', charArray(16)),
    lttngField('prev_tid', s32()),
    lttngField('prev_prio', s32()),
    lttngField('prev_state', s64()),
    lttngField('next_comm', charArray(16)),
    lttngField('next_tid', s32()),
    lttngField('next_prio', s32()),
  ];
}

/** Writes EVENTS sched_switch events; returns wall and CPU seconds of the writing. */
export function writeNstrace(n: number, dir: string | undefined): Cost {
  const tw = TraceWriter.create({
    ...(dir !== undefined ? { dir } : { sink: dropSink }),
    layout: lttngLayout({ domain: 'kernel', hostname: 'bench' }),
    packetSize: 1 << 20,
  });
  tw.addStreamClass({
    header: 'compact',
    context: [...NS.map((x) => lttngField(x, u32())), lttngField('vpid', s32()), lttngField('vtid', s32())],
  });
  const ev = tw.addEventClass({
    name: 'sched_switch',
    fields: schedSwitchFields(),
  });
  const streams = [tw.stream(0, 0), tw.stream(0, 1)];
  const comms = ['swapper/0', 'bash', 'kworker/u4:2', 'node', 'systemd-journal'];
  const payload: Array<string | number> = ['', 0, 120, 0, '', 0, 120];
  const ctx: number[] = [4026531836, 4026531837, 4026531840, 4026531992, 4026531838, 4026531839, 0, 0];
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let ts = 1_000_000;
  for (let i = 0; i < n; i++) {
    ts += 37;
    payload[0] = comms[i % 5]!;
    payload[1] = i & 0xffff;
    payload[3] = i & 1;
    payload[4] = comms[(i + 1) % 5]!;
    payload[5] = (i + 1) & 0xffff;
    ctx[6] = i & 0xffff;
    ctx[7] = i & 0xffff;
    streams[i & 1]!.write(ev, ts, payload, ctx);
  }
  tw.close();
  const c = process.cpuUsage(c0);
  return {
    wall: Number(process.hrtime.bigint() - t0) / 1e9,
    cpu: (c.user + c.system) / 1e6,
    bytes: dir !== undefined ? dirBytes(dir) : 0,
  };
}

/**
 * The recorder's raw path (`beginRaw`/`commitRaw`): the 13 context words of `nstrace record`
 * (8 namespace inodes, vpid, vtid, tid, pid, procname) taken from prebuilt bytes, and a
 * 64-byte sched_switch payload copied in, on 2 per-CPU streams into a sink that drops the bytes.
 * `encoder`: the context goes through the stream's compiled context encoder and is then
 * overwritten with the prebuilt bytes (what the recorder did before `beginRawBytes()`).
 */
export function writeRaw(n: number, mode: 'encoder' | 'bytes'): Cost {
  const tw = TraceWriter.create({
    sink: dropSink,
    layout: lttngLayout({ domain: 'kernel', hostname: 'bench' }),
    packetSize: 1 << 18,
  });
  tw.addStreamClass({
    header: 'compact',
    context: [
      ...[...NS, 'cgroup_ns', 'time_ns'].map((x) => lttngField(x, u32())),
      ...['vpid', 'vtid', 'tid', 'pid'].map((x) => lttngField(x, s32())),
      lttngField('procname', charArray(16)),
    ],
  });
  const ev = tw.addEventClass({
    name: 'sched_switch',
    fields: schedSwitchFields(),
  });
  const streams = [tw.stream(0, 0), tw.stream(0, 1)];
  const ctxs = [0, 1, 2, 3].map((k) => {
    const b = new Uint8Array(64);
    for (let i = 0; i < 64; i++) b[i] = (i * 7 + k) & 0xff;
    return b;
  });
  const payload = new Uint8Array(64);
  for (let i = 0; i < 64; i++) payload[i] = i;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let ts = 1_000_000;
  for (let i = 0; i < n; i++) {
    ts += 37;
    const ps = streams[i & 1]!;
    const cb = ctxs[i & 3]!;
    let o: number;
    if (mode === 'encoder') {
      o = ps.beginRaw(ev, ts, 64);
      ps.bytes.set(cb, o - cb.length);
    } else {
      o = ps.beginRawBytes(ev, ts, 64, cb);
    }
    ps.bytes.set(payload, o);
    ps.commitRaw(o + 64);
  }
  tw.close();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, bytes: 0 };
}

const PROVIDER = `
LTTNG_UST_TRACEPOINT_EVENT(bench_sched, sched_switch,
  LTTNG_UST_TP_ARGS(const char *, prev_comm, int, prev_tid, int, prev_prio, long, prev_state,
                    const char *, next_comm, int, next_tid, int, next_prio),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_array_text(char, prev_comm, prev_comm, 16)
    lttng_ust_field_integer(int, prev_tid, prev_tid)
    lttng_ust_field_integer(int, prev_prio, prev_prio)
    lttng_ust_field_integer(long, prev_state, prev_state)
    lttng_ust_field_array_text(char, next_comm, next_comm, 16)
    lttng_ust_field_integer(int, next_tid, next_tid)
    lttng_ust_field_integer(int, next_prio, next_prio)
  )
)`;

const MAIN = `
#include <stdlib.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  static char comms[5][16] = { "swapper/0", "bash", "kworker/u4:2", "node", "systemd-journal" };
  for (long i = 0; i < n; i++)
    lttng_ust_tracepoint(bench_sched, sched_switch, comms[i % 5], (int) (i & 0xffff), 120, i & 1,
                         comms[(i + 1) % 5], (int) ((i + 1) & 0xffff), 120);
  return 0;
}`;

function ticks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0;
  }
}

function consumerds(home: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/comm`, 'utf8').startsWith('lttng-consumerd')) continue;
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(`LTTNG_HOME=${home}\0`)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Records n events with lttng-ust; returns the program's and consumerd's costs. */
export async function writeLttngUst(
  n: number,
  out: string,
): Promise<{ app: Cost; consumerCpu: number; total: number }> {
  const sb = await LttngSandbox.create('nstrace-bench-writer-');
  try {
    const exe = await buildUstApp(join(sb.dir, 'app'), 'sched', 'bench_sched', PROVIDER, MAIN);
    await sb.lttng('create', 'wbench', '-o', out);
    await sb.lttng(
      'enable-channel',
      '-u',
      'c',
      '--subbuf-size=1M',
      '--num-subbuf=8',
      '--blocking-timeout=inf',
    );
    await sb.lttng('enable-event', '-u', '-c', 'c', 'bench_sched:*');
    for (const t of [...NS, 'vpid', 'vtid']) await sb.lttng('add-context', '-u', '-c', 'c', '-t', t);
    await sb.lttng('start');
    const cons = consumerds(sb.home);
    const before = cons.reduce((s, p) => s + ticks(p), 0);
    const timeFile = join(sb.dir, 'time.txt');
    const t0 = process.hrtime.bigint();
    const r = await sb.exec([exe, String(n)], {
      env: { LTTNG_UST_ALLOW_BLOCKING: '1' },
      wrap: ['/usr/bin/time', '-f', '%e %U %S', '-o', timeFile],
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`lttng-ust workload failed: ${r.stderr}`);
    await sb.lttng('stop');
    const total = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = cons.reduce((s, p) => s + ticks(p), 0);
    await sb.lttng('destroy');
    const [e, u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return {
      app: { wall: e!, cpu: u! + s!, bytes: dirBytes(out) },
      consumerCpu: (after - before) / 100,
      total,
    };
  } finally {
    await sb.destroy();
  }
}

export async function run(): Promise<BenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'nstrace-bench-writer-'));
  try {
    process.stderr.write(`nstrace writer: ${EVENTS} events (warm-up, then encode-only and to disk)...\n`);
    writeNstrace(Math.min(EVENTS, 500_000), undefined);
    const mem = writeNstrace(EVENTS, undefined);
    const disk = writeNstrace(EVENTS, join(work, 'nstrace'));
    process.stderr.write('lttng-ust: same event and contexts...\n');
    let ust: Awaited<ReturnType<typeof writeLttngUst>> | undefined;
    let ustError = '';
    try {
      ust = await writeLttngUst(EVENTS, join(work, 'ust'));
    } catch (err) {
      ustError = (err as Error).message;
    }
    process.stderr.write(
      "nstrace raw path (the recorder's): context through the encoder, then as bytes...\n",
    );
    writeRaw(Math.min(EVENTS, 500_000), 'encoder');
    const rawEnc = writeRaw(EVENTS, 'encoder');
    writeRaw(Math.min(EVENTS, 500_000), 'bytes');
    const rawBytesCost = writeRaw(EVENTS, 'bytes');
    const perEv = (s: number): string => `${((s / EVENTS) * 1e9).toFixed(0)} ns`;
    const rate = (s: number): string => `${(EVENTS / s / 1e6).toFixed(2)} M/s`;
    const lines = [
      `${EVENTS} sched_switch events, 8 contexts, 2 streams, 1 MiB packets`,
      '',
      '| writer | wall | events/s (wall) | CPU per event | trace size |',
      '|---|---|---|---|---|',
      `| nstrace, encode only | ${mem.wall.toFixed(2)} s | ${rate(mem.wall)} | ${perEv(mem.cpu)} | - |`,
      `| nstrace, to disk | ${disk.wall.toFixed(2)} s | ${rate(disk.wall)} | ${perEv(disk.cpu)} | ${(disk.bytes / 2 ** 20).toFixed(0)} MiB |`,
      `| nstrace raw path, context encoded then overwritten | ${rawEnc.wall.toFixed(2)} s | ${rate(rawEnc.wall)} | ${perEv(rawEnc.cpu)} | - |`,
      `| nstrace raw path, context bytes copied | ${rawBytesCost.wall.toFixed(2)} s | ${rate(rawBytesCost.wall)} | ${perEv(rawBytesCost.cpu)} | - |`,
    ];
    const bars = [];
    if (ust !== undefined) {
      const ustCpu = ust.app.cpu + ust.consumerCpu;
      lines.push(
        `| lttng-ust, traced program | ${ust.app.wall.toFixed(2)} s | ${rate(ust.app.wall)} | ${perEv(ust.app.cpu)} | ${(ust.app.bytes / 2 ** 20).toFixed(0)} MiB |`,
        `| lttng-ust, program + consumerd | ${ust.total.toFixed(2)} s | ${rate(ust.total)} | ${perEv(ustCpu)} | |`,
        '',
        `nstrace to disk uses ${(disk.cpu / ustCpu).toFixed(2)}x the CPU of lttng-ust (program + consumerd) per event.`,
      );
      bars.push({
        name: 'writer CPU per event vs lttng-ust (program + consumerd)',
        value: `${(disk.cpu / ustCpu).toFixed(2)}x`,
        bar: '<= 3x',
        pass: disk.cpu / ustCpu <= 3,
      });
    } else {
      lines.push('', `lttng-ust run failed: ${ustError}`);
    }
    bars.push({
      name: 'writer events/s to disk (one core)',
      value: `${(EVENTS / disk.cpu / 1e6).toFixed(2)} M events per CPU-second`,
      bar: '>= 1 M',
      pass: EVENTS / disk.cpu >= 1e6,
    });
    return { title: 'CTF writer: sched_switch with 8 contexts, nstrace vs lttng-ust', lines, bars };
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

// Standalone: `node bench/writer.js` when compiled, or `NSTRACE_BENCH_MAIN=1 npx vite-node bench/writer.ts`.
const standalone = import.meta.url === `file://${process.argv[1]}` || process.env.NSTRACE_BENCH_MAIN === '1';
if (standalone) {
  const r = await run();
  process.stdout.write(`${r.title}\n${r.lines.join('\n')}\n`);
  for (const b of r.bars)
    process.stdout.write(`${b.pass ? 'PASS' : 'FAIL'}  ${b.name}: ${b.value} (bar: ${b.bar})\n`);
}
