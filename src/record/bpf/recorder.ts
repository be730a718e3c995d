/**
 * `nstrace record --backend bpf`: the same CTF kernel trace as the tracefs backend (event names,
 * layouts, statedump, packets), written from records the capture programs build in the kernel
 * (capture.ts, programs.ts). The context of every event was read from the current task at that
 * instant, syscall strings were copied at syscall entry: the user-space side only adds the event
 * header and converts the raw ftrace record into the LTTng payload (convert.ts, shared with the
 * tracefs backend). This file: the run and the per-record path; the setup and state are in
 * session.ts, the per-event handlers in handlers.ts.
 */
import type { StreamWriter } from '../../ctf/writer/index.js';
import { LTTNG_EVENT_BY_FTRACE } from '../lttng-events.js';
import { structFromCodes } from '../types.js';
import { encodeValues } from '../encode.js';
import type { RecordSummary } from '../options.js';
import { dirBytes, sleep } from '../util.js';
import { FORK_BYTES } from './programs.js';
import {
  FLAG_ARGS,
  FLAG_CTX_REF,
  FLAG_CTX_SAME,
  FLAG_CTX_UNKNOWN,
  FLAG_STR_EXIT,
  FLAG_STR_UNKNOWN,
  HDR,
  HDR_EXIT_ARGS,
  HDR_STR_MASK,
  KIND_FORK,
  KIND_RAW,
  KIND_SWITCH_IN,
  MAX_LEVELS,
  SYS_ENTER_BYTES,
  SYS_EXIT_BYTES,
} from './layout.js';
import { patchEntry } from './hold.js';
import { BpfSession, type BpfRecordSummaryExtra } from './session.js';

const TWO32 = 4294967296;

/**
 * The trace's marker of events the kernel skipped (src/analyses/runner.ts reads it): how many,
 * and the tracepoints of the program that was not run (one event per program).
 */
const KERNEL_SKIPPED_EVENT = 'nstrace_kernel_skipped';
const KERNEL_SKIPPED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['count', 'u64'],
  ['tracepoints', 's'],
];

export class BpfRecorder extends BpfSession {
  async run(): Promise<RecordSummary & { bpf: BpfRecordSummaryExtra }> {
    const { t0, cpu } = await this.guardedRun('BPF programs and /proc of every process', [
      () => this.containerWatcher?.close(),
    ]);
    let events = 0;
    let packets = 0;
    for (const ps of this.streams) {
      events += ps.events;
      packets += ps.packets;
    }
    return {
      traceDir: this.traceDir,
      durationMs: Date.now() - t0,
      events,
      lost: this.lostTotal,
      bytes: this.opts.sink ? 0 : dirBytes(this.traceDir),
      packets,
      perCpu: this.streams.map((ps, i) => ({
        cpu: this.cpus[i]!,
        events: ps.events,
        lost: this.lostPerCpu.get(this.cpus[i]!) ?? 0,
        packets: ps.packets,
      })),
      eventClasses: this.classByName.size + (this.forkEc ? 1 : 0),
      statedumpEvents: this.statedumpCount,
      containers: this.containerCount,
      containerStarts: this.containerEvents.starts,
      containerStops: this.containerEvents.stops,
      threads: { lazyReads: 0, lazyMisses: 0, nsResolved: 0, nsUnresolved: 0, lateReads: 0, ppidUnknown: 0 },
      // Every string is the programs' copy at syscall entry, or at its exit where provably the
      // same bytes (ADR 0164); one read at neither is "" (the programs flag its event).
      userStrings: {
        known: this.extra.stringsWritten - this.extra.stringsUnknown,
        fromKernel: this.extra.stringsWritten - this.extra.stringsUnknown,
        unknown: this.extra.stringsUnknown,
        reasons: this.extra.stringsUnknown > 0 ? { kernelFault: this.extra.stringsUnknown } : {},
      },
      watcher: undefined,
      patches: { patched: 0, tooLate: 0, unresolved: 0 },
      inferredSwitches: this.extra.inferredSwitches,
      inferredPrioUnobserved: this.extra.inferPrioUnobserved,
      unknownFtraceEvents: this.unknownIds,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      bpf: { ...this.extra },
    };
  }
  // ------------------------------------------------------------------------------------------
  // The loop

