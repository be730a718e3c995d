/**
 * Metadata written by the LTTng 2.13 installed here: a UST trace with every lttng-ust field
 * macro and every namespace context, recorded live in a private session daemon and compared
 * with what babeltrace2 makes of the same trace; plus the committed copy of such a metadata
 * (test/fixtures/lttng-ust-2.13), checked field by field.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { EnumFC, FieldClass, StructFC, TraceClass } from '../../../src/ctf/ir.js';
import { readMetadataFile } from '../../../src/ctf/metadata/index.js';
import { LttngSandbox, buildUstApp } from '../../util/lttng.js';

const NS_CONTEXTS = ['pid_ns', 'user_ns', 'mnt_ns', 'net_ns', 'ipc_ns', 'uts_ns', 'cgroup_ns', 'time_ns'];

const PROVIDER = `
LTTNG_UST_TRACEPOINT_ENUM(nstrace_test, color,
  LTTNG_UST_TP_ENUM_VALUES(
    lttng_ust_field_enum_value("RED", 0)
    lttng_ust_field_enum_range("GREENISH", 1, 5)
    lttng_ust_field_enum_auto("AUTO")))
LTTNG_UST_TRACEPOINT_EVENT(nstrace_test, all_types,
  LTTNG_UST_TP_ARGS(int, i, const char *, s, double, d, float, f, const int *, arr, unsigned int, n),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(int, i, i)
    lttng_ust_field_integer_hex(unsigned long, ul, (unsigned long) i)
    lttng_ust_field_integer_network(short, net, (short) i)
    lttng_ust_field_float(double, d, d)
    lttng_ust_field_float(float, f, f)
    lttng_ust_field_string(s, s)
    lttng_ust_field_array(int, arr, arr, 3)
    lttng_ust_field_array_text(char, txt, s, 4)
    lttng_ust_field_sequence(int, seq, arr, unsigned int, n)
    lttng_ust_field_sequence_text(char, seqtxt, s, unsigned int, n)
    lttng_ust_field_enum(nstrace_test, color, int, col, i)))
LTTNG_UST_TRACEPOINT_EVENT(nstrace_test, empty, LTTNG_UST_TP_ARGS(), LTTNG_UST_TP_FIELDS())
`;

const MAIN = `int main(void) {
  int a[3] = {1, 2, 3};
  for (int i = 0; i < 3; i++) {
    lttng_ust_tracepoint(nstrace_test, all_types, i, "hello", 1.5, 2.5f, a, 2);
    lttng_ust_tracepoint(nstrace_test, empty);
  }
  return 0;
}`;

function field(s: StructFC | undefined, name: string): FieldClass {
  const f = s?.fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no field ${name}`);
  return f.type;
}

/** What the all_types/empty metadata must say, whoever recorded it. */
function checkUstClasses(cls: TraceClass): void {
  expect(cls.byteOrder).toBe('le');
  expect(cls.env.get('domain')).toBe('ust');
  expect(cls.env.get('tracer_major')).toBe(2);
  expect(cls.env.get('tracer_minor')).toBe(13);
  expect(cls.clocks.get('monotonic')).toMatchObject({ freq: 1e9 });
  expect(field(cls.packetHeader, 'magic')).toMatchObject({ kind: 'int', size: 32 });
  const sc = cls.streamClasses.get(0)!;
  // Namespace contexts: 64-bit unsigned inode numbers, with LTTng's leading underscore.
  const ctx = sc.eventContext!.fields.map((f) => f.name);
  expect(ctx).toEqual(['_vpid', '_vtid', '_procname', ...NS_CONTEXTS.map((n) => `_${n}`)]);
  for (const n of NS_CONTEXTS) {
    expect(field(sc.eventContext, `_${n}`)).toMatchObject({ kind: 'int', size: 64, signed: false });
  }
  expect(field(sc.eventContext, '_procname')).toMatchObject({
    kind: 'array',
    length: 17,
    element: { kind: 'int', size: 8, encoding: 'utf8' },
  });
  // The event header's compact/extended variant resolves to its own `id` enumeration.
  expect(field(sc.eventHeader, 'v')).toMatchObject({
    kind: 'variant',
    tag: { scope: 'stream.event.header', path: ['id'] },
  });
  const ev = [...sc.eventClasses.values()];
  expect(ev.map((e) => [e.id, e.name, e.logLevel])).toEqual([
    [0, 'nstrace_test:all_types', 13],
    [1, 'nstrace_test:empty', 13],
  ]);
  const f = ev[0]!.fields!;
  expect(f.fields.map((x) => x.name)).toEqual([
    '_i',
    '_ul',
    '_net',
    '_d',
    '_f',
    '_s',
    '_arr',
    '_txt',
    '__seq_length',
    '_seq',
    '__seqtxt_length',
    '_seqtxt',
    '_col',
  ]);
  expect(field(f, '_ul')).toMatchObject({ size: 64, signed: false, base: 16 });
  expect(field(f, '_net')).toMatchObject({ size: 16, signed: true, byteOrder: 'be' });
  expect(field(f, '_d')).toMatchObject({ kind: 'float', expDig: 11, mantDig: 53 });
  expect(field(f, '_f')).toMatchObject({ kind: 'float', expDig: 8, mantDig: 24 });
  expect(field(f, '_seq')).toMatchObject({
    kind: 'sequence',
    length: { scope: 'event.fields', path: ['__seq_length'] },
    element: { kind: 'int', size: 32, signed: true },
  });
  expect(field(f, '_seqtxt')).toMatchObject({
    kind: 'sequence',
    length: { scope: 'event.fields', path: ['__seqtxt_length'] },
    element: { size: 8, encoding: 'utf8' },
  });
  expect((field(f, '_col') as EnumFC).mappings).toEqual([
    { label: 'RED', ranges: [[0n, 0n]] },
    { label: 'GREENISH', ranges: [[1n, 5n]] },
    { label: 'AUTO', ranges: [[6n, 6n]] },
  ]);
  expect(ev[1]!.fields!.fields).toEqual([]);
}

