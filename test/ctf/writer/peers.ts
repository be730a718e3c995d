/** Runs the peer readers (babeltrace2, babeltrace 1.5) on traces written by the tests. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[]): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, TZ: 'UTC' },
  });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `babeltrace2 ARGS...` with TZ=UTC. */
export function bt2(...args: string[]): Run {
  return run('babeltrace2', args);
}

/** `babeltrace ARGS...` (1.5) with TZ=UTC. */
export function bt1(...args: string[]): Run {
  return run('babeltrace', args);
}

/** Lines of babeltrace2's default (pretty) output of `dir`, clock in cycles; asserts a clean run. */
export function bt2Lines(dir: string, ...extra: string[]): string[] {
  const r = bt2('--clock-cycles', ...extra, dir);
  if (r.code !== 0 || r.stderr !== '') {
    throw new Error(`babeltrace2 failed (exit ${r.code}):\n${r.stderr.slice(0, 4000)}`);
  }
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** A fresh temporary directory; call the returned function to remove it. */
export function tempDir(prefix = 'nstrace-writer-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The payload part of a pretty line: what follows `NAME: `. */
export function afterName(line: string, name: string): string {
  const i = line.indexOf(` ${name}: `);
  if (i < 0) throw new Error(`no event ${name} in: ${line}`);
  return line.slice(i + name.length + 3);
}

/** One record of `bt2dump.py` (see there for the value encoding). */
export type DumpValue = string | number | boolean | null | DumpValue[] | { [k: string]: DumpValue };
export interface DumpRecord {
  t: 'e' | 'd' | 'dp' | 'pb' | 'pe';
  name?: string;
  cs?: string;
  ns?: string;
  sid?: number;
  inst?: number;
  cpu?: number | null;
  sctx?: DumpValue;
  ectx?: DumpValue;
  payload?: DumpValue;
  count?: number | null;
  begin?: string;
  end?: string;
}

const DUMP = new URL('./bt2dump.py', import.meta.url).pathname;

/** Messages of `dir` as decoded by babeltrace2's Python bindings; asserts a clean run. */
export function bt2Dump(dir: string): DumpRecord[] {
  const r = run('/usr/bin/python3', [DUMP, dir]);
  if (r.code !== 0 || r.stderr !== '')
    throw new Error(`bt2dump failed (exit ${r.code}):\n${r.stderr.slice(0, 4000)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DumpRecord);
}

/** Event records only. */
export function bt2Events(dir: string): DumpRecord[] {
  return bt2Dump(dir).filter((r) => r.t === 'e');
}
