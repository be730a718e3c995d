/**
 * The writer's LTTng layouts print the metadata LTTng prints: compared with a trace recorded
 * here by lttng-ust 2.13 / lttng-sessiond (same tracepoint field kinds, same channel contexts),
 * and with the metadata of an lttng-modules 2.11 kernel trace (fixture).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvValue } from '../../../src/ctf/ir.js';
import {
  MemorySink,
  TraceWriter,
  array,
  char,
  charArray,
  enumeration,
  float32,
  float64,
  hex,
  int,
  lttngField,
  lttngLayout,
  lttngSequence,
  parseUuid,
  s32,
  s64,
  string,
  u32,
  u64,
  u8,
  uint,
} from '../../../src/ctf/writer/index.js';
import { LttngSandbox, buildUstApp } from '../../util/lttng.js';
import { bt2, tempDir } from './peers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Depacketizes LTTng metadata (little-endian packets). */
function metadataText(bytes: Uint8Array): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let off = 0; off < bytes.length;) {
    const content = dv.getUint32(off + 24, true) / 8;
    parts.push(bytes.subarray(off + 37, off + content));
    off += dv.getUint32(off + 28, true) / 8;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Top-level TSDL blocks (separated by blank lines), whitespace runs collapsed. */
function blocks(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((b) => b.replace(/[ \t]+/g, ' ').trim())
    .filter((b) => b !== '' && b !== '/* CTF 1.8 */');
}

function envOf(text: string): Map<string, EnvValue> {
  const m = /env \{([^}]*)\};/.exec(text)!;
  const env = new Map<string, EnvValue>();
  for (const line of m[1]!.split('\n')) {
    const kv = /^\s*(\w+) = (?:"((?:[^"\\]|\\.)*)"|(-?\d+));/.exec(line);
    if (kv) env.set(kv[1]!, kv[2] !== undefined ? kv[2] : Number(kv[3]));
  }
  return env;
}

function clockOf(text: string): { uuid: Uint8Array; offset: bigint } {
  const c = /clock \{[^}]*uuid = "([^"]+)";[^}]*offset = (\d+);/.exec(text)!;
  return { uuid: parseUuid(c[1]!), offset: BigInt(c[2]!) };
}

function traceUuid(text: string): Uint8Array {
  return parseUuid(/trace \{[^}]*uuid = "([^"]+)";/.exec(text)![1]!);
}

const PROVIDER = `
LTTNG_UST_TRACEPOINT_ENUM(kinds_tp, colors,
  LTTNG_UST_TP_ENUM_VALUES(
    lttng_ust_field_enum_value("RED", 0)
    lttng_ust_field_enum_range("GREEN", 1, 5)
    lttng_ust_field_enum_value("BLUE", 100)
  )
)
LTTNG_UST_TRACEPOINT_EVENT(kinds_tp, all,
  LTTNG_UST_TP_ARGS(int, i, long, l, const char *, s, double, d, float, f, int *, arr, unsigned int, n),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(int, i, i)
    lttng_ust_field_integer(long, l, l)
    lttng_ust_field_integer(unsigned short, us, (unsigned short) i)
    lttng_ust_field_integer(uint8_t, u8, (uint8_t) i)
    lttng_ust_field_integer_hex(int, ih, i)
    lttng_ust_field_integer_hex(unsigned long, ulh, l)
    lttng_ust_field_integer_network(int, net, i)
    lttng_ust_field_integer_network_hex(int, neth, i)
    lttng_ust_field_float(double, d, d)
    lttng_ust_field_float(float, f, f)
    lttng_ust_field_string(s, s)
    lttng_ust_field_array(int, arr, arr, 3)
    lttng_ust_field_array_text(char, comm, s, 16)
    lttng_ust_field_sequence(int, seq, arr, unsigned int, n)
    lttng_ust_field_sequence_text(char, seqt, s, size_t, n)
    lttng_ust_field_enum(kinds_tp, colors, int, color, i)
  )
)`;

const MAIN = `
int main(void) {
  int arr[3] = { 1, -2, 3 };
  lttng_ust_tracepoint(kinds_tp, all, 1, -5L, "abc", 1.5, 2.25f, arr, 2);
  return 0;
}`;

const CONTEXTS = [
  'vpid',
  'vtid',
  'procname',
  'pid_ns',
  'user_ns',
  'mnt_ns',
  'net_ns',
  'ipc_ns',
  'uts_ns',
  'cgroup_ns',
  'time_ns',
];

