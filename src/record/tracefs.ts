/**
 * tracefs control: find (or mount) tracefs, and run a recording in a private instance
 * (`instances/nstrace-<pid>`) so that the global buffer and every global setting stay as they
 * were. Removing the instance (rmdir) disables its events and frees its buffers: restoring is
 * that rmdir, plus unmounting tracefs if we mounted it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { NstraceError } from '../util/errors.js';
import { selectEvents, type EventSelection } from './events.js';
import {
  parseEventFormat,
  parseHeaderEvent,
  parseHeaderPage,
  type EventHeaderLayout,
  type FtraceEventFormat,
  type PageHeaderLayout,
} from './format.js';

export class TracefsError extends NstraceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export interface TracefsMount {
  /** Directory holding `instances/`, `events/`, `per_cpu/`. */
  readonly root: string;
  /** True when this process mounted it (and must unmount it at the end). */
  readonly mountedByUs: boolean;
}

function mountsOfType(type: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    if (parts[2] === type && parts[1] !== undefined) out.push(parts[1].replace(/\\040/g, ' '));
  }
  return out;
}

function isTracefsRoot(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'events', 'header_page')) && fs.existsSync(path.join(dir, 'instances'));
}

/**
 * Finds tracefs. When `mount` is true and none is mounted, mounts it on /sys/kernel/tracing
 * (the caller must call {@link unmountTracefs} at the end).
 */
export function locateTracefs(options: { mount?: boolean } = {}): TracefsMount {
  for (const m of mountsOfType('tracefs')) {
    if (isTracefsRoot(m)) return { root: m, mountedByUs: false };
  }
  for (const m of mountsOfType('debugfs')) {
    const t = path.join(m, 'tracing');
    if (isTracefsRoot(t)) return { root: t, mountedByUs: false };
  }
  for (const c of CANDIDATES) if (isTracefsRoot(c)) return { root: c, mountedByUs: false };
  if (!options.mount)
    throw new TracefsError('tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)');
  const target = CANDIDATES[0]!;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', target], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const msg = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new TracefsError(`cannot mount tracefs on ${target}${msg ? `: ${msg}` : ''} (are you root?)`, {
      cause: err,
    });
  }
  if (!isTracefsRoot(target)) throw new TracefsError(`mounted tracefs on ${target} but it has no events/`);
  return { root: target, mountedByUs: true };
}

export function unmountTracefs(m: TracefsMount): void {
  if (!m.mountedByUs) return;
  try {
    execFileSync('umount', [m.root], { stdio: 'ignore' });
  } catch {
    // Busy (someone else started using it): leave it mounted rather than fail the recording.
  }
}

/** Number of CPUs tracefs has per-CPU buffers for (possible CPUs). */
export function tracefsCpus(root: string): number[] {
  const cpus: number[] = [];
  for (const d of fs.readdirSync(path.join(root, 'per_cpu'))) {
    const m = /^cpu(\d+)$/.exec(d);
    if (m) cpus.push(Number(m[1]));
  }
  return cpus.sort((a, b) => a - b);
}

export function readHeaderLayouts(root: string): { page: PageHeaderLayout; event: EventHeaderLayout } {
  const hp = path.join(root, 'events', 'header_page');
  const he = path.join(root, 'events', 'header_event');
  return {
    page: parseHeaderPage(fs.readFileSync(hp, 'utf8'), hp),
    event: parseHeaderEvent(fs.readFileSync(he, 'utf8'), he),
  };
}

/** Reads `events/<system>/<name>/format`; undefined when the event does not exist here. */
export function readEventFormat(
  eventsDir: string,
  system: string,
  name: string,
): FtraceEventFormat | undefined {
  const file = path.join(eventsDir, system, name, 'format');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseEventFormat(text, system, file);
}