  protected async loop(): Promise<void> {
    const ring = this.capture!.ring;
    const onRecord = this.onRecord;
    const settle = this.onSettle;
    await this.recordLoop(
      () => {
        const before = this.now();
        const n = ring.consume(onRecord, Infinity, settle);
        // Every record of an earlier time is written (but those still being written: margin).
        this.hold.expire();
        this.window!.flushUpTo(before - 5_000_000);
        this.flushInjected(before - 5_000_000);
        return n;
      },
      4096,
      () => this.checkLost(),
    );
    // Everything stops at once, but the syscall exits, 50 ms later: the syscalls in flight
    // bring the strings they read at their exit (the exits themselves are after the end).
    this.capture!.setOn(false, true);
    this.stopTs = this.now();
    this.whole.to = this.stopTs;
    for (let i = 0; i < 10; i++) {
      ring.consume(onRecord, Infinity, settle);
      await sleep(5);
    }
    this.capture!.setOn(false, false);
    // Detach (no new records), then read what is left.
    this.capture!.detach(() => ring.consume(onRecord, Infinity, settle));
    const misses = this.capture!.recursionMisses();
    this.extra.recursionMisses = misses.total;
    this.extra.recursionMissesBy = misses.by;
    // Counted as lost (not per CPU: the kernel counts them per program), and said in the trace
    // itself: no stream can carry them as discarded events, since the CPU is not known.
    this.lostTotal += misses.total;
    this.injectEvents(
      Object.entries(misses.by)
        .filter(([, n]) => n > 0)
        .map(([tracepoints, n]) => ({
          name: KERNEL_SKIPPED_EVENT,
          fields: KERNEL_SKIPPED_FIELDS,
          values: [BigInt(n), tracepoints],
          ts: this.stopTs,
        })),
    );
    ring.consume(onRecord, Infinity, settle);
    // Entries still waiting for their exit: written now, their strings unknown.
    this.hold.releaseAll();
    this.extra.heldEntries = this.hold.stats.held;
    this.extra.heldGivenUp = this.hold.stats.givenUp;
    this.window!.flushAll();
    this.extra.reordered = this.window!.reordered;
    this.extra.reorderHeldMax = this.window!.maxHeld;
    this.extra.inferredSwitches = this.inference?.inferred ?? 0;
    this.extra.inferSkipped = this.inference?.skipped ?? 0;
    this.extra.inferPrioUnobserved = this.inference?.prioUnobserved ?? 0;
    this.extra.contextsRestored = this.contextRefs?.restored ?? 0;
    this.extra.contextsUnresolved = this.contextRefs?.unresolved ?? 0;
    this.flushInjected(Infinity);
    this.checkLost();
    for (const ps of this.streams) ps.close(Math.max(this.stopTs, ps.lastTimestamp));
    this.tw.close();
    this.finished = true;
    this.reportProgress();
  }

  /** One ring record: header, context block, raw record (see programs.ts). */
  protected record(off0: number, len0: number): void {
    let u = this.data;
    let v = this.view;
    let off = off0;
    let len = len0;
    let own = false;
    const refs = this.contextRefs;
    if (refs !== undefined && (u[off + 12]! & (FLAG_CTX_REF | FLAG_CTX_SAME)) !== 0) {
      const at = refs.see(u, this.words, off, len, v.getUint32(off + 8, true));
      if (at >= 0) {
        u = refs.buf;
        v = refs.view;
        off = at;
        len += this.rawOff - HDR;
        own = true;
      }
    }
    // Fast path: nothing held, not an entry left for its exit, not an exit bringing strings.
    if (this.hold.active === 0 && u[off + HDR_STR_MASK] === 0 && (u[off + 12]! & FLAG_STR_EXIT) === 0) {
      this.write(u, v, off, len, own);
      return;
    }
    this.holdRecord(u, v, off, len, own);
  }

