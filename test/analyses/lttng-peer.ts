/**
 * Running lttng-analyses 0.6.1 commands (Debian python3-lttnganalyses) beside `nstrace`, for the
 * differential tests: both in UTC with `--gmt`; lttng-analyses' outputs are cached by command
 * line and trace (size and mtime of its files) in the OS temporary directory, because it takes
 * seconds to minutes per command on the larger traces. The comparison is strict: lttng-analyses'
 * text is a prefix of ours (our per-container tables come after it) and its LAMI document is
 * ours, character for character, once our `per-container*` tables are left out.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { copyWithOldNames } from '../util/lttng-names.js';
import { nstraceAsync } from '../helpers/cli.js';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const CACHE = join(tmpdir(), 'nstrace-lttng-analyses-cache');

function run(argv: string[]): Promise<Run> {
  return new Promise((res, rej) => {
    const c = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, TZ: 'UTC' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('error', rej);
    c.on('close', (code) =>
      res({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

function listing(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    const st = statSync(p);
    if (st.isDirectory()) listing(p, out);
    else out.push(`${p}:${st.size}:${st.mtimeMs}`);
  }
  return out;
}

function fingerprint(dir: string): string {
  return createHash('sha1').update(listing(dir).join('\n')).digest('hex');
}

const linkDirs = new Map<string, string>();

/**
 * A copy of the trace with the old event names (test/util/lttng-names.ts), so that the peer sees
 * what nstrace reads under both names; undefined when the trace has none of them.
 */
function withOldNames(real: string): string | undefined {
  const tmp = mkdtempSync(join(tmpdir(), 'nstrace-la-'));
  if (copyWithOldNames(real, join(tmp, 'kernel'))) return join(tmp, 'kernel');
  rmSync(tmp, { recursive: true });
  return undefined;
}

/**
 * lttng-analyses reads the tracer version from a directory whose name ends in `kernel` (and
 * fails without it); a trace whose directory is named otherwise is linked as `.../kernel`.
 */
function asKernelDir(trace: string): string {
  const real = realpathSync(trace);
  let d = linkDirs.get(real);
  if (d !== undefined) return d;
  d = withOldNames(real);
  if (d === undefined) {
    if (basename(real).endsWith('kernel')) return real;
    const dir = mkdtempSync(join(tmpdir(), 'nstrace-la-'));
    d = join(dir, 'kernel');
    symlinkSync(real, d);
  }
  linkDirs.set(real, d);
  return d;
}

/** Removes the trace links made by `asKernelDir`. */
export function cleanupLinks(): void {
  for (const d of linkDirs.values()) rmSync(resolve(d, '..'), { recursive: true, force: true });
  linkDirs.clear();
}

/** The period commands run through a fix of the peer's parser (lttng-periods-fixed.py). */
function peerCommand(cmd: string, mi: boolean): string[] {
  const m = /^period(log|top|stats|freq)$/.exec(cmd);
  if (m === null) return [`lttng-${cmd}${mi ? '-mi' : ''}`];
  return ['/usr/bin/python3', join(__dirname, 'lttng-periods-fixed.py'), `run${m[1]}${mi ? '_mi' : ''}`];
}

/** `lttng-CMD[-mi] --gmt --skip-validation [--no-progress] ARGS TRACE`, cached. */
export async function lttng(cmd: string, trace: string, args: readonly string[], mi: boolean): Promise<Run> {
  const t = asKernelDir(trace);
  const argv = [
    ...peerCommand(cmd, mi),
    '--gmt',
    '--skip-validation',
    ...(mi ? [] : ['--no-progress']),
    ...args,
    t,
  ];
  const key = createHash('sha1')
    .update(
      JSON.stringify(argv.slice(0, -1).map((a) => (a.endsWith('lttng-periods-fixed.py') ? 'fixed' : a))),
    )
    .update('old-event-names-v1')
    .update(fingerprint(realpathSync(trace)))
    .digest('hex');
  const file = join(CACHE, `${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Run;
  const r = await run(argv);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(file, JSON.stringify(r));
  return r;
}

/** The top-level elements of the `results` array of a LAMI document, as text. */
function resultElements(doc: string): { head: string; items: string[]; tail: string } {
  const start = doc.indexOf('[', doc.indexOf('"results"'));
  const items: string[] = [];
  let depth = 0;
  let inStr = false;
  let itemStart = -1;
  let i = start + 1;
  for (; i < doc.length; i++) {
    const c = doc[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) itemStart = i;
      depth++;
    } else if (c === '}' || c === ']') {
      if (depth === 0) break;
      depth--;
      if (depth === 0) items.push(doc.slice(itemStart, i + 1));
    }
  }
  return { head: doc.slice(0, start + 1), items, tail: doc.slice(i) };
}

/** Our LAMI document without our per-container tables. */
export function withoutContainerTables(doc: string): string {
  if (!doc.includes('"results"')) return doc;
  const { head, items, tail } = resultElements(doc);
  const keep = items.filter((s) => !/^\{"class": (\{"inherit": )?"per-container/.test(s));
  return head + keep.join(', ') + tail;
}

/** First differing line of two texts, for messages. */
export function firstDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((l, j) => l !== y[j]);
  if (i < 0)
    return x.length === y.length ? '' : `line ${Math.min(x.length, y.length) + 1}: one text is longer`;
  const l = x[i]!;
  const m = y[i] ?? '';
  let c = 0;
  while (c < l.length && l[c] === m[c]) c++;
  const from = Math.max(0, c - 150);
  return (
    `line ${i + 1}, column ${c + 1}:\n  lttng:   ${JSON.stringify(l.slice(from, c + 150))}\n` +
    `  nstrace: ${JSON.stringify(m.slice(from, c + 150))}`
  );
}

export interface Compared {
  readonly text: string;
  readonly mi: string;
  /** nstrace's own outputs (for the per-container checks). */
  readonly ours: { text: string; mi: string };
}

/**
 * Runs `nstrace CMD` and `lttng-CMD` (text and LAMI) on a trace; returns '' for each part that
 * agrees, else the difference.
 */
export async function compare(cmd: string, trace: string, args: readonly string[] = []): Promise<Compared> {
  const [lt, lm, nt, nm] = await Promise.all([
    lttng(cmd, trace, args, false),
    lttng(cmd, trace, args, true),
    nstraceAsync([cmd, '--gmt', '--no-progress', ...args, trace]),
    nstraceAsync([cmd, '--gmt', '--mi', ...args, trace]),
  ]);
  let text = '';
  if (lt.code !== 0) text = `lttng-${cmd} failed: ${lt.stderr.slice(-500)}`;
  else if (nt.code !== 0) text = `nstrace ${cmd} failed: ${nt.stderr.slice(-500)}`;
  else if (!nt.stdout.startsWith(lt.stdout)) text = firstDiff(lt.stdout, nt.stdout);
  let mi = '';
  if (lm.code !== 0) mi = `lttng-${cmd}-mi failed: ${lm.stderr.slice(-500)}`;
  else if (nm.code !== 0) mi = `nstrace ${cmd} --mi failed: ${nm.stderr.slice(-500)}`;
  else if (withoutContainerTables(nm.stdout) !== lm.stdout)
    mi = firstDiff(lm.stdout, withoutContainerTables(nm.stdout));
  return { text, mi, ours: { text: nt.stdout, mi: nm.stdout } };
}
