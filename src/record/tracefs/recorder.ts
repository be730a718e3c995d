/**
 * The tracefs backend of `nstrace record`: a kernel recorder over tracefs that writes the CTF
 * trace lttng-modules would have written, with namespace contexts on every event and a
 * statedump.
 *
 * Flow: a private tracefs instance is created and configured (mono clock, discard mode, our
 * own pids excluded), events are enabled, /proc is walked into the thread table and the
 * statedump is queued; then every CPU's `trace_pipe_raw` is read in whole pages, and the
 * records of all CPUs are merged by time (the thread table must see a fork before the child's
 * first event) and converted by per-event compiled converters straight into per-CPU packets.
 * On stop (duration, abort signal, error) the instance is removed, which restores tracefs.
 * This file: the run and the per-record path; the setup and state are in session.ts.
 */
import fs from 'node:fs';
import { NstraceError } from '../../util/errors.js';
import type { PatchEntry, Thread } from '../thread.js';
import { inferredSwitchFields, PRIO_UNOBSERVED_NEXT, PRIO_UNOBSERVED_PREV } from '../lttng-events.js';
import type { StreamWriter } from '../../ctf/writer/index.js';
import { structFromCodes } from '../types.js';
import { encodedSizeBound, encodeValues } from '../encode.js';
import type { RecordOptions, RecordSummary } from '../options.js';
import { readProcPrio } from '../proc.js';
import { RecorderSession } from './session.js';
import { TWO32, type CpuReader } from './readers.js';

const MERGE_MARGIN_NS = 5_000_000;

export class Recorder extends RecorderSession {
  // ------------------------------------------------------------------------------------------
  // Run

  async run(): Promise<RecordSummary> {
    const { t0, cpu } = await this.guardedRun('tracefs and /proc of every process', [
      () => this.containerWatcher?.close(),
      // On an error the worker may still run: its fds keep the watcher instance busy.
      () => this.watcher?.stop(),
    ]);
    return this.summary(t0, cpu);
  }

  protected special(name: string, dv: DataView, du: Uint8Array, o: number): number {
    const c = this.forkChild;
    // The same fields of the parent and of the child.
    const t = name.startsWith('parent_') ? this.forkParent : c;
    switch (name) {
      case 'parent_tgid':
      case 'child_tgid':
        dv.setInt32(o, t ? t.pid : 0, true);
        return o + 4;
      case 'parent_ns_inum':
      case 'child_ns_inum':
        dv.setUint32(o, t ? t.ns[0]!.inum : 0, true);
        if (t && t.ns[0]!.inum === 0) this.addPatch(t, this.curStream!, o, 2);
        return o + 4;
      case 'vtids': {
        // Levels not known (a parent whose pid_for_children is not known yet): no ids at all.
        const ids = c && !c.idsUnknown ? c.nsTids : [];
        if (c && !c.idsUnknown && ids.includes(0)) this.addPatch(c, this.curStream!, o, 1);
        du[o++] = ids.length;
        for (const v of ids) {
          dv.setInt32(o, v, true);
          o += 4;
        }
        return o;
      }
      default:
        throw new Error(`unknown special field ${name}`);
    }
  }

  private addPatch(t: Thread, ps: StreamWriter, off: number, kind: 0 | 1 | 2): void {
    let l = t.patches;
    if (!l) t.patches = l = [];
    if (l.length >= 4096) {
      // Dropped: that event keeps its unknown values.
      l.shift();
      this.patchStats.tooLate++;
    }
    // Valid while no packet of the stream closes (the open packet's bytes stay where they are).
    l.push(
      kind === 0
        ? { stream: ps, seq: ps.packets, off, kind, ns: t.nsAtWrite, comm: t.commAtWrite }
        : { stream: ps, seq: ps.packets, off, kind },
    );
    this.pendingPatch.add(t);
  }

  /** Rewrites values that became known in packets that are still open. */
  private applyPatches(): void {
    this.learnedSeen = this.table.learned;
    for (const t of this.pendingPatch) {
      const l = t.patches!;
      this.table.rebuild(t);
      const keep: PatchEntry[] = [];
      for (const e of l) {
        const ps = e.stream as StreamWriter;
        if (ps.packets !== e.seq) {
          this.patchStats.tooLate++;
          continue;
        }
        const dv = ps.view;
        let open = t.incomplete;
        if (e.kind === 0) {
          open = this.table.patchContext(t, e.ns!, dv, e.off, e.comm);
        } else if (e.kind === 1) {
          const ids = t.nsTids;
          if (ps.bytes[e.off] === ids.length)
            for (let k = 0; k < ids.length; k++) dv.setInt32(e.off + 1 + 4 * k, ids[k]!, true);
        } else {
          dv.setUint32(e.off, t.ns[0]!.inum, true);
        }
        this.patchStats.patched++;
        if (open) keep.push(e);
      }
      if (keep.length > 0) t.patches = keep;
      else {
        t.patches = undefined;
        this.pendingPatch.delete(t);
      }
    }
  }

