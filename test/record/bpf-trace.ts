/** Reading a recorded kernel trace back with nstrace's reader, for the recorder tests. */
import { spawn } from 'node:child_process';
import { TraceSet } from '../../src/ctf/reader.js';
import { ensureBuilt, nstraceAsync, type CliResult } from '../helpers/cli.js';

export interface Ev {
  name: string;
  ts: number;
  ctx: Record<string, string>;
  f: Record<string, string>;
}

function text(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8').replace(/\0+$/, '');
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  return String(v);
}

/** Every event of the trace (stream context and payload fields by name, as strings). */
export function readEvents(dir: string): Ev[] {
  const ts = TraceSet.open([dir]);
  const out: Ev[] = [];
  try {
    for (let r = ts.next(); r !== null; r = ts.next()) {
      if (r.kind !== 'event') continue;
      const ctx: Record<string, string> = {};
      const sc = r.stream.streamClass.eventContext;
      sc?.fields.forEach((fd, i) => (ctx[fd.name.replace(/^_/, '')] = text(r.streamContext![i])));
      const f: Record<string, string> = {};
      r.eventClass.fields?.fields.forEach((fd, i) => (f[fd.name.replace(/^_/, '')] = text(r.payload![i])));
      out.push({ name: r.eventClass.name, ts: r.ts, ctx, f });
    }
  } finally {
    ts.close();
  }
  return out;
}

/**
 * Starts `argv`, a workload that prints one line once it is under way and keeps working; then
 * records with the bpf backend (`record --backend bpf -o DIR --no-progress` and `recordArgs`),
 * and kills the workload. Gives the words of its first line, the CLI's result and the events.
 */
export async function recordBesideWorkload(
  argv: string[],
  recordArgs: string[],
  dir: string,
): Promise<{ words: string[]; cli: CliResult; events: Ev[] }> {
  ensureBuilt();
  const app = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let words: string[];
  let cli: CliResult;
  try {
    words = await new Promise<string[]>((resolve, reject) => {
      let line = '';
      app.stdout.on('data', (d: Buffer) => {
        line += d.toString();
        if (line.includes('\n')) resolve(line.trim().split(/\s+/));
      });
      app.once('exit', () => reject(new Error('the workload exited early')));
    });
    cli = await nstraceAsync(['record', '--backend', 'bpf', '--no-progress', '-o', dir, ...recordArgs]);
  } finally {
    app.kill('SIGKILL');
  }
  return { words, cli, events: readEvents(dir) };
}