  /**
   * Records around a syscall entry whose strings its exit reads (ADR 0164): the entry waits
   * for its exit, with every later record of its CPU; the exit (or the task's next syscall
   * record) resolves it.
   */
  private holdRecord(u: Uint8Array, v: DataView, off: number, len: number, own: boolean): void {
    const cpu = v.getUint32(off + 8, true);
    const tid = v.getInt32(off + 16, true);
    const flags = u[off + 12]!;
    const raw = u[off + 13] === KIND_RAW;
    const ts = v.getUint32(off + 4, true) * TWO32 + v.getUint32(off, true) - this.base;
    const hd = raw ? this.handlers[v.getUint16(off + this.rawOff, true)] : undefined;
    if (hd?.sys === true && this.hold.isWaiting(tid)) {
      if ((flags & FLAG_STR_EXIT) !== 0 && hd.entryFmt !== undefined) {
        const at =
          off + this.rawOff + SYS_EXIT_BYTES + ((flags & FLAG_ARGS) !== 0 ? 8 * u[off + HDR_EXIT_ARGS]! : 0);
        const strs = u.slice(at, off + len);
        const ok = u[off + HDR_STR_MASK]!;
        this.hold.resolve(tid, (e) => {
          const r = patchEntry(e, this.rawOff + SYS_ENTER_BYTES, strs, ok);
          this.extra.stringsAtExit += r.recovered;
          return r.rec;
        });
      } else this.hold.resolve(tid, undefined);
    }
    if (raw && hd?.sys === true && hd.entryFmt === undefined && u[off + HDR_STR_MASK] !== 0) {
      this.hold.hold(cpu, tid, ts, u.slice(off, off + len));
    } else if (!this.hold.queue(cpu, ts, () => u.slice(off, off + len))) this.write(u, v, off, len, own);
  }

  protected writeHeld(rec: Uint8Array): void {
    this.write(rec, new DataView(rec.buffer, rec.byteOffset, rec.byteLength), 0, rec.length, true);
  }

  /** Hands a record to the reorder window (`own`: `u` is a copy, not the ring). */
  private write(u: Uint8Array, v: DataView, off: number, len: number, own: boolean): void {
    const ts = v.getUint32(off + 4, true) * TWO32 + v.getUint32(off, true) - this.base;
    this.window!.push(u, off, len, ts, v.getUint32(off + 8, true), own ? v : undefined);
  }

  /** Writes one record into its CPU's stream (in its CPU's time order: order.ts). */
  protected emit(u: Uint8Array, v: DataView, off: number, len: number, ts0: number, cpu: number): void {
    const flags = u[off + 12]!;
    const kind = u[off + 13]!;
    if (kind === KIND_SWITCH_IN) {
      const at = off + this.rawOff;
      this.inference?.switchedIn(cpu, v.getInt32(at, true), v.getInt32(at + 4, true), u, off + HDR);
      return;
    }
    const ps = this.streamOfCpu[cpu];
    if (ps === undefined) {
      this.unknownIds++;
      return;
    }
    let ts = ts0;
    if (ts0 >= this.nextInjected && ps === this.streams[0]) this.flushInjected(ts0);
    if (ts < ps.lastTimestamp) {
      // Behind a record of its CPU already written (see order.ts): expected never.
      ts = ps.lastTimestamp;
      this.extra.late++;
    }
    if ((flags & FLAG_CTX_UNKNOWN) !== 0) this.extra.contextsUnknown++;
    const s = off + this.rawOff;
    const inf = this.inference;
    if (inf !== undefined && ts0 >= this.whole.from && ts0 <= this.whole.to) {
      inf.see(cpu, v.getInt32(off + 16, true), ts, u, v, off + HDR, kind === KIND_FORK ? -1 : s);
    }
    if (kind === KIND_FORK) {
      this.fork(ps, ts, u, v, off, s);
      return;
    }
    const hd = this.handlers[v.getUint16(s, true)];
    if (hd === undefined) {
      this.unknownIds++;
      return;
    }
    this.curTs = ts;
    if (hd.state !== undefined) {
      this.inEvent = true;
      hd.state(v, u, s, v.getInt32(off + 20, true), v.getInt32(off + 16, true));
      this.inEvent = false;
    }
    if (hd.plan === undefined) return;
    if (ts0 < this.whole.from || ts0 > this.whole.to) {
      this.extra.outsideRange++;
      return;
    }
    if (hd.payload === undefined) this.compileHandler(hd);
    if ((flags & FLAG_STR_UNKNOWN) !== 0) this.extra.stringsUnknown++;
    const a = this.args;
    if ((flags & FLAG_ARGS) !== 0) {
      a.scId = hd.entryFmt ? hd.entryFmt.id : -1;
      const src = s + SYS_EXIT_BYTES;
      // The arguments the exit's layout reads (the record carries those); the others zero.
      const n = 8 * u[off + HDR_EXIT_ARGS]!;
      for (let k = 0; k < n; k += 4) a.scView.setUint32(k, v.getUint32(src + k, true), true);
      for (let k = n; k < 48; k += 4) a.scView.setUint32(k, 0, true);
    } else a.scId = -1;
    this.strBuf = u;
    this.strPos = s + SYS_ENTER_BYTES;
    this.strEnd = off + len;
    let o = ps.beginRawFrom(hd.ec!, ts, hd.recordVar ? hd.maxLen + len : hd.maxLen, u, off + HDR);
    if (o < 0) return;
    o = hd.payload!(v, u, s, ps.view, ps.bytes, o, a as never, this.helpers);
    ps.commitRaw(o);
  }