  protected async loop(): Promise<void> {
    await this.recordLoop(
      () => {
        const got = this.readAll(false);
        this.process(false);
        return got;
      },
      8,
      () => {
        this.checkLost();
        this.watcher?.prune(this.now() - 2e9);
      },
    );
    // Final drain: stop tracing, read what is left, write everything.
    this.stopTs = this.now();
    for (const inst of [this.instance, this.schedInstance, this.watchInstance]) {
      try {
        inst?.write('tracing_on', '0');
      } catch {
        // instance gone: nothing more to read
      }
    }
    await this.watcher?.stop();
    this.readAll(true);
    this.process(true);
    this.checkLost();
    // Values still unknown in written events stay so (0 / "").
    this.applyPatches();
    for (const t of this.pendingPatch) this.patchStats.unresolved += t.patches?.length ?? 0;
    for (const ps of this.streams) ps.close(this.stopTs);
    this.tw.close();
    this.finished = true;
    this.reportProgress();
  }

  /** Adds ring-buffer losses (overrun + dropped, from per_cpu stats) to the streams. */
  private checkLost(): void {
    for (const r of this.readers) {
      if (!r.inst.exists) continue;
      const st = r.inst.cpuStats(r.cpu);
      const total = (st.get('overrun') ?? 0) + (st.get('dropped events') ?? 0);
      const delta = total - r.lastStatLost;
      if (delta > 0) {
        // babeltrace2 counts losses from one packet to the next: those in a stream's first
        // packet it reports without a number ("may have discarded"). Close that packet first.
        if (r.stream.packets === 0)
          r.stream.switchPacket(Math.max(r.stream.lastTimestamp, this.startTs), true);
        r.lastStatLost = total;
        r.lost += delta;
        r.sched.lossy = true;
        r.stream.discard(delta);
        this.lostTotal += delta;
        this.warn(`lost ${delta} events on CPU ${r.cpu} (ring buffer full; try a larger --buffer-size)`);
      }
    }
  }

