/**
 * `nstrace print` with container selectors and `$container` expressions on kernel traces with
 * known containers (test/integ/world.ts): the output must be exactly the lines of the unfiltered
 * print whose event was produced by a task of the selected containers, where "which task" is
 * read from the trace text and "which container" is the generator's ground truth, not nstrace's
 * model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, nstrace } from '../helpers/cli.js';
import type { Truth, World, WorldOptions } from './world.js';
import { buildWorld, producers, truthOf } from './world.js';

beforeAll(() => ensureBuilt(), 300_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function world(o: WorldOptions): World {
  const d = mkdtempSync(join(tmpdir(), 'nstrace-integ-'));
  dirs.push(d);
  return buildWorld(d, o);
}

function print(w: World, args: string[]): { lines: string[]; stderr: string } {
  const r = nstrace(['print', '--no-delta', '--clock-gmt', ...args, w.trace]);
  expect(r.code, r.stderr).toBe(0);
  return { lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr };
}

type Pick = (t: Truth | undefined) => boolean;

/** Selections and what they mean in terms of the ground truth. */
function selections(w: World): Array<[string[], Pick]> {
  const name =
    (...names: string[]): Pick =>
    (t) =>
      t !== undefined && names.includes(t.name);
  return [
    [['--container', 'web'], name('web')],
    [['--container', 'ci-*'], name('ci-runner', 'ci-job')],
    // Restarted under a new pid namespace: both incarnations, by name.
    [['--container', 'cache'], name('cache')],
    [['--container', String(w.ns.cache2)], (t) => t?.name === 'cache' && t.pidNs === w.ns.cache2],
    // One pid namespace inode, two containers one after the other.
    [['--container', 'old'], name('old')],
    [['--container', 'new'], name('new')],
    [['--container', String(w.ns.reused)], (t) => t?.pidNs === w.ns.reused],
    [['--container', w.webId.slice(0, 12)], name('web')],
    [['--container-type', 'podman'], (t) => t?.type === 'podman'],
    [['--container-type', 'unknown'], (t) => t?.pidNs === w.ns.anon],
    [['--host'], (t) => t === undefined],
    [['--container', 'web,new', '--host'], (t) => t === undefined || t.name === 'web' || t.name === 'new'],
    [['--filter', '$container.name == "c*"'], (t) => t !== undefined && t.name.startsWith('c')],
    [
      ['--filter', '$container.type == "docker" && $container.pid_ns != ' + String(w.ns.reused)],
      (t) => t?.type === 'docker' && t.pidNs !== w.ns.reused,
    ],
    [['--container-type', 'docker', '--event', 'syscall_*'], (t) => t?.type === 'docker'],
  ];
}

const VARIANTS: Array<[string, WorldOptions]> = [
  [
    'statedump (2.12+), container events, tid and pid_ns contexts',
    { statedump: 'modern', containerEvents: 'nstrace', contexts: ['tid', 'pid_ns'] },
  ],
  [
    'statedump before LTTng 2.12, container events, no contexts',
    { statedump: 'legacy', containerEvents: 'nstrace', contexts: [] },
  ],
  [
    'containers started during the trace (fork events only), no contexts',
    { statedump: 'none', containerEvents: 'nstrace', contexts: [] },
  ],
  [
    'pid_ns and vtid contexts, forks without namespace fields',
    { statedump: 'none', forkNs: false, containerEvents: 'nstrace', contexts: ['pid_ns', 'vtid'] },
  ],
  [
    "the 2018 proposal's lttng_statedump_container, tid context",
    { statedump: 'modern', containerEvents: 'legacy', contexts: ['tid'] },
  ],
];

describe('print --container/--container-type/--host/$container = the ground truth', () => {
  for (const [label, o] of VARIANTS) {
    it(label, () => {
      const w = world(o);
      const all = producers(print(w, []).lines.join('\n'), o.contexts.includes('tid'));
      for (const [args, pick] of selections(w)) {
        const named = args.includes('--event');
        const want = all
          .filter((e) => pick(truthOf(w, e.tid)) && (!named || e.name.startsWith('syscall_')))
          .map((e) => e.line);
        expect(want.length, args.join(' ')).toBeGreaterThan(0);
        const got = print(w, args).lines;
        expect(got.length, args.join(' ')).toBe(want.length);
        expect(got, args.join(' ')).toEqual(want);
      }
    });
  }

  it('a container named by its start event after its tasks ran is found by name from their first event', () => {
    const w = world({ statedump: 'modern', containerEvents: 'nstrace', contexts: ['tid'], lag: true });
    const all = producers(print(w, []).lines.join('\n'), true);
    const start = all.findIndex((e) => e.name === 'nstrace_container_start' && e.line.includes('"cache"'));
    const cache2 = new Set(w.cache2);
    // The restarted container's tasks ran before the event that names it...
    expect(all.filter((e, i) => i < start && cache2.has(e.tid)).length).toBeGreaterThan(0);
    // ...and are selected by name all the same, and by their pid namespace.
    const byName = all.filter((e) => truthOf(w, e.tid)?.name === 'cache');
    expect(print(w, ['--container', 'cache']).lines).toEqual(byName.map((e) => e.line));
    const byNs = all.filter((e) => cache2.has(e.tid));
    expect(byNs.length).toBeGreaterThan(0);
    expect(print(w, ['--container', String(w.ns.cache2)]).lines).toEqual(byNs.map((e) => e.line));
    expect(
      print(w, ['--filter', '$container.name == "cache" && $container.pid_ns == ' + String(w.ns.cache2)])
        .lines,
    ).toEqual(byNs.map((e) => e.line));
  });

  it('warns about a selector that matches no container, and prints nothing', () => {
    const w = world({ statedump: 'modern', containerEvents: 'nstrace', contexts: [] });
    const r = print(w, ['--container', 'wbe', '--container-type', 'dokcer']);
    expect(r.lines).toEqual([]);
    expect(r.stderr).toMatch(
      /^nstrace: warning: no container matches 'wbe'; the trace has: \[HOST\] \(--host\), web \(docker, id aaaaaaaaaaaa, pid_ns \d+\), /,
    );
    expect(r.stderr).toMatch(
      /\nnstrace: warning: no container of type 'dokcer'; the trace has: docker, podman, unknown\n$/,
    );
  });

  it('refuses $container without a trace, and a malformed expression, before reading', () => {
    const w = world({ statedump: 'modern', containerEvents: 'nstrace', contexts: [] });
    const r = nstrace(['print', '--filter', '$container.nme == "x"', w.trace]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^nstrace: error: filter: column \d+: /);
  });
});
