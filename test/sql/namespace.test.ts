/**
 * Issue 16's `namespace` table: every namespace the threads, containers and event contexts of a
 * trace name is a row, pid namespaces carry their level, parent and container, on the bundled
 * recording and on the synthetic demo (nested containers).
 */
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, nstrace } from '../helpers/cli.js';

const ROOT = resolve(__dirname, '../..');
const TRACES = [join(ROOT, 'samples/containers-live'), join(ROOT, 'samples/containers-demo')];

beforeAll(() => ensureBuilt(), 300_000);

/** Rows of a CSV query (header dropped). */
function rows(trace: string, q: string): string[][] {
  const r = nstrace(['sql', '--format', 'csv', trace, q]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.split(','));
}

describe.each(TRACES)('namespace table of %s', (trace) => {
  it("has every thread's pid namespace, every container's, and every event context's", () => {
    expect(
      rows(
        trace,
        "SELECT DISTINCT pid_ns FROM thread WHERE pid_ns NOT IN (SELECT inum FROM namespace WHERE type = 'pid') AND pid_ns IS NOT NULL",
      ),
    ).toEqual([]);
    expect(
      rows(
        trace,
        "SELECT c.name, n.inum FROM container c, unnest(string_split(c.pid_ns_list, ',')) AS n(inum) " +
          "WHERE c.pid_ns_list <> '' AND NOT EXISTS (SELECT 1 FROM namespace x WHERE x.type = 'pid' " +
          'AND x.inum = CAST(n.inum AS BIGINT) AND x.container_key = c.container_key)',
      ),
    ).toEqual([]);
    for (const t of ['net', 'mnt', 'uts', 'ipc']) {
      expect(
        rows(
          trace,
          `SELECT DISTINCT CAST(context->>'$.${t}_ns' AS BIGINT) AS i FROM event WHERE context->>'$.${t}_ns' IS NOT NULL ` +
            `EXCEPT SELECT inum FROM namespace WHERE type = '${t}'`,
        ),
        `${t} namespaces of the event contexts`,
      ).toEqual([]);
    }
  });

  it('gives pid namespaces their level, parent (one level up) and container; the host is key 0', () => {
    const pid = rows(
      trace,
      "SELECT inum, level, parent, container_key FROM namespace WHERE type = 'pid' ORDER BY level, inum",
    );
    expect(pid.length).toBeGreaterThan(1);
    const root = pid.filter((r) => r[1] === '0');
    expect(root).toHaveLength(1);
    expect(root[0]![3]).toBe('0');
    const level = new Map(pid.map((r) => [r[0]!, Number(r[1])]));
    for (const r of pid.filter((x) => x[1] !== '0' && x[2] !== '')) {
      expect(level.get(r[2]!), `parent of ${r[0]}`).toBe(Number(r[1]) - 1);
    }
  });
});

describe('namespace table of the demo (nested containers)', () => {
  it('puts the nested ci-job one level below ci-runner', () => {
    const r = rows(
      TRACES[1]!,
      'SELECT c.name, n.level, p.container_key = r.container_key FROM namespace n JOIN container c USING (machine, container_key) ' +
        "JOIN namespace p ON p.machine = n.machine AND p.type = 'pid' AND p.inum = n.parent " +
        "JOIN container r ON r.machine = n.machine AND r.name = 'ci-runner' WHERE n.type = 'pid' AND c.name = 'ci-job'",
    );
    expect(r).toEqual([['ci-job', '2', 'true']]);
  });
});