/** Lists the events of one system (`syscalls` gives every sys_enter_x / sys_exit_x). */
export function listSystemEvents(eventsDir: string, system: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(eventsDir, system), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A private ftrace instance. Everything the recorder changes lives inside it; `remove()`
 * (rmdir) undoes all of it.
 */
export class TraceInstance {
  readonly dir: string;
  private created = false;

  constructor(
    readonly mount: TracefsMount,
    readonly name: string,
  ) {
    this.dir = path.join(mount.root, 'instances', name);
  }

  get exists(): boolean {
    return fs.existsSync(this.dir);
  }

  /** Removes instances left by nstrace processes that died without cleaning up. */
  static removeStale(mount: TracefsMount): string[] {
    const removed: string[] = [];
    let names: string[];
    try {
      names = fs.readdirSync(path.join(mount.root, 'instances'));
    } catch {
      return removed;
    }
    for (const n of names) {
      const m = /^nstrace-(\d+)(?:-[ws])?$/.exec(n);
      if (!m || pidAlive(Number(m[1]))) continue;
      try {
        fs.rmdirSync(path.join(mount.root, 'instances', n));
        removed.push(n);
      } catch {
        // Busy: leave it.
      }
    }
    return removed;
  }

  create(): void {
    if (this.exists) throw new TracefsError(`tracefs instance ${this.dir} already exists`);
    try {
      fs.mkdirSync(this.dir);
    } catch (err) {
      throw new TracefsError(`cannot create tracefs instance ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.created = true;
  }

  file(rel: string): string {
    return path.join(this.dir, rel);
  }

  write(rel: string, value: string): void {
    this.put(rel, value, 'write', fs.writeFileSync);
  }

  /** Appends (O_APPEND), as `echo x >> file` does: needed for pid lists. */
  append(rel: string, value: string): void {
    this.put(rel, value, 'append', fs.appendFileSync);
  }

  private put(rel: string, value: string, verb: string, how: (f: string, v: string) => void): void {
    const f = this.file(rel);
    try {
      how(f, value);
    } catch (err) {
      throw new TracefsError(`cannot ${verb} '${value.trim()}' to ${f}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  read(rel: string): string {
    return fs.readFileSync(this.file(rel), 'utf8');
  }

  /** `trace_clock` lists clocks with the current one in brackets. */
  clocks(): { available: string[]; current: string | undefined } {
    const text = this.read('trace_clock').trim();
    const available: string[] = [];
    let current: string | undefined;
    for (const tok of text.split(/\s+/)) {
      const m = /^\[(.+)\]$/.exec(tok);
      if (m) {
        current = m[1];
        available.push(m[1]!);
      } else if (tok) available.push(tok);
    }
    return { available, current };
  }

  enableEvent(system: string, name: string | undefined, on = true): void {
    this.write(path.join('events', system, ...(name === undefined ? [] : [name]), 'enable'), on ? '1' : '0');
  }

  /** Per-CPU ring-buffer statistics (overrun, dropped events, ...). */
  cpuStats(cpu: number): Map<string, number> {
    const out = new Map<string, number>();
    let text: string;
    try {
      text = this.read(path.join('per_cpu', `cpu${cpu}`, 'stats'));
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      const m = /^([a-z ]+):\s*([\d.]+)/.exec(line);
      if (m) out.set(m[1]!.trim(), Number(m[2]));
    }
    return out;
  }

  /** Disables everything and removes the instance. Safe to call twice. */
  remove(): void {
    if (!this.created || !this.exists) return;
    try {
      fs.writeFileSync(this.file('tracing_on'), '0');
      fs.writeFileSync(this.file('events/enable'), '0');
    } catch {
      // Removal below is what matters.
    }
    let lastErr: unknown;
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(this.dir);
        this.created = false;
        return;
      } catch (err) {
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') break;
        // An fd on one of its files is still being closed: wait a little.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    throw new TracefsError(`cannot remove tracefs instance ${this.dir}: ${(lastErr as Error).message}`, {
      cause: lastErr,
    });
  }
}

/** The user's selection (`-e`, `--syscalls`) resolved against this kernel's events. */
export function selectKernelEvents(
  eventsDir: string,
  o: { events?: readonly string[] | undefined; syscalls?: boolean | undefined },
): EventSelection {
  return selectEvents(
    o.events,
    o.syscalls,
    (s) => listSystemEvents(eventsDir, s),
    () => fs.readdirSync(eventsDir).filter((d) => fs.statSync(path.join(eventsDir, d)).isDirectory()),
  );
}