  /** Reads every available page of every CPU. Returns the number of pages read. */
  protected readAll(final: boolean): number {
    let pages = 0;
    for (const r of this.readers) {
      const before = this.now();
      let eagain = false;
      while (r.count < r.slots) {
        const slot = (r.head + r.count) % r.slots;
        let n: number;
        try {
          n = fs.readSync(r.fd, r.pool, slot * r.pageSize, r.pageSize, null);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
            eagain = true;
            break;
          }
          if (code === 'EINTR') continue;
          throw new NstraceError(`reading cpu${r.cpu}/trace_pipe_raw: ${(err as Error).message}`, 1, {
            cause: err,
          });
        }
        if (n <= 0) {
          eagain = true;
          break;
        }
        if (n < r.pageSize) r.pool.fill(0, slot * r.pageSize + n, (slot + 1) * r.pageSize);
        r.queue[slot] = slot;
        r.count++;
        pages++;
      }
      if (eagain || final) r.readUntil = Math.max(r.readUntil, before - MERGE_MARGIN_NS);
      else {
        // Queue full: only what is before the last queued page's start is surely complete.
        const last = (r.head + r.count - 1) % r.slots;
        const hi = r.pv.getUint32(last * r.pageSize + 4, true);
        const lo = r.pv.getUint32(last * r.pageSize, true);
        r.readUntil = Math.max(r.readUntil, (hi - this.baseHi) * TWO32 + lo - 1);
      }
    }
    return pages;
  }

  /** Positions `r` on its next event; false when its queue is exhausted. */
  private advance(r: CpuReader): boolean {
    const c = r.cursor;
    while (true) {
      if (r.curSlot >= 0) {
        if (c.next()) {
          r.hasCur = true;
          return true;
        }
        // Page done: release it.
        r.head = (r.head + 1) % r.slots;
        r.count--;
        r.curSlot = -1;
      }
      if (r.count === 0) return false;
      r.curSlot = r.head;
      c.reset(r.pv, r.curSlot * r.pageSize, r.pageSize);
      if (c.missed !== 0) r.sched.lossy = true;
    }
  }

  private peek(r: CpuReader): number {
    if (!r.hasCur && !this.advance(r)) return Infinity;
    return r.cursor.ts;
  }

  /** Merges all CPUs (and the injected events) by time, up to what is known complete. */
  private process(final: boolean): void {
    let W = Infinity;
    if (!final) for (const r of this.readers) W = Math.min(W, r.readUntil);
    if (this.watcher) {
      const wp = this.watcher.drain();
      if (!final) W = Math.min(W, wp);
    }
    const readers = this.readers;
    const n = readers.length;
    while (true) {
      let best = -2;
      let bestTs = Infinity;
      let second = Infinity;
      for (let i = 0; i < n; i++) {
        const ts = this.peek(readers[i]!);
        if (ts < bestTs) {
          second = bestTs;
          bestTs = ts;
          best = i;
        } else if (ts < second) second = ts;
      }
      const its = this.injectedPos < this.injected.length ? this.injected[this.injectedPos]!.ts : Infinity;
      if (its < bestTs) {
        second = bestTs;
        bestTs = its;
        best = -1;
      } else if (its < second) second = its;
      if (best === -2 || bestTs > W) break;
      const limit = Math.min(second, W);
      if (best === -1) this.drainInjected(limit);
      else this.drain(readers[best]!, limit);
    }
  }

  private drainInjected(limit: number): void {
    const ps = this.injectStream;
    const self = this.selfThread ?? this.table.get(process.pid, 0);
    while (this.injectedPos < this.injected.length) {
      const ev = this.injected[this.injectedPos]!;
      if (ev.ts > limit) return;
      this.injectedPos++;
      if (ev.ts >= this.table.nextDueAt) {
        this.table.resolveDue(ev.ts);
        if (this.table.learned !== this.learnedSeen) this.applyPatches();
      }
      const ec = this.classFor(ev.name, structFromCodes(ev.fields));
      const codes = ev.fields.map((f) => f[1]);
      // Never before what the stream already holds (the writer requires non-decreasing times).
      const ts = Math.max(ev.ts, ps.lastTimestamp);
      if (self.ctxEpoch !== this.table.epoch) this.table.rebuild(self);
      const at = ps.beginRawBytes(ec, ts, encodedSizeBound(codes, ev.values) + 8, self.ctxBytes);
      if (at < 0) continue;
      const du = ps.bytes;
      ps.commitRaw(encodeValues(codes, ev.values, ps.view, du, at));
    }
  }

  /** The hot loop: converts `r`'s events up to `limit` into its packet stream. */
  private drain(r: CpuReader, limit: number): void {
    const c = r.cursor;
    const pv = r.pv;
    const pu = r.pool;
    const ps = r.stream;
    const table = this.table;
    const handlers = this.handlers;
    const helpers = this.helpers;
    const cpu = r.cpu;
    let lastTid = r.thVersion === table.version ? r.lastTid : -2;
    let th: Thread | undefined = r.lastTh;
    while (r.hasCur || this.advance(r)) {
      const ts = c.ts;
      if (ts > limit) {
        r.lastTid = lastTid;
        r.lastTh = th;
        r.thVersion = table.version;
        return;
      }
      r.hasCur = false;
      const s = c.dataOffset;
      const hd = handlers[pv.getUint16(s, true)];
      if (hd === undefined) {
        this.unknownIds++;
        continue;
      }
      const tid = pv.getInt32(s + 4, true);
      this.curTs = ts;
      const cs = r.sched;
      if (tid !== cs.cur && cs.cur >= 0) {
        // Every event is in the context of the task running on its CPU: this one runs, though
        // the kernel reported no switch to it.
        if (this.inferOn && !cs.lossy) this.inferSwitch(r, cs.cur, tid, ts);
        cs.cur = tid;
      }
      if (ts >= table.nextDueAt) {
        // /proc reads whose time has come: their values hold from here (and patch back).
        table.resolveDue(ts);
        if (table.learned !== this.learnedSeen) this.applyPatches();
      }
      if (tid !== lastTid || th === undefined) {
        th = table.get(tid, cpu, ts);
        lastTid = tid;
      }
      if (hd.entry !== undefined) {
        th.scId = hd.fmt.id;
        th.scName = hd.scName;
        const nb = hd.entry.saveBytes;
        if (nb > 0) {
          if (th.scArgs === undefined) {
            th.scArgs = new Uint8Array(48);
            th.scView = new DataView(th.scArgs.buffer);
          }
          const a = th.scView!;
          for (let k = 0; k < nb; k += 8) {
            a.setUint32(k, pv.getUint32(s + 16 + k, true), true);
            a.setUint32(k + 4, pv.getUint32(s + 20 + k, true), true);
          }
        }
      }
      if (hd.state !== undefined) {
        this.inEvent = true;
        hd.state(pv, pu, s, th, ts, cpu);
        this.inEvent = false;
        lastTid = -2;
        th = table.get(tid, cpu, ts);
        if (table.learned !== this.learnedSeen) this.applyPatches();
      }
      const sw = hd.sw;
      if (sw !== undefined) {
        cs.cur = pv.getInt32(s + sw.next, true);
        this.prios.set(tid, pv.getInt32(s + sw.prevPrio, true) - 100);
        this.prios.set(cs.cur, pv.getInt32(s + sw.nextPrio, true) - 100);
      }
      if (hd.plan === undefined) continue;
      if (hd.payload === undefined) this.compileHandler(hd);
      // The writer writes the event header, opens packets and copies the thread's prebuilt
      // context bytes; the payload is converted in here.
      if (th.ctxEpoch !== table.epoch) table.rebuild(th);
      const cb = th.ctxBytes;
      let o = ps.beginRawBytes(hd.ec!, ts, hd.recordVar ? hd.maxLen + c.dataLength : hd.maxLen, cb);
      if (o < 0) continue;
      const du = ps.bytes;
      if (th.incomplete) this.addPatch(th, ps, o - cb.length, 0);
      this.curStream = ps;
      o = hd.payload!(pv, pu, s, ps.view, du, o, th, helpers);
      ps.commitRaw(o);
    }
    r.lastTid = lastTid;
    r.lastTh = th;
    r.thVersion = table.version;
  }

  /**
   * Writes the `sched_switch` from `prev` to `next` that the kernel did not report (ADR 0161):
   * at `ts`, the first event of `next` on this CPU (the switch happened before it), in `prev`'s
   * context like a real one, in its own event class with the extra field `nstrace_inferred`.
   */
  private inferSwitch(r: CpuReader, prev: number, next: number, ts: number): void {
    const ps = r.stream;
    let ec = this.inferredEc;
    if (ec === undefined) {
      const codes = inferredSwitchFields();
      this.inferredCodes = codes.map((c) => c[1]);
      ec = this.inferredEc = this.tw.addEventClass({ name: 'sched_switch', fields: structFromCodes(codes) });
    }
    const table = this.table;
    const pt = table.get(prev, r.cpu, ts);
    const nt = table.get(next, r.cpu, ts);
    const prevPrio = this.prios.get(prev);
    const nextPrio = this.prios.get(next);
    const unobserved =
      (prevPrio === undefined && prev !== 0 ? PRIO_UNOBSERVED_PREV : 0) |
      (nextPrio === undefined && next !== 0 ? PRIO_UNOBSERVED_NEXT : 0);
    if (unobserved !== 0) this.prioUnobserved++;
    const values = [
      commText(pt.comm),
      prev,
      prevPrio ?? guessPrio(prev),
      0,
      commText(nt.comm),
      next,
      nextPrio ?? guessPrio(next),
      1,
      unobserved,
    ];
    if (pt.ctxEpoch !== table.epoch) table.rebuild(pt);
    const at = ps.beginRawBytes(ec, ts, 64, pt.ctxBytes);
    if (at < 0) return;
    const du = ps.bytes;
    if (pt.incomplete) this.addPatch(pt, ps, at - pt.ctxBytes.length, 0);
    ps.commitRaw(encodeValues(this.inferredCodes, values, ps.view, du, at));
    this.inferredCount++;
  }
}

/**
 * LTTng priority of a task no event showed: /proc's now, or 20 (nice 0) when /proc no longer has
 * the task. Not observed at the switch: the switch says so (`nstrace_prio_unobserved`), the
 * summary counts it (inferredPrioUnobserved) and it is not kept as if it had been. The idle
 * task's (tid 0) is the kernel's constant.
 */
function guessPrio(tid: number): number {
  return tid === 0 ? 20 : (readProcPrio(tid) ?? 20);
}

/** comm bytes (NUL padded) as text. */
function commText(b: Uint8Array): string {
  let n = b.indexOf(0);
  if (n < 0) n = b.length;
  return Buffer.from(b.buffer, b.byteOffset, n).toString('utf8');
}

/** Records until `durationMs`, the abort signal, or an error; always restores tracefs. */
export async function record(opts: RecordOptions): Promise<RecordSummary> {
  return new Recorder(opts).run();
}
