/**
 * Differential test of the reader against babeltrace2 (python3-bt2) on UST traces recorded here
 * with real lttng-sessiond and lttng-ust (see test/util/ust-scenarios.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceSet } from '../../src/ctf/index.js';
import { run } from '../util/lttng.js';
import { recordUstScenarios } from '../util/ust-scenarios.js';
import { dumpTraceSet } from './dump.js';
import { sameAllowingStaleStrings } from './compare.js';

const BT2DUMP = join(import.meta.dirname, 'bt2dump.py');

describe('reader vs babeltrace2 on UST traces recorded with lttng', () => {
  it('records the scenarios', { timeout: 600_000 }, async () => {
    const s = await recordUstScenarios();
    expect(s.map((x) => x.name)).toEqual(['uid-contexts', 'pid-buffers', 'discard', 'overwrite']);
  });

  for (const name of ['uid-contexts', 'pid-buffers', 'discard', 'overwrite']) {
    it(name, { timeout: 600_000 }, async () => {
      const sc = (await recordUstScenarios()).find((x) => x.name === name)!;
      const bt = await run('/usr/bin/python3', [BT2DUMP, '0', sc.dir], { timeoutMs: 600_000 });
      expect(bt.code, bt.stderr).toBe(0);
      const ts = TraceSet.open([sc.dir]);
      const ours = dumpTraceSet(ts, 0);
      ts.close();
      const theirs = bt.stdout.split('\n').filter((l) => l !== '');
      expect(theirs.length).toBeGreaterThan(0);
      for (let i = 0; i < Math.min(theirs.length, ours.length); i++) {
        if (!sameAllowingStaleStrings(JSON.parse(theirs[i]!), JSON.parse(ours[i]!))) {
          expect.fail(
            `record ${i} differs\n bt2:     ${theirs[i]!.slice(0, 800)}\n nstrace: ${ours[i]!.slice(0, 800)}`,
          );
        }
      }
      expect(ours.length).toBe(theirs.length);
      if (name === 'discard') expect(ours.some((l) => l.includes('"discarded-events"'))).toBe(true);
      if (name === 'uid-contexts') {
        // Events from the unshared namespaces carry other pid namespace inodes than the host's
        // (the two unshared runs do not overlap, so the kernel may give them the same inode).
        const pidNs = new Set(ours.map((l) => /"pid_ns":(\d+)/.exec(l)?.[1]).filter((x) => x !== undefined));
        expect(pidNs.size).toBeGreaterThanOrEqual(2);
      }
    });
  }
});
