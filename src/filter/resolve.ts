/**
 * Field references resolved in an event class: where `x`, `$ctx.x`, `$app.p:t` live in an
 * `EventRecord` (scope and index), with LTTng's names for context fields.
 */
import type { EventClass, NamedField, StreamClass, StructFC } from '../ctf/ir.js';
import type { RefNode } from './ast.js';

/**
 * `$ctx.host_tid`: the host thread of the task that produced the event (kernel events: their
 * task; userspace events: the thread their `pid_ns` and `vtid` contexts designate at their time,
 * src/model/ust-join.ts). A class with a real `host_tid` context field reads that field.
 */
export function isHostTidRef(r: Pick<RefNode, 'root' | 'name' | 'path'>): boolean {
  return r.root === 'ctx' && r.name === 'host_tid' && r.path.length === 0;
}

/** Where a value lives in an `EventRecord`. */
export type ValueScope = 'payload' | 'streamContext' | 'context' | 'packetContext';

export interface ResolvedField {
  readonly scope: ValueScope;
  /** Index in the scope's value array. */
  readonly index: number;
  readonly field: NamedField;
}

/** Index of `name` in `struct`, also under its TSDL spelling with a leading underscore. */
export function memberIndex(struct: StructFC | undefined, name: string): number {
  if (struct === undefined) return -1;
  const fields = struct.fields;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return i;
  const alt = '_' + name;
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === alt) return i;
  return -1;
}

/** TSDL identifier LTTng derives from a context name (`perf:thread:cycles` → `perf_thread_cycles`). */
export function contextIdentifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * Finds the first name of a field reference in a class: payload fields in the event's fields,
 * `$ctx.X` in the stream event context then the event context (then `cpu_id` in the packet
 * context), `$app.P:T` as LTTng names app contexts (`_app_P_T`). Undefined when absent.
 */
export function resolveRef(
  ref: Pick<RefNode, 'root' | 'name'>,
  ec: EventClass,
  sc: StreamClass,
): ResolvedField | undefined {
  const find = (scope: ValueScope, struct: StructFC | undefined, name: string): ResolvedField | undefined => {
    const i = memberIndex(struct, name);
    return i < 0 ? undefined : { scope, index: i, field: struct!.fields[i]! };
  };
  switch (ref.root) {
    case 'payload':
      return find('payload', ec.fields, ref.name);
    case 'ctx': {
      const id = contextIdentifier(ref.name);
      return (
        find('streamContext', sc.eventContext, id) ??
        find('context', ec.context, id) ??
        (id === 'cpu_id' ? find('packetContext', sc.packetContext, 'cpu_id') : undefined)
      );
    }
    case 'app': {
      // LTTng names the field of `$app.P:T` `_app_P_T` in TSDL (`__app_P_T` with the prefix).
      const id = '_app_' + contextIdentifier(ref.name);
      return find('streamContext', sc.eventContext, id) ?? find('context', ec.context, id);
    }
    case 'container':
      return undefined;
  }
}
