/**
 * The `event` table: every event of the analysed period (as the analyses see it: time range and
 * stream intersection applied) with its name, CPU, and its context and payload fields as JSON
 * text, field names as babeltrace2 shows them (one leading underscore removed: `prev_comm`). Integers keep every digit (64-bit values
 * beyond 2^53 are written as JSON numbers with all their digits), strings are UTF-8 text, enums
 * their integer value, variants their selected option's value, text arrays strings.
 */
import type { EventRecord, FieldValue } from '../ctf/event.js';
import { byteStringToText } from '../ctf/event.js';
import type { FieldClass, StructFC } from '../ctf/ir.js';
import type { AnalysisContext, AnalysisHandler } from '../analyses/handler.js';
import type { ClassInfo, EventFn } from '../model/dispatch.js';
import { shownName } from '../text/plan.js';
import { StringCodes } from '../util/string-codes.js';
import { F64Column, I32Column, TextColumn } from './columns.js';

export interface EventColumns {
  readonly ts: F64Column;
  /** Unknown (`NULL_I32`): the stream's packets have no cpu_id. */
  readonly cpu: I32Column;
  /** Code into `names`. */
  readonly name: I32Column;
  readonly context: TextColumn;
  readonly payload: TextColumn;
}

type Json = (v: FieldValue) => string;

function jsonOf(fc: FieldClass): Json {
  switch (fc.kind) {
    case 'int':
    case 'enum':
      return (v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : 'null');
    case 'float':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : 'null');
    case 'string':
      return (v) => (typeof v === 'string' ? JSON.stringify(byteStringToText(v)) : 'null');
    case 'struct':
      return structJson(fc);
    case 'variant': {
      const opts = fc.options.map((o) => jsonOf(o.type));
      return (v) => {
        if (typeof v !== 'object' || Array.isArray(v)) return 'null';
        const f = opts[v.option];
        return f === undefined ? 'null' : f(v.value);
      };
    }
    case 'array':
    case 'sequence': {
      const el = jsonOf(fc.element);
      return (v) => {
        if (typeof v === 'string') return JSON.stringify(byteStringToText(v));
        if (!Array.isArray(v)) return 'null';
        return `[${v.map(el).join(',')}]`;
      };
    }
  }
}

function structJson(fc: StructFC): Json {
  const keys = fc.fields.map((f) => JSON.stringify(shownName(f.name)) + ':');
  const fns = fc.fields.map((f) => jsonOf(f.type));
  return (v) => {
    if (!Array.isArray(v)) return 'null';
    let s = '{';
    for (let i = 0; i < fns.length; i++) {
      if (i > 0) s += ',';
      s += keys[i]! + (v[i] === undefined ? 'null' : fns[i]!(v[i]!));
    }
    return s + '}';
  };
}

export class EventCollector implements AnalysisHandler {
  readonly name = 'sql-events';
  readonly columns: EventColumns = {
    ts: new F64Column(),
    cpu: new I32Column(),
    name: new I32Column(),
    context: new TextColumn(),
    payload: new TextColumn(),
  };
  /** Event names, by the codes of the `name` column. */
  readonly names = new StringCodes();

  reset(_ctx: AnalysisContext): void {
    // Nothing: the events are taken as they come.
  }

  begin(): void {
    // The runner binds handlers to events of the period only.
  }

  finalize(): void {
    // Nothing held open.
  }

  bind(info: ClassInfo): EventFn | undefined {
    const nameCode = this.names.code(info.name);
    const sc = info.streamClass;
    const cpuIdx = sc.packetContext?.fields.findIndex((f) => shownName(f.name) === 'cpu_id') ?? -1;
    const sctx = sc.eventContext === undefined ? undefined : structJson(sc.eventContext);
    const ectx = info.eventClass.context === undefined ? undefined : structJson(info.eventClass.context);
    const pay = info.eventClass.fields === undefined ? undefined : structJson(info.eventClass.fields);
    const c = this.columns;
    const ctxOf = (ev: EventRecord): string | null => {
      const a = sctx === undefined || ev.streamContext === undefined ? undefined : sctx(ev.streamContext);
      const b = ectx === undefined || ev.context === undefined ? undefined : ectx(ev.context);
      if (a === undefined) return b ?? null;
      if (b === undefined) return a;
      // Both scopes: one object (the event context's names after the stream's).
      return a === '{}' ? b : b === '{}' ? a : `${a.slice(0, -1)},${b.slice(1)}`;
    };
    return (ev) => {
      c.ts.push(ev.ts);
      const cpu = cpuIdx < 0 ? undefined : ev.packet.context?.[cpuIdx];
      c.cpu.push(typeof cpu === 'number' ? cpu : typeof cpu === 'bigint' ? Number(cpu) : NaN);
      c.name.push(nameCode);
      c.context.push(ctxOf(ev));
      c.payload.push(pay === undefined || ev.payload === undefined ? null : pay(ev.payload));
    };
  }
}
