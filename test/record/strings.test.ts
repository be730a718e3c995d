/**
 * Issue 10's failure, as a user met it: a namespaced `cat` loop recorded for 4 s with the tracefs
 * backend carried paths from other address spaces, recycled pids, garbage bytes and other
 * processes' files. Now a path is written only when provably the one the syscall saw: every
 * non-empty `openat` filename of the loop's tasks must be one strace sees that loop open (0
 * wrong); how many are known is reported. A process blocked in openat on a FIFO must get its
 * path (the case the tracefs backend can prove), and no `cat` event may carry the pre-exec
 * shell's `/dev/null` (procname and path of the same instant).
 *
 * Run under the system lock: `flock /tmp/nstrace-system.lock npx vitest run test/record/strings.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { babeltrace2, hasCommand, skipReason } from './helpers.js';
import { recordCatLoop, straceOpens, type CatLoopRun } from './catloop.js';

const reason = skipReason() ?? (hasCommand('strace') ? undefined : 'strace is not installed');
if (reason) console.warn(`SKIPPING syscall string tests: ${reason}`);

let truth = new Set<string>();
let run: CatLoopRun | undefined;

beforeAll(async () => {
  if (reason) return;
  truth = await straceOpens();
  run = await recordCatLoop(['--backend', 'tracefs']);
}, 300_000);

afterAll(() => {
  if (process.env.KEEP_TRACE) console.warn('trace kept in', run?.traceDir);
  else run?.cleanup();
});

describe.skipIf(reason !== undefined)('syscall paths of a namespaced cat loop (tracefs backend)', () => {
  it('strace shows what the loop opens', () => {
    for (const f of ['/etc/ld.so.cache', '/proc/self/stat', '/dev/null']) expect(truth).toContain(f);
  });

  it('records a trace babeltrace2 reads, with the watcher running', () => {
    const r = run!;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/watcher failed/);
    expect(r.summary.watcher?.failed).toBe(false);
    const bt = babeltrace2([r.traceDir]);
    expect(bt.status).toBe(0);
    expect(bt.stderr).toBe('');
  });

  it('every non-empty openat filename of the loop is one strace sees it open (0 wrong)', () => {
    const r = run!;
    const opens = r.loopOpens;
    expect(opens.length).toBeGreaterThan(1000);
    const wrong = opens.filter((o) => o.value !== '' && !truth.has(o.value));
    const known = opens.filter((o) => o.value !== '').length;
    console.warn(
      `cat loop, tracefs: ${opens.length} openat of the loop's tasks, ${known} known ` +
        `(${((100 * known) / opens.length).toFixed(2)} %), ${wrong.length} wrong; ` +
        `summary strings ${JSON.stringify(r.summary.userStrings)}`,
    );
    expect(
      wrong.slice(0, 10).map((o) => `${o.procname} tid ${o.tid}: ${JSON.stringify(o.value)}`),
      'wrong paths',
    ).toEqual([]);
    // Every unknown one is counted in the summary.
    expect(r.summary.userStrings.unknown).toBeGreaterThanOrEqual(opens.length - known);
  });

  it('a thread blocked in openat gets its path', () => {
    const r = run!;
    expect(
      r.fifoOpens.map((o) => o.value),
      `opens of ${r.fifoPid}; paths naming the FIFO: ${JSON.stringify(r.allOpens.filter((o) => o.value === r.fifo))}; ` +
        `watcher ${JSON.stringify(r.summary.watcher)}; strings ${JSON.stringify(r.summary.userStrings)}`,
    ).toContain(r.fifo);
    expect(r.summary.userStrings.known).toBeGreaterThanOrEqual(1);
  });

  it("no cat event carries the pre-exec shell's open of /dev/null, no sh event cat's opens", () => {
    const r = run!;
    const cat = r.loopOpens.filter((o) => o.procname === 'cat');
    const sh = r.loopOpens.filter((o) => o.procname === 'sh');
    expect(cat.length).toBeGreaterThan(100);
    expect(sh.length).toBeGreaterThan(10);
    expect(cat.filter((o) => o.value === '/dev/null')).toEqual([]);
    expect(sh.filter((o) => o.value !== '' && o.value !== '/dev/null')).toEqual([]);
    // No procname other than the loop's (or unknown).
    expect(r.loopOpens.filter((o) => !['', 'cat', 'sh'].includes(o.procname))).toEqual([]);
  });
});