describe('metadata as lttng-ust 2.13 / lttng-sessiond write it', () => {
  let lttngText = '';
  beforeAll(async () => {
    const out = join(tmp.dir, 'lttng');
    const sb = await LttngSandbox.create('nstrace-writer-meta-');
    try {
      const exe = await buildUstApp(join(sb.dir, 'app'), 'kinds', 'kinds_tp', PROVIDER, MAIN);
      await sb.lttng('create', 'wsession', '-o', out);
      await sb.lttng('enable-channel', '-u', 'ch');
      await sb.lttng('enable-event', '-u', '-c', 'ch', 'kinds_tp:*');
      for (const t of CONTEXTS) await sb.lttng('add-context', '-u', '-c', 'ch', '-t', t);
      await sb.lttng('start');
      const r = await sb.exec([exe]);
      if (r.code !== 0) throw new Error(`traced program failed: ${r.stderr}`);
      await sb.lttng('stop');
      await sb.lttng('destroy');
    } finally {
      await sb.destroy();
    }
    const dir = join(out, 'ust', 'uid', '0', '64-bit');
    chmodSync(dir, 0o755);
    lttngText = metadataText(readFileSync(join(dir, 'metadata')));
  }, 120_000);

  it('prints the same preamble, stream and event blocks', () => {
    const env = envOf(lttngText);
    const clock = clockOf(lttngText);
    const sink = new MemorySink();
    const tw = TraceWriter.create({
      sink,
      layout: lttngLayout({
        domain: 'ust',
        uuid: traceUuid(lttngText),
        hostname: String(env.get('hostname')),
        traceName: String(env.get('trace_name')),
        clock: { uuid: clock.uuid, offsetCycles: clock.offset },
        creationTime: (() => {
          const d = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)/.exec(
            String(env.get('trace_creation_datetime')),
          )!;
          return new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
        })(),
      }),
    });
    tw.addStreamClass({
      header: 'large',
      context: [
        lttngField('vpid', s32()),
        lttngField('vtid', s32()),
        lttngField('procname', charArray(17)),
        ...CONTEXTS.slice(3).map((n) => lttngField(n, u64())),
      ],
    });
    tw.addEventClass({
      name: 'kinds_tp:all',
      logLevel: 13,
      fields: [
        lttngField('i', s32()),
        lttngField('l', s64()),
        lttngField('us', uint(16)),
        lttngField('u8', u8()),
        lttngField('ih', int(32, { signed: true, base: 16 })),
        lttngField('ulh', hex(64)),
        lttngField('net', int(32, { signed: true, byteOrder: 'be' })),
        lttngField('neth', int(32, { signed: true, base: 16, byteOrder: 'be' })),
        lttngField('d', float64()),
        lttngField('f', float32()),
        lttngField('s', string()),
        lttngField('arr', array(s32(), 3)),
        lttngField('comm', charArray(16)),
        ...lttngSequence('seq', s32(), u32()),
        ...lttngSequence('seqt', char(), u64()),
        lttngField('color', enumeration(s32(), { RED: 0, GREEN: [1, 5], BLUE: 100 })),
      ],
    });
    tw.close();
    const ours = blocks(metadataText(sink.bytes()));
    const theirs = blocks(lttngText);
    // The preamble: type aliases, trace, env, clock, clock aliases, packet context, event headers.
    const nPre = ours.findIndex((b) => b.startsWith('stream {'));
    expect(nPre).toBeGreaterThan(5);
    expect(ours.slice(0, nPre)).toEqual(theirs.slice(0, nPre));
    const stream = (bs: string[]): string | undefined => bs.find((b) => b.startsWith('stream {'));
    expect(stream(ours)).toBe(stream(theirs));
    const event = (bs: string[]): string | undefined => bs.find((b) => b.includes('name = "kinds_tp:all";'));
    expect(event(theirs)).toBeDefined();
    expect(event(ours)).toBe(event(theirs));
  });
});

describe('metadata as lttng-modules writes it', () => {
  it('prints the preamble of an lttng-modules 2.11 kernel trace', () => {
    const text = metadataText(
      readFileSync(new URL('../../fixtures/babeltrace/multi-domains-kernel/metadata', import.meta.url)),
    );
    const env = envOf(text);
    const clock = clockOf(text);
    const sink = new MemorySink();
    const tw = TraceWriter.create({
      sink,
      layout: lttngLayout({
        domain: 'kernel',
        uuid: traceUuid(text),
        hostname: String(env.get('hostname')),
        sysname: String(env.get('sysname')),
        kernelRelease: String(env.get('kernel_release')),
        kernelVersion: String(env.get('kernel_version')),
        tracerMajor: Number(env.get('tracer_major')),
        tracerMinor: Number(env.get('tracer_minor')),
        tracerPatchlevel: Number(env.get('tracer_patchlevel')),
        clock: { uuid: clock.uuid, offsetCycles: clock.offset },
      }),
    });
    tw.addStreamClass({ header: 'compact' });
    tw.close();
    const ours = blocks(metadataText(sink.bytes()));
    const theirs = blocks(text);
    // lttng-modules 2.11 wrote empty trace_name/trace_creation_datetime; ours carry values.
    const normEnv = (b: string): string =>
      b.replace(/(trace_name|trace_creation_datetime) = "[^"]*";/g, '$1 = "";');
    expect(ours.length).toBeGreaterThan(8);
    expect(ours.map(normEnv)).toEqual(theirs.map(normEnv).slice(0, ours.length));
  });
});

describe('UST layout', () => {
  it('babeltrace2 reads our UST metadata back as we wrote it', () => {
    const dir = join(tmp.dir, 'ours');
    const tw = TraceWriter.create({ dir, layout: lttngLayout({ domain: 'ust' }) });
    tw.addStreamClass({ header: 'large', context: [lttngField('vpid', s32())] });
    tw.addEventClass({ name: 'x:y', logLevel: 13, fields: [lttngField('i', s32())] });
    tw.close();
    const r = bt2('--output-format=ctf-metadata', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${tw.metadataText}\n`);
  });
});