/**
 * Stops the daemons of a sandbox (found by their LTTNG_HOME). LttngSandbox.destroy() looks for
 * the sessiond pid file through /proc/<holder>/root, which does not show the sandbox's private
 * tmpfs, so it misses them.
 */
async function stopSandboxDaemons(home: string): Promise<void> {
  const mine = (): number[] =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`LTTNG_HOME=${home}`);
        } catch {
          return false;
        }
      })
      .map(Number);
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    for (const pid of mine()) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 50 && mine().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  }
}

describe('LTTng-UST 2.13 metadata', () => {
  it('parses the committed sample (packetized, namespace contexts)', () => {
    const { cls, packetized } = readMetadataFile(
      join(import.meta.dirname, '../../fixtures/lttng-ust-2.13/metadata'),
    );
    expect(packetized).toBe(true);
    checkUstClasses(cls);
  });

  it('parses metadata recorded now, like babeltrace2 does', async () => {
    const sb = await LttngSandbox.create();
    try {
      const exe = await buildUstApp(`${sb.dir}/app`, 'nsdemo', 'nstrace_test', PROVIDER, MAIN);
      await sb.lttng('create', 's', '-o', `${sb.dir}/trace`);
      await sb.lttng('enable-event', '-u', 'nstrace_test:*');
      await sb.lttng(
        'add-context',
        '-u',
        '-t',
        'vpid',
        '-t',
        'vtid',
        '-t',
        'procname',
        ...NS_CONTEXTS.flatMap((n) => ['-t', n]),
      );
      await sb.lttng('start');
      expect((await sb.exec([exe])).code).toBe(0);
      await sb.lttng('stop');
      await sb.lttng('destroy');
      const dir = `${sb.dir}/trace/ust/uid/0/64-bit`;
      const { cls, packetized } = readMetadataFile(`${dir}/metadata`);
      expect(packetized).toBe(true);
      checkUstClasses(cls);
      // babeltrace2's view of the same trace: contexts without the underscore, same types.
      const { stdout } = await promisify(execFile)('/usr/bin/python3', [
        join(import.meta.dirname, 'bt2-classes.py'),
        dir,
      ]);
      const bt2 = JSON.parse(stdout) as {
        streams: Array<{
          event_common_context: { members: Array<[string, { kind: string; size?: number }]> };
        }>;
      };
      expect(bt2.streams[0]!.event_common_context.members.map(([n]) => n)).toEqual(
        cls.streamClasses.get(0)!.eventContext!.fields.map((f) => f.name.slice(1)),
      );
      for (const [n, t] of bt2.streams[0]!.event_common_context.members) {
        if (NS_CONTEXTS.includes(n)) expect(t).toMatchObject({ kind: 'int', size: 64 });
      }
    } finally {
      await stopSandboxDaemons(sb.home);
      await sb.destroy();
    }
  });
});
