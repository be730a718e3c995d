/**
 * The events table of `nstrace view`: the lines `nstrace print --begin B --end E [--filter EXPR]
 * [--container SEL ...] [--container-type T ...] [--host] TRACE...` writes, a page at a time.
 *
 * Same pipeline as `print`: the trace set, fed to a container model as it is read (with the
 * view's model, which has seen the whole trace, as the final one: the second replay of
 * `print`), the record filter, babeltrace2's trimmer, the pretty printer with babeltrace2's
 * default options. Each query reads the trace from its beginning (the model needs every event
 * before the range); a query that continues the previous one (`cursor`) goes on where it stopped.
 * Reading yields to the event loop every few thousand records, and a newer query stops an older one.
 */
import type { EventRecord, TimeBase, TraceRecord } from '../ctf/event.js';
import { absoluteNs } from '../ctf/event.js';
import { TraceSet } from '../ctf/index.js';
import type { RecordStream } from '../filter/options.js';
import { buildRecordFilter, filterRecords } from '../filter/options.js';
import { compileContainerMatcher } from '../filter/containers.js';
import type { Container } from '../model/containers.js';
import { feedModel, ModelContainerLookup, unmatchedSelectorMessages } from '../model/lookup.js';
import { SystemModel } from '../model/model.js';
import { DEFAULT_PRETTY_OPTIONS } from '../text/options.js';
import { PrettyPrinter } from '../text/pretty.js';
import { TRIM_END, Trimmer } from '../text/time.js';
import { NstraceError, UsageError } from '../util/errors.js';
import type { EventsQuery, EventsResponse } from './types.js';

const DEFAULT_LIMIT = 500;
const MAX_LIMIT = 5000;
/** Records read between yields to the event loop. */
const SLICE = 20_000;

interface Cursor {
  readonly id: string;
  readonly set: TraceSet;
  readonly source: RecordStream;
  readonly lookup: ModelContainerLookup;
  readonly trimmer: Trimmer;
  readonly printer: PrettyPrinter;
  readonly chunks: Buffer[];
  readonly errs: string[];
  readonly command: string;
  done: boolean;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `SEC.NNNNNNNNN` from the origin, as `print --begin/--end` reads it. */
export function secondsText(base: TimeBase, ts: number): string {
  const abs = absoluteNs(base, ts);
  const neg = abs < 0n;
  const a = neg ? -abs : abs;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${String(a % 1_000_000_000n).padStart(9, '0')}`;
}

function list(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new UsageError('container selectors must be lists of strings');
  }
  const l = (v as string[]).map((s) => s.trim()).filter((s) => s !== '');
  return l.length === 0 ? undefined : l;
}

export class EventsService {
  private cursor: Cursor | undefined;
  private generation = 0;
  private nextId = 1;

  constructor(
    private readonly paths: readonly string[],
    private readonly base: TimeBase,
    /** The model that replayed the whole trace (the view's). */
    private readonly finalModel: SystemModel,
  ) {}

  close(): void {
    this.cursor?.set.close();
    this.cursor = undefined;
  }

  async query(q: EventsQuery): Promise<EventsResponse> {
    const gen = ++this.generation;
    const limit = Math.max(1, Math.min(MAX_LIMIT, Math.floor(Number(q.limit ?? DEFAULT_LIMIT)) || 1));
    let c = this.cursor;
    if (q.cursor === undefined || q.cursor === null || c === undefined || c.id !== q.cursor) {
      this.close();
      c = this.open(q);
      this.cursor = c;
    }
    const lines: string[] = [];
    const containers: number[] = [];
    const ts: number[] = [];
    const warnings: string[] = [];
    if (q.cursor === undefined || q.cursor === null) {
      const sel = { containers: list(q.container), types: list(q.containerType), host: q.host === true };
      for (const m of unmatchedSelectorMessages(compileContainerMatcher(sel), this.finalModel))
        warnings.push(m);
    }
    let read = 0;
    while (!c.done && lines.length < limit) {
      if (++read % SLICE === 0) {
        await new Promise((r) => setImmediate(r));
        if (gen !== this.generation) throw new NstraceError('superseded by a newer query');
      }
      const rec = c.source.next();
      if (rec === null) {
        c.done = true;
        break;
      }
      const r = c.trimmer.filter(rec);
      if (r === TRIM_END) {
        c.done = true;
        break;
      }
      if (r === null) continue;
      this.printOne(c, r, lines, containers, ts);
    }
    warnings.push(...c.errs.splice(0));
    if (c.done) this.close();
    return { lines, containers, ts, warnings, cursor: c.done ? null : c.id, command: c.command };
  }

  private printOne(c: Cursor, r: TraceRecord, lines: string[], containers: number[], ts: number[]): void {
    void c.printer.print(r);
    void c.printer.flush();
    if (r.kind !== 'event') return;
    const text = Buffer.concat(c.chunks.splice(0)).toString('utf8');
    lines.push(text.endsWith('\n') ? text.slice(0, -1) : text);
    containers.push(this.containerKey(c.lookup, r));
    ts.push(r.ts);
  }

  private containerKey(lookup: ModelContainerLookup, rec: EventRecord): number {
    const info = lookup.at(rec);
    if (info === undefined) return 0;
    const c = (info as { container?: Container }).container;
    return c === undefined ? -1 : c.key;
  }

  private open(q: EventsQuery): Cursor {
    const t0 = Math.floor(Number(q.t0));
    const t1 = Math.ceil(Number(q.t1));
    if (!Number.isFinite(t0) || !Number.isFinite(t1) || t1 < t0) {
      throw new UsageError(`invalid time range [${q.t0}, ${q.t1}]`);
    }
    const filter = typeof q.filter === 'string' && q.filter.trim() !== '' ? q.filter : undefined;
    const opts = {
      filter,
      container: list(q.container),
      containerType: list(q.containerType),
      host: q.host === true ? true : undefined,
    };
    const set = TraceSet.open(this.paths);
    try {
      const lookup = new ModelContainerLookup(new SystemModel({ syscalls: false, memory: false }));
      lookup.useFinal(this.finalModel);
      const fed = feedModel(set, lookup.model);
      const errs: string[] = [];
      const keep = buildRecordFilter(opts, set, {
        containers: lookup,
        onWarning: (m) => errs.push(`nstrace: warning: ${m}`),
      });
      const b = secondsText(this.base, t0);
      const e = secondsText(this.base, t1);
      const trimmer = new Trimmer(
        { kind: 'ns', ns: absoluteNs(this.base, t0) },
        { kind: 'ns', ns: absoluteNs(this.base, t1) },
        false,
        set.base,
      );
      const chunks: Buffer[] = [];
      const printer = new PrettyPrinter(DEFAULT_PRETTY_OPTIONS, set.base, {
        out: (chunk) => {
          chunks.push(Buffer.from(chunk));
        },
        err: (text) => {
          errs.push(Buffer.from(text, 'latin1').toString('utf8').replace(/\n$/, ''));
        },
      });
      const args = ['nstrace', 'print', '--begin', b, '--end', e];
      if (filter !== undefined) args.push('--filter', filter);
      for (const s of opts.container ?? []) args.push('--container', s);
      for (const s of opts.containerType ?? []) args.push('--container-type', s);
      if (opts.host === true) args.push('--host');
      args.push(...this.paths);
      return {
        id: String(this.nextId++),
        set,
        source: filterRecords(fed, keep),
        lookup,
        trimmer,
        printer,
        chunks,
        errs,
        command: args.map(shellQuote).join(' '),
        done: false,
      };
    } catch (err) {
      set.close();
      throw err;
    }
  }
}
