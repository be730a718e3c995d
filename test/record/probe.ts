/** The `nsprobe` test workload (fixtures/nsprobe.c), driven line by line from a test. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compileC } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function probeBinary(): string {
  return compileC('nsprobe', fs.readFileSync(path.join(here, 'fixtures', 'nsprobe.c'), 'utf8'));
}

export const NS_NAMES = ['pid', 'user', 'net', 'mnt', 'uts', 'ipc', 'cgroup', 'time'] as const;

export interface HostView {
  pid: number;
  /** `NSpid` from the host's /proc: root level first. */
  nsPids: number[];
  ns: Record<(typeof NS_NAMES)[number], number>;
}

export function hostView(pid: number): HostView {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const nsPids = (/^NSpid:\s*(.*)$/m.exec(status)?.[1] ?? '').trim().split(/\s+/).map(Number);
  const ns = {} as HostView['ns'];
  for (const t of NS_NAMES) {
    const l = fs.readlinkSync(`/proc/${pid}/ns/${t}`);
    ns[t] = Number(/\[(\d+)\]/.exec(l)![1]);
  }
  return { pid, nsPids, ns };
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const c = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export class Probe {
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private exited = false;
  readonly exitPromise: Promise<number | null>;

  private constructor(readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.exitPromise = new Promise((res) => {
      proc.on('exit', (code) => {
        this.exited = true;
        for (const w of this.waiters.splice(0)) w();
        res(code);
      });
    });
  }

  /** Starts `prefix... nsprobe args...` and waits for its `ready` line. */
  static async start(prefix: string[], args: string[]): Promise<Probe> {
    const bin = probeBinary();
    const cmd = [...prefix, bin, ...args];
    const p = new Probe(spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] }));
    await p.waitLine('ready');
    return p;
  }

  async waitLine(prefix: string, timeoutMs = 20000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const l = this.lines.find((x) => x.startsWith(prefix));
      if (l !== undefined) return l;
      if (this.exited)
        throw new Error(`probe exited before printing '${prefix}' (got: ${this.lines.join(' | ')})`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for '${prefix}'`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
  }

  go(): void {
    this.proc.stdin!.write('\n');
  }

  /** Host pid of the nsprobe process (the spawned command may be a chain of unshare). */
  hostPid(): number {
    const seen = new Set<number>();
    const queue = [this.proc.pid!];
    while (queue.length > 0) {
      const p = queue.shift()!;
      if (seen.has(p)) continue;
      seen.add(p);
      if (comm(p) === 'nsprobe' || comm(p).startsWith('nsprobe-')) return p;
      queue.push(...children(p));
    }
    throw new Error('nsprobe process not found');
  }

  async finish(): Promise<void> {
    this.go();
    this.proc.stdin!.end();
    await this.exitPromise;
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}
