/**
 * The `event` table against babeltrace2 (the peer), with stream intersection as the analyses
 * read: the same events, each with its time, CPU and name, and for sched_switch and syscall
 * exits the payload fields babeltrace2 prints (next_comm, prev_tid; ret).
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTraces, SqlEngine } from '../../src/sql/index.js';

const ROOT = resolve(__dirname, '../..');

function babeltrace(path: string): string[] {
  const out = execFileSync('babeltrace2', ['--stream-intersection', '--clock-seconds', path], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const keys: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\[(\d+)\.(\d{9})\] \(\S+\) \S+ (\S+): \{ cpu_id = (\d+) \}(.*)$/.exec(line);
    if (m === null) continue;
    const [, sec, ns, name, cpu, rest] = m;
    let extra = '';
    if (name === 'sched_switch') {
      const f = /prev_tid = (\d+),.*next_comm = "([^"]*)"/.exec(rest!);
      extra = f === null ? '?' : `${f[1]}/${f[2]}`;
    } else if (name!.startsWith('syscall_exit_')) {
      const f = /ret = (-?\d+)/.exec(rest!);
      extra = f === null ? '' : f[1]!;
    }
    keys.push(`${BigInt(sec!) * 1_000_000_000n + BigInt(ns!)} ${cpu} ${name} ${extra}`);
  }
  return keys.sort();
}

async function table(path: string): Promise<string[]> {
  const e = await SqlEngine.open();
  try {
    await loadTraces(e, [path], ['event']);
    const r = await e.query(
      "SELECT ts, cpu, name, CASE WHEN name = 'sched_switch' THEN (payload->>'$.prev_tid') || '/' || (payload->>'$.next_comm') " +
        "WHEN name LIKE 'syscall_exit_%' THEN coalesce(payload->>'$.ret', '') ELSE '' END FROM event",
    );
    return r.rows.map((row) => row.map(String).join(' ')).sort();
  } finally {
    e.close();
  }
}

describe('event table vs babeltrace2', () => {
  it.each([['samples/containers-live'], ['samples/containers-demo']])('%s', async (rel) => {
    const path = join(ROOT, rel);
    const theirs = babeltrace(path);
    expect(theirs.length).toBeGreaterThan(10_000);
    const mine = await table(path);
    expect(mine.length).toBe(theirs.length);
    expect(mine).toEqual(theirs);
  });
});
