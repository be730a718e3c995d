/**
 * What both capture backends' sessions share (tracefs/session.ts, bpf/session.ts): the options,
 * the clock base, the writer's event classes added on first use, the payload converter of an
 * event compiled on its first record, and the run that always cleans up.
 */
import type { StructFC } from '../ctf/ir.js';
import type { EventClassWriter, StreamWriter, TraceWriter } from '../ctf/writer/index.js';
import { UsageError } from '../util/errors.js';
import type { FtraceEventFormat } from './format.js';
import { compilePayload, genericFields, genericName, type PayloadFn, type PlanField } from './convert.js';
import { LTTNG_EVENT_BY_FTRACE } from './lttng-events.js';
import type { RecordOptions } from './options.js';
import { containerEvent, type InjectedEvent } from './statedump.js';
import { dirBytes, sleep, untilStopped, withTimeout } from './util.js';
import { watchContainers, type ContainerInfo, type ContainerWatcher } from '../containers/index.js';

/** An event's converter, as both backends' handlers hold it. */
export interface PayloadHandler {
  lttngName: string;
  fmt: FtraceEventFormat;
  /** Fields to write; undefined when the event is only used for state. */
  plan: PlanField[] | undefined;
  /** A syscall exit: its entry's format (the arguments the exit writes). */
  entryFmt: FtraceEventFormat | undefined;
  ec: EventClassWriter | undefined;
  payload: PayloadFn | undefined;
  /** Largest payload in bytes (plus the record's length when `recordVar`). */
  maxLen: number;
  /** The payload may copy up to the record's length (strings from the record). */
  recordVar?: boolean;
}

/**
 * The converter side of a tracepoint's handler (not compiled yet): lttng-modules' event when it
 * has one, else the generic `<system>_<event>` with the ftrace fields; no fields when `write` is
 * false (the event only feeds the recorder's state).
 */
export function tracepointPayload(ftrace: string, fmt: FtraceEventFormat, write: boolean): PayloadHandler {
  const spec = LTTNG_EVENT_BY_FTRACE.get(ftrace);
  const [system, event] = ftrace.split(':') as [string, string];
  return {
    lttngName: spec ? spec.name : genericName(system, event),
    fmt,
    plan: write ? (spec ? spec.fields.map((f) => ({ ...f })) : genericFields(fmt)) : undefined,
    entryFmt: undefined,
    ec: undefined,
    payload: undefined,
    maxLen: 0,
    recordVar: false,
  };
}

export abstract class SessionBase {
  protected readonly opts: RecordOptions;
  protected tw!: TraceWriter;
  protected readonly classByName = new Map<string, EventClassWriter>();
  /** The trace's time base: a multiple of 2^32 ns of CLOCK_MONOTONIC (ftrace's `mono`). */
  protected baseBig = 0n;
  /** One stream per CPU. */
  protected streams: StreamWriter[] = [];
  protected traceDir = '';
  protected lostTotal = 0;
  protected readonly startMs = Date.now();
  containerWatcher: ContainerWatcher | undefined;
  protected containerCount = 0;
  protected readonly containerEvents = { starts: 0, stops: 0 };
  /** Time of the record being converted, and whether one is (container stops it causes). */
  protected curTs = 0;
  protected inEvent = false;

  constructor(opts: RecordOptions) {
    this.opts = opts;
  }

  /** ns relative to the base, on CLOCK_MONOTONIC. */
  now(): number {
    return Number(process.hrtime.bigint() - this.baseBig);
  }

  protected warn(msg: string): void {
    this.opts.onWarning?.(msg);
  }

  /**
   * The writer's event class of an LTTng event, added on first use: the first events seen get
   * the lowest ids, hence compact headers for the frequent ones (the metadata grows as LTTng's
   * does; the writer publishes it before any packet that needs it).
   */
  protected classFor(name: string, fields: StructFC): EventClassWriter {
    let c = this.classByName.get(name);
    if (!c) {
      c = this.tw.addEventClass({ name, fields });
      this.classByName.set(name, c);
    }
    return c;
  }

  /** Compiles `h`'s payload converter and adds its event class (on its first record). */
  protected compileHandler(h: PayloadHandler): void {
    if (!h.plan) return;
    const compiled = compilePayload(h.plan, h.fmt, h.entryFmt);
    if (compiled.missing.length > 0) {
      this.warn(`${h.lttngName}: no ftrace source for ${compiled.missing.join(', ')} (written as 0/empty)`);
    }
    h.payload = compiled.fn;
    h.ec = this.classFor(h.lttngName, compiled.fields);
    h.maxLen = compiled.maxSize + 8;
    h.recordVar = compiled.recordVar;
  }