  /** The next user string of the record (copied by the entry program), NUL-terminated. */
  protected userString(du: Uint8Array, o: number): number {
    this.extra.stringsWritten++;
    const u = this.strBuf;
    let p = this.strPos;
    const end = this.strEnd;
    while (p < end) {
      const c = u[p++]!;
      if (c === 0) break;
      du[o++] = c;
    }
    du[o++] = 0;
    this.strPos = p;
    return o;
  }

  private fork(ps: StreamWriter, ts: number, u: Uint8Array, v: DataView, off: number, s: number): void {
    const parentTgid = v.getInt32(s + 20, true);
    const childTid = v.getInt32(s + 28, true);
    const childTgid = v.getInt32(s + 32, true);
    const childNs = v.getUint32(s + 36, true);
    this.curTs = ts;
    if (childTid === childTgid) {
      this.inEvent = true;
      this.containerWatcher?.noteFork(parentTgid, childTid, childNs || undefined);
      this.inEvent = false;
    }
    this.selection?.noteFork(childNs);
    if (!this.forkWritten) return;
    if (!this.forkEc) {
      const spec = LTTNG_EVENT_BY_FTRACE.get('sched:sched_process_fork')!;
      this.forkEc = this.classFor(
        'sched_process_fork',
        structFromCodes(spec.fields.map((f) => [f.name, f.code] as const)),
      );
    }
    const levels = Math.min(v.getUint32(s + 40, true), MAX_LEVELS);
    const vtids: number[] = [];
    for (let l = 0; l < levels; l++) vtids.push(v.getInt32(s + 60 + 4 * l, true));
    const text = (at: number): string => {
      let e = at;
      while (e < at + 16 && u[e] !== 0) e++;
      return Buffer.from(u.buffer, u.byteOffset + at, e - at).toString('utf8');
    };
    const values = [
      text(s),
      v.getInt32(s + 16, true),
      parentTgid,
      v.getUint32(s + 24, true),
      text(s + 44),
      childTid,
      vtids,
      childTgid,
      childNs,
    ];
    const at = ps.beginRawFrom(this.forkEc, ts, FORK_BYTES + 64, u, off + HDR);
    if (at < 0) return;
    ps.commitRaw(encodeValues(this.forkCodes, values, ps.view, ps.bytes, at));
  }

  /** Ring-buffer losses per CPU → events_discarded of that CPU's stream, summary, warning. */
  private checkLost(): void {
    const d = this.capture!.lostDelta();
    d.forEach((n, cpu) => {
      if (n <= 0) return;
      const ps = this.streamOfCpu[cpu];
      if (!ps) return;
      if (ps.packets === 0) ps.switchPacket(Math.max(ps.lastTimestamp, 0), true);
      ps.discard(n);
      this.lostTotal += n;
      this.lostPerCpu.set(cpu, (this.lostPerCpu.get(cpu) ?? 0) + n);
      this.inference?.markLossy(cpu);
      this.warn(`lost ${n} events on CPU ${cpu} (ring buffer full; try a larger --buffer-size)`);
    });
  }
}
