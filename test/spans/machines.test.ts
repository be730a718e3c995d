/**
 * Traces grouped by machine: the grouping rule, the clock plan, and the commands on a directory
 * holding two machines' traces (samples/: a real recording and a synthetic trace, different
 * boot ids and dates), which must never mix them: each machine's report is the report of its
 * trace alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClockClass, TraceClass } from '../../src/ctf/ir.js';
import type { TraceMeta } from '../../src/model/machines.js';
import { INIT_TIME_NS, clockPlan, groupByMachine } from '../../src/model/machines.js';
import { readTimeNsOffsets } from '../../src/record/statedump.js';
import { ensureBuilt, nstrace } from '../helpers/cli.js';

const LIVE = 'samples/containers-live';
const DEMO = 'samples/containers-demo';

function meta(
  dir: string,
  domain: string,
  hostname: string,
  uuid: string | undefined,
  baseNs: bigint,
): TraceMeta {
  const clock: ClockClass = {
    name: 'monotonic',
    freq: 1e9,
    offsetSeconds: 0,
    offsetCycles: 0,
    precision: 0,
    absolute: false,
  };
  return {
    dir,
    cls: { env: new Map() } as unknown as TraceClass,
    domain,
    hostname,
    clockUuid: uuid,
    clock,
    clockBase: baseNs,
  };
}

const BOOT_A = '2b484679-1dd8-41c2-9096-c57b0d471c23';
const BOOT_B = 'd8d0f2ab-02ff-4277-aa3f-188a56a42d90';
const S = 1_000_000_000n;

describe('grouping traces by machine', () => {
  it('one machine per clock UUID (boot id), whatever the hostnames; kernel traces first', () => {
    const m = groupByMachine([
      meta('/r/ctr/app/ust', 'ust', 'app-ctr', BOOT_A, 100n * S),
      meta('/r/vm/host/kernel', 'kernel', 'vm', BOOT_A, 100n * S),
      meta('/r/other/host/kernel', 'kernel', 'other', BOOT_B, 200n * S),
      meta('/old/a', 'kernel', 'x', undefined, 0n),
      meta('/old/b', 'ust', 'x', undefined, 0n),
      meta('/old/c', 'kernel', 'y', undefined, 0n),
    ]);
    expect(m.map((x) => [x.name, x.bootId, x.traces.map((t) => t.dir)])).toEqual([
      ['vm', BOOT_A, ['/r/vm/host/kernel', '/r/ctr/app/ust']],
      ['other', BOOT_B, ['/r/other/host/kernel']],
      ['x', undefined, ['/old/a', '/old/b']],
      ['y', undefined, ['/old/c']],
    ]);
    expect(m[0]!.hostnames).toEqual(['vm', 'app-ctr']);
  });

  it('puts every trace on the reference clock, time namespaces included', () => {
    const k = meta('/k', 'kernel', 'vm', BOOT_A, 1000n * S);
    const day = 86_400n * S;
    // UST sessions: host (offset measured 3 us apart), a session daemon inside a time namespace
    // (its offset compensates), one outside it (the app's timestamps carry the offset), one
    // whose namespace is unknown with a compensated offset, and a clock step.
    const host = meta('/u-host', 'ust', 'vm', BOOT_A, 1000n * S + 3000n);
    const inside = meta('/u-in', 'ust', 'c1', BOOT_A, 1000n * S - day + 5000n);
    const outside = meta('/u-out', 'ust', 'c2', BOOT_A, 1000n * S - 2000n);
    const unknownNs = meta('/u-ns', 'ust', 'c3', BOOT_A, 1000n * S - day);
    const stepped = meta('/u-step', 'ust', 'vm', BOOT_A, 1005n * S);
    const m = groupByMachine([k, host, inside, outside, unknownNs, stepped])[0]!;
    const ns = new Map<string, { inum: number | undefined; offsetNs: bigint | undefined }>([
      ['/u-host', { inum: INIT_TIME_NS, offsetNs: undefined }],
      ['/u-in', { inum: 42, offsetNs: day }],
      ['/u-out', { inum: 42, offsetNs: day }],
      ['/u-ns', { inum: 43, offsetNs: undefined }],
    ]);
    const plan = clockPlan(m, (t) => ns.get(t.dir));
    const shift = Object.fromEntries(plan.map((p) => [p.trace.dir, p.shiftNs]));
    // Reader time = clock offset + cycles + shift = the kernel's offset + cycles - time ns offset.
    expect(shift).toEqual({
      '/k': 0n,
      '/u-host': -3000n,
      '/u-in': -5000n,
      '/u-out': 2000n - day,
      '/u-ns': 0n,
      '/u-step': 0n,
    });
    expect(plan.find((p) => p.trace.dir === '/u-step')!.warning).toMatch(/clock step.*time_ns/);
    expect(plan.filter((p) => p.warning !== undefined)).toHaveLength(1);
  });

  it('reads /proc/PID/timens_offsets', () => {
    const own = readTimeNsOffsets('/proc/self/timens_offsets');
    if (own !== undefined) expect(own.monotonic[0]).toBeTypeOf('bigint');
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nstrace-timens-')), 'timens_offsets');
    fs.writeFileSync(f, 'monotonic       86400         5\nboottime           -3    999999999\n');
    expect(readTimeNsOffsets(f)).toEqual({ monotonic: [86400n, 5], boottime: [-3n, 999999999] });
    fs.writeFileSync(f, '1 10 0\n7 0 20\n');
    expect(readTimeNsOffsets(f)).toEqual({ monotonic: [10n, 0], boottime: [0n, 20] });
    expect(readTimeNsOffsets(path.join(f, 'nope'))).toBeUndefined();
    fs.rmSync(path.dirname(f), { recursive: true });
  });
});

/** Splits `cmd` output on the machine headings: heading → section. */
function sections(out: string): Map<string, string> {
  const m = new Map<string, string>();
  const parts = out.split(/^=== Machine /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    m.set(p.slice(0, nl), p.slice(nl + 1).replace(/\n+$/, ''));
  }
  return m;
}