  /**
   * Starts the container watcher (unless --no-containers): the containers running now go to
   * `evs` as statedump events, the later starts and stops become events as they come.
   */
  protected async watchContainers(evs: InjectedEvent[]): Promise<void> {
    if (this.opts.containers === false) return;
    try {
      const cw = await withTimeout(
        watchContainers(
          (c) => this.containerChange('nstrace_container_start', c),
          (c) => this.containerChange('nstrace_container_stop', c),
          { ...this.opts.containerOptions, onWarning: (m) => this.warn(m) },
        ),
        10_000,
      );
      this.containerWatcher = cw;
      for (const c of cw.initial) {
        evs.push(containerEvent('nstrace_container_statedump', c, this.now()));
        this.containerCount++;
        this.containerSeen(c);
      }
    } catch (err) {
      this.warn(`container discovery failed: ${(err as Error).message}`);
    }
  }

  /**
   * A container started or stopped. Stops noticed from an event (the init's exit, its cgroup's
   * removal) come synchronously while that event is converted: they take its time; the others
   * (polls, runtime events) take the current time, which is after everything converted so far.
   */
  protected containerChange(name: string, c: ContainerInfo): void {
    const ts = this.inEvent ? this.curTs : Math.max(this.now(), this.curTs);
    if (name === 'nstrace_container_start') {
      this.containerEvents.starts++;
      this.containerSeen(c);
    } else this.containerEvents.stops++;
    this.injectEvents([containerEvent(name, c, ts)]);
  }

  /** A container running at the start or started since (record-time selection looks). */
  protected containerSeen(_c: ContainerInfo): void {}

  /** Writes the recorder's own events (statedump, containers) in time order with the records. */
  protected abstract injectEvents(evs: InjectedEvent[]): void;
  /**
   * The recording loop: `step()` reads and writes what came (returns how much) until the
   * duration, the abort signal or an error; `everyStats()` every 200 ms, progress every
   * `progressIntervalMs`; waits for a sink that is behind (a relay); reads again at once while
   * `step` returns `busyAt` or more, else lets records gather a little (larger reads are
   * cheaper per event; the kernel's buffers hold far more).
   */
  protected async recordLoop(step: () => number, busyAt: number, everyStats: () => void): Promise<void> {
    const o = this.opts;
    const deadline = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
    const progressEvery = o.progressIntervalMs ?? 1000;
    let nextProgress = Date.now() + progressEvery;
    let nextStats = 0;
    let stopping = false;
    const onAbort = (): void => {
      stopping = true;
    };
    o.signal?.addEventListener('abort', onAbort);
    try {
      while (!stopping && !o.signal?.aborted) {
        const got = step();
        const now = Date.now();
        if (now >= nextStats) {
          everyStats();
          nextStats = now + 200;
        }
        if (now >= nextProgress) {
          nextProgress = now + progressEvery;
          this.reportProgress();
        }
        if (now >= deadline) break;
        const behind = o.sinkReady?.();
        if (behind !== undefined) await untilStopped(behind, o.signal, deadline - now);
        await sleep(got >= busyAt ? 0 : Math.min(got > 0 ? 5 : 20, Math.max(0, deadline - now)));
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  protected reportProgress(): void {
    if (!this.opts.onProgress) return;
    let events = 0;
    for (const ps of this.streams) events += ps.events;
    const elapsedMs = Date.now() - this.startMs;
    this.opts.onProgress({
      elapsedMs,
      events,
      // Written so far (a relay sink has no directory: 0).
      bytes: this.opts.sink ? 0 : dirBytes(this.traceDir),
      lost: this.lostTotal,
      eventsPerSec: elapsedMs > 0 ? (events * 1000) / elapsedMs : 0,
    });
  }

  protected abstract start(): Promise<void>;
  protected abstract loop(): Promise<void>;
  protected abstract cleanup(): void;

  /**
   * Starts, records until the end, then stops `helpers` (background readers whose files keep
   * kernel objects busy) and cleans up on every path; an error that stopped the recording is
   * never hidden behind a cleanup error. Returns the time and CPU it took.
   */
  protected async guardedRun(
    needs: string,
    helpers: Array<() => Promise<unknown> | undefined>,
  ): Promise<{ t0: number; cpu: NodeJS.CpuUsage }> {
    if (process.getuid && process.getuid() !== 0) {
      throw new UsageError(`nstrace record needs root (${needs})`);
    }
    const cpuStart = process.cpuUsage();
    const t0 = Date.now();
    let failure: unknown;
    try {
      await this.start();
      await this.loop();
    } catch (err) {
      failure = err;
    }
    for (const stop of helpers) await stop()?.catch(() => undefined);
    try {
      this.cleanup();
    } catch (err) {
      if (failure === undefined) failure = err;
      else this.warn(`while cleaning up: ${(err as Error).message}`);
    }
    if (failure !== undefined) throw failure;
    return { t0, cpu: process.cpuUsage(cpuStart) };
  }
}
