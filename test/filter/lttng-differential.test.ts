/**
 * Differential test against real LTTng: the nsfilt workload (workload/nsfilt.c) runs in four
 * sets of namespaces while one unfiltered session and one session per case of cases.ts record
 * it at once. For every case, nstrace's event selection on the unfiltered trace must be exactly
 * the set of events lttng-ust recorded in the filtered session. Expressions `lttng` refuses must
 * be refused by nstrace too.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord, FieldValue } from '../../src/ctf/event.js';
import type { StructFC } from '../../src/ctf/ir.js';
import { TraceSet } from '../../src/ctf/index.js';
import { buildRecordFilter } from '../../src/filter/options.js';
import { parseFilter } from '../../src/filter/parser.js';
import { FilterSyntaxError } from '../../src/util/errors.js';
import { LttngSandbox, run } from '../util/lttng.js';
import { spawnSync } from 'node:child_process';
import { NSTRACE, ensureBuilt } from '../helpers/cli.js';
import { CASES, type DiffCase } from './cases.js';

const WORKLOAD = join(import.meta.dirname, 'workload');
const CONTEXTS = [
  'vpid',
  'vtid',
  'procname',
  'pthread_id',
  'cgroup_ns',
  'ipc_ns',
  'mnt_ns',
  'net_ns',
  'pid_ns',
  'time_ns',
  'user_ns',
  'uts_ns',
  'vuid',
  'veuid',
  'vsuid',
  'vgid',
  'vegid',
  'vsgid',
  '$app.foo:bar',
];

/** Expressions lttng refuses (checked live too): nstrace must refuse them. */
const REFUSED = [
  'i ==',
  'i = 1',
  'i + 1 == 2',
  '"abc"',
  '1.5',
  'str == "a\\n"',
  '$foo == 1',
  'arr4[i] == 1',
  '!"x"',
  '1.5 & 1',
  '"a*" == "b*c"',
  'str < "a*b"',
  'i == 0X1f',
  'i == 08',
  'a == "xESCSEQy"',
  "a == ''",
  '(a).b == 1',
  '$ctx == 1',
  'i == 0u',
];

interface Session {
  name: string;
  c: DiffCase;
  filter: string | undefined;
}

let sb: LttngSandbox;
let out: string;
let sessions: Session[];
/** Sessions whose `lttng enable-event` failed (none should). */
let failedCases: string[];
/** REFUSED entries lttng accepted (none should). */
let acceptedRefusals: string[];

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One line per event, independent of timestamps: class, contexts and payload values. */
function canonical(rec: EventRecord): string {
  const v = (x: FieldValue | undefined): string =>
    x === undefined
      ? '-'
      : typeof x === 'bigint'
        ? `${x}n`
        : Array.isArray(x)
          ? `[${x.map(v).join(',')}]`
          : typeof x === 'object'
            ? `<${x.option}:${v(x.value)}>`
            : JSON.stringify(x);
  const names = (s: StructFC | undefined): string[] => (s?.fields ?? []).map((f) => f.name);
  const ctx = names(rec.stream.streamClass.eventContext)
    .map((n, i) => `${n}=${v(rec.streamContext?.[i])}`)
    .join(' ');
  const pay = names(rec.eventClass.fields)
    .map((n, i) => `${n}=${v(rec.payload?.[i])}`)
    .join(' ');
  return `${rec.eventClass.name} {${ctx}} {${pay}} cpu=${v(rec.packet.context?.[names(rec.stream.streamClass.packetContext).indexOf('cpu_id')])}`;
}

function readAll(dir: string, keep?: (rec: EventRecord) => boolean): string[] {
  const ts = TraceSet.open([dir]);
  const f = keep;
  const lines: string[] = [];
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind !== 'event')
        throw new Error(`${dir}: the tracer lost events (${r.kind}): the comparison would be void`);
      if (f === undefined || f(r)) lines.push(canonical(r));
    }
  } finally {
    ts.close();
  }
  return lines.sort();
}

