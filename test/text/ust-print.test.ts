/**
 * `nstrace print` against `babeltrace2` on UST traces recorded here with real lttng-sessiond
 * and lttng-ust (test/util/ust-scenarios.ts): every field macro, every namespace context,
 * unshared namespaces, per-UID and per-PID buffers, a channel that loses events, an
 * overwrite-mode channel.
 */
import { describe, expect, it } from 'vitest';
import { recordUstScenarios } from '../util/ust-scenarios.js';
import type { CompareOptions } from './bt2-compare.js';
import { bt2Print, compareOutputs, nstracePrint, warningLines } from './bt2-compare.js';
import { babeltrace2Check, requireCapability } from '../helpers/require.js';

const HAVE_BT2 = requireCapability('babeltrace2 2.0.x', babeltrace2Check);

const VARIANTS: CompareOptions[] = [
  {},
  { names: ['all'], fields: ['all'] },
  { clockCycles: true, names: ['none'] },
  { clockDate: true, clockSeconds: true, noDelta: true },
];

describe.skipIf(!HAVE_BT2)('nstrace print = babeltrace2 on UST traces recorded with lttng', () => {
  for (const name of ['uid-contexts', 'pid-buffers', 'discard', 'overwrite']) {
    it(name, { timeout: 900_000 }, async () => {
      const sc = (await recordUstScenarios()).find((x) => x.name === name)!;
      const saved = process.env.TZ;
      process.env.TZ = 'UTC';
      try {
        for (const v of VARIANTS) {
          const cli = { ...v, clockGmt: true };
          const bt = bt2Print([sc.dir], cli);
          expect(bt.status, bt.stderr.toString()).toBe(0);
          expect(bt.stdout.length).toBeGreaterThan(0);
          const ours = await nstracePrint([sc.dir], cli);
          expect(ours.error?.message).toBeUndefined();
          const cmp = compareOutputs(ours.out, bt.stdout);
          expect(cmp.diff, `${name} ${JSON.stringify(v)}`).toBeUndefined();
          const warnings = warningLines(bt.stderr.toString('latin1'));
          expect(warningLines(ours.err)).toEqual(warnings);
          if (name === 'discard' && v.clockCycles !== true) expect(warnings.length).toBeGreaterThan(0);
        }
      } finally {
        process.env.TZ = saved;
      }
    });
  }
});
