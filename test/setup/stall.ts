/**
 * Keeps vitest's worker responsive. Its runner awaits tests without going back to the event
 * loop, so a file of synchronous tests (spawnSync of babeltrace2, lttng, nstrace) can hold the
 * loop for minutes; the worker then misses its own RPC deadline (60 s) and the run fails with
 * "Timeout calling onTaskUpdate" however the tests went. So every test starts with one turn of
 * the event loop, and a test that still blocks it for long is named on stderr.
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

const WARN_MS = 20_000;
let last = Date.now();
const t = setInterval(() => {
  const now = Date.now();
  const gap = now - last;
  last = now;
  if (gap > WARN_MS) {
    const state = expect.getState();
    console.warn(
      `[stall] event loop blocked ${(gap / 1000).toFixed(1)} s in ${state.testPath ?? '?'} > ${state.currentTestName ?? '(hook or collection)'}`,
    );
  }
}, 1000);
t.unref();