beforeAll(async () => {
  sb = await LttngSandbox.create('nstrace-filter-');
  out = join(sb.dir, 'traces');
  const exe = join(sb.dir, 'nsfilt');
  const cc = await run('gcc', [
    '-O1',
    '-I',
    WORKLOAD,
    '-o',
    exe,
    join(WORKLOAD, 'nsfilt.c'),
    '-llttng-ust',
    '-ldl',
    '-lpthread',
  ]);
  if (cc.code !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
  const netns = String(statSync('/proc/self/ns/net').ino);
  const mnt = await sb.exec(['stat', '-L', '-c', '%i', '/proc/self/ns/mnt']);
  const mntns = mnt.stdout.trim();

  sessions = [{ name: 'base', c: { events: '*', what: 'unfiltered' }, filter: undefined }];
  CASES.forEach((c, i) => {
    const filter = c.filter?.replace('@NETNS@', netns).replace('@MNTNS@', mntns);
    sessions.push({ name: `c${i}`, c, filter });
  });

  // One shell script in the sandbox: the refused expressions (one event rule each in a scratch
  // session), every session, then the workload in four sets of namespaces (symlinks give each
  // run its process name), then stop and destroy. Small sub-buffers (many sessions at once) in
  // blocking mode: no event is ever discarded.
  const t = (s: string): string => `echo "$(date +%s.%N) ${s}" >&2`;
  const lines: string[] = [
    'set -u',
    `mkdir -p ${sh(out)}`,
    t('start'),
    'lttng create refusals --snapshot >/dev/null',
  ];
  REFUSED.forEach((e, i) => {
    lines.push(
      `lttng enable-event -u -s refusals r${i} ${sh(`--filter=${e}`)} >/dev/null 2>&1 && echo r${i} >>${sh(join(out, 'accepted'))}`,
    );
  });
  lines.push('lttng destroy refusals >/dev/null', t('refusals done'));
  for (const s of sessions) {
    const ev = ['enable-event', '-u', '-s', s.name, '-c', 'ch', s.c.events ?? 'nsfilt:*'];
    if (s.c.exclude !== undefined) ev.push(`--exclude=${s.c.exclude}`);
    if (s.filter !== undefined) ev.push(`--filter=${s.filter}`);
    const ctx = CONTEXTS.flatMap((c) => ['-t', c]);
    const err = sh(join(out, s.name + '.err'));
    lines.push(
      `lttng create ${s.name} -o ${sh(join(out, s.name))} >/dev/null`,
      `lttng enable-channel -u -s ${s.name} ch --subbuf-size=128K --num-subbuf=4 --blocking-timeout=inf >/dev/null`,
      `if lttng ${ev.map(sh).join(' ')} >${err} 2>&1; then rm ${err}; else lttng destroy ${s.name} >/dev/null; fi`,
      `[ -e ${err} ] || { lttng add-context -u -s ${s.name} -c ch ${ctx.map(sh).join(' ')} >/dev/null && lttng start ${s.name} >/dev/null; }`,
    );
  }
  lines.push(t('sessions done'));
  const bin = join(sb.dir, 'bin');
  lines.push(
    `mkdir -p ${sh(bin)}`,
    ...['nsf-host', 'nsf-pidns', 'nsf-misc', 'nsf-user'].map((n) => `ln -s ${sh(exe)} ${sh(join(bin, n))}`),
    // The app waits for the session daemon to set up every session before running (under load the
    // default 3 s, or any bound, can let the workload start before some sessions trace it).
    'export LTTNG_UST_REGISTER_TIMEOUT=-1',
    // On one CPU: lttng-ust asks for the CPU once per session, so a task that migrates between
    // two sessions' reservations puts the same event in different CPUs' streams.
    `taskset -c 0 ${sh(join(bin, 'nsf-host'))} 1 || exit 10`,
    `taskset -c 0 unshare --pid --fork --mount-proc ${sh(join(bin, 'nsf-pidns'))} 1 || exit 11`,
    `taskset -c 0 unshare --uts --ipc --net --cgroup --time --fork ${sh(join(bin, 'nsf-misc'))} 1 || exit 12`,
    `taskset -c 0 unshare --user --map-user=1000 --map-group=1000 --fork ${sh(join(bin, 'nsf-user'))} 1 || exit 13`,
    t('workload done'),
    // Stopping waits for the consumer to flush: do all sessions at once.
    'for s in $(lttng list | sed -n "s/^ *[0-9][0-9]*) \\([^ ]*\\) .*/\\1/p"); do { lttng stop $s && lttng destroy $s; } >/dev/null & done',
    'wait',
  );
  lines.push(t('destroyed'));
  const r = await sb.exec(['sh', '-c', lines.join('\n')], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`recording failed (${r.code}): ${r.stderr}${r.stdout}`);
  if (process.env.NSTRACE_TEST_TIMES !== undefined) process.stderr.write(r.stderr);
  failedCases = sessions.filter((s) => existsSync(join(out, s.name + '.err'))).map((s) => s.name);
  const acc = join(out, 'accepted');
  acceptedRefusals = existsSync(acc) ? readFileSync(acc, 'utf8').trim().split('\n') : [];
}, 900_000);

afterAll(async () => {
  await sb?.destroy();
});

describe('nstrace filter vs lttng-ust', () => {
  it('lttng and nstrace accept every case', () => {
    expect(failedCases.map((n) => [n, readFileSync(join(out, n + '.err'), 'utf8')])).toEqual([]);
    for (const s of sessions) if (s.filter !== undefined) expect(() => parseFilter(s.filter!)).not.toThrow();
  });

  it('lttng and nstrace refuse the same malformed expressions', () => {
    expect(acceptedRefusals).toEqual([]);
    for (const e of REFUSED) expect(() => parseFilter(e), e).toThrow(FilterSyntaxError);
  });

  it('selects exactly the events lttng-ust recorded, for every case', () => {
    const cases = sessions.filter((s) => s.name !== 'base');
    // One pass over the unfiltered trace with every case's filter.
    const base = TraceSet.open([join(out, 'base')]);
    const filters = cases.map((s) =>
      buildRecordFilter(
        {
          filter: s.filter,
          event: [s.c.events ?? 'nsfilt:*'],
          exclude: s.c.exclude === undefined ? [] : [s.c.exclude],
        },
        base,
      ),
    );
    const ours: string[][] = cases.map(() => []);
    let total = 0;
    try {
      for (let r = base.next(); r !== null; r = base.next()) {
        if (r.kind !== 'event')
          throw new Error(`base: the tracer lost events (${r.kind}): the comparison would be void`);
        total++;
        let line: string | undefined;
        for (let i = 0; i < filters.length; i++) {
          if (filters[i]!(r)) ours[i]!.push((line ??= canonical(r)));
        }
      }
    } finally {
      base.close();
    }
    expect(total).toBeGreaterThan(1920);
    let nonTrivial = 0;
    cases.forEach((s, i) => {
      const theirs = readAll(join(out, s.name));
      if (theirs.length > 0 && theirs.length < total) nonTrivial++;
      expect({ case: s.c.filter ?? s.c.events, what: s.c.what, ours: ours[i]!.sort() }).toEqual({
        case: s.c.filter ?? s.c.events,
        what: s.c.what,
        ours: theirs,
      });
    });
    // The cases must discriminate: most of them keep some events and drop others.
    expect(nonTrivial).toBeGreaterThanOrEqual(60);
  });

  it('nstrace print --filter on the unfiltered trace prints the lines of the filtered trace', () => {
    ensureBuilt();
    const cli = NSTRACE;
    // Lines without the timestamp and delta (each session reads the clock itself).
    const print = (args: string[]): string[] => {
      const r = spawnSync('node', [cli, 'print', ...args], { encoding: 'latin1', maxBuffer: 1 << 28 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.replace(/^\[[^\]]*\] \([^)]*\) /, ''))
        .sort();
    };
    const picked = [
      'str == "h*l*o"',
      'u64 > 0',
      '$ctx.pid_ns == 4026531836',
      'seq[0] == 0 || i < 3',
      's8 | 1 ^ 3 & 6 == 3',
      'str == "hé*" || str > "h\\*"',
    ];
    const pickedNames = ['nsfilt:t*', '*', 'nsfilt:*'];
    const base = join(out, 'base');
    let checked = 0;
    for (const s of sessions) {
      if (s.name === 'base') continue;
      if (s.c.filter === undefined ? !pickedNames.includes(s.c.events!) : !picked.includes(s.c.filter))
        continue;
      const args = ['--event', s.c.events ?? 'nsfilt:*'];
      if (s.c.exclude !== undefined) args.push('--exclude', s.c.exclude);
      if (s.filter !== undefined) args.push('--filter', s.filter);
      expect({ case: s.c.filter ?? s.c.events, lines: print([...args, base]) }).toEqual({
        case: s.c.filter ?? s.c.events,
        lines: print([join(out, s.name)]),
      });
      checked++;
    }
    expect(checked).toBe(
      picked.length + CASES.filter((c) => c.filter === undefined && pickedNames.includes(c.events!)).length,
    );
  });

  it('a malformed expression is one error line with the column, the expression and a caret; exit code 2', () => {
    const cli = NSTRACE;
    const r = spawnSync('node', [cli, 'print', '--filter', 'i == 1 && str = "x"', join(out, 'base')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "nstrace: error: filter: column 15: syntax error: unexpected '=', expected an operator or the end of the expression\n" +
        '    i == 1 && str = "x"\n' +
        '                  ^\n',
    );
    const u = spawnSync('node', [cli, 'print', '--filter', '$ctx.tid == 1', join(out, 'base')], {
      encoding: 'utf8',
    });
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('unknown context $ctx.tid: this trace has $ctx.cgroup_ns, $ctx.cpu_id, ');
  });
});