describe('commands on two machines never mix them', () => {
  it('top and cputop: one report per machine, each the report of its trace alone', () => {
    ensureBuilt();
    for (const cmd of ['top', 'cputop']) {
      const both = nstrace([cmd, '--gmt', 'samples']);
      expect(both.code, both.stderr).toBe(0);
      expect(both.stderr).toMatch(/the traces come from 2 machines/);
      const s = sections(both.stdout);
      expect(s.size).toBe(2);
      for (const dir of [LIVE, DEMO]) {
        const alone = nstrace([cmd, '--gmt', dir]);
        expect(alone.code, alone.stderr).toBe(0);
        const key = [...s.keys()].find((k) => k.includes(path.resolve(dir)))!;
        expect(key, [...s.keys()].join(' | ')).toBeDefined();
        expect(s.get(key)).toBe(alone.stdout.replace(/\n+$/, ''));
      }
      // Neither period spans both recordings (ten months apart).
      for (const sec of s.values()) {
        const [, b, e] = /Timerange: \[(\d{4}-\d\d-\d\d) .*, (\d{4}-\d\d-\d\d) /.exec(sec)!;
        expect(b).toBe(e);
      }
    }
  });

  it('--mi: the tables of each machine, named in their subtitles', () => {
    const both = nstrace(['cputop', '--mi', 'samples']);
    expect(both.code, both.stderr).toBe(0);
    const doc = JSON.parse(both.stdout) as { results: Array<{ class: { inherit: string; title: string } }> };
    const live = JSON.parse(nstrace(['cputop', '--mi', LIVE]).stdout) as { results: unknown[] };
    const demo = JSON.parse(nstrace(['cputop', '--mi', DEMO]).stdout) as { results: unknown[] };
    expect(doc.results).toHaveLength(live.results.length + demo.results.length);
    const titles = doc.results.map((t) => t.class.title);
    expect(titles.filter((t) => t.includes('machine vm (boot 3c7dff94)'))).toHaveLength(live.results.length);
    expect(titles.filter((t) => t.includes('machine demo-host (boot 07070707)'))).toHaveLength(
      demo.results.length,
    );
  });

  it('print --host: each machine has its own model (the lines of each trace alone)', () => {
    const lines = (args: string[]): string[] => {
      const r = nstrace(['print', '--no-delta', '--host', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter((l) => l !== '');
    };
    const both = lines(['samples']);
    const alone = [...lines([LIVE]), ...lines([DEMO])];
    expect(both.length).toBe(alone.length);
    expect([...both].sort()).toEqual([...alone].sort());
  });

  it('containers: one block per machine, with its traces', () => {
    const r = nstrace(['containers', 'samples']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^Machine /gm)).toHaveLength(2);
    expect(r.stdout).toMatch(
      /^Machine vm \(boot 3c7dff94\)\n {2}TRACE +PATH +CLOCK\n {2}kernel:vm +samples\/containers-live\/kernel/m,
    );
    // --no-progress, as every command that reads traces takes it: same output.
    const quiet = nstrace(['containers', '--no-progress', 'samples']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe(r.stdout);
    const json = JSON.parse(nstrace(['containers', '--json', 'samples']).stdout) as {
      machines: Array<{
        name: string;
        containers: Array<{ name: string; coverage: Array<{ events: number }> }>;
      }>;
    };
    expect(json.machines.map((m) => m.name).sort()).toEqual(['demo-host', 'vm']);
    const vm = json.machines.find((m) => m.name === 'vm')!;
    expect(vm.containers.find((c) => c.name === 'web')!.coverage[0]!.events).toBeGreaterThan(0);
  });
});
