/**
 * Which fields babeltrace2 2.0.4 shows, and under which names.
 *
 * babeltrace2's CTF source does not hand every CTF field to its sinks: it removes the fields it
 * consumes itself (packet sizes, packet timestamps, discarded-event counter, packet sequence
 * number, the event header, the packet header) and every integer mapped to a clock, unless a
 * sequence or variant that stays needs it as its length or tag. Structures that lose all their
 * members disappear too (an originally empty structure stays). The printer only shows what is
 * left. This module computes that "print plan" once per stream class, following the same
 * rules and processing order (docs/text-format.md, "Which fields are shown").
 *
 * Field names lose one leading underscore, as in babeltrace2 (`_vpid` is shown as `vpid`,
 * `__x_length` as `_x_length`).
 */
import type { EventClass, FieldClass, FieldRef, IntegerFC, Scope, StreamClass, StructFC } from '../ctf/ir.js';

export type PlanNode = IntPlan | EnumPlan | FloatPlan | StringPlan | StructPlan | ArrayPlan | VariantPlan;

export interface IntPlan {
  readonly k: 'int';
  readonly fc: IntegerFC;
}
export interface EnumPlan {
  readonly k: 'enum';
  readonly container: IntegerFC;
  /** Labels with their ranges in babeltrace2's mapping order (first appearance of a label). */
  readonly mappings: ReadonlyArray<{ label: string; ranges: ReadonlyArray<readonly [bigint, bigint]> }>;
}
export interface FloatPlan {
  readonly k: 'float';
}
/** A string, or a text array/sequence (8-bit, 8-aligned integers with an encoding). */
export interface StringPlan {
  readonly k: 'string';
}
export interface StructPlan {
  readonly k: 'struct';
  /** Shown members: `index` into the structure's value array, `name` as shown. */
  readonly members: ReadonlyArray<{ readonly index: number; readonly name: string; readonly node: PlanNode }>;
}
export interface ArrayPlan {
  readonly k: 'array';
  readonly elem: PlanNode;
}
export interface VariantPlan {
  readonly k: 'variant';
  /** By option index; every option of a shown variant is shown. */
  readonly options: readonly PlanNode[];
}

export interface EventPlan {
  readonly context: StructPlan | undefined;
  readonly payload: StructPlan | undefined;
}

export interface StreamPlan {
  readonly packetContext: StructPlan | undefined;
  readonly eventContext: StructPlan | undefined;
  readonly events: ReadonlyMap<EventClass, EventPlan>;
}

/** Name shown for a structure member: one leading underscore removed. */
export function shownName(name: string): string {
  return name.charCodeAt(0) === 95 ? name.slice(1) : name;
}

/** Packet-context members whose value babeltrace2 consumes (top level, integer or enum). */
const PACKET_CONTEXT_MEANINGS = new Set([
  'timestamp_begin',
  'timestamp_end',
  'events_discarded',
  'packet_seq_num',
  'packet_size',
  'content_size',
]);

/** Whether babeltrace2 turns an array/sequence with this element class into a string. */
export function isTextElement(fc: FieldClass): boolean {
  const i = fc.kind === 'int' ? fc : fc.kind === 'enum' ? fc.container : undefined;
  return i !== undefined && i.size === 8 && i.align === 8 && i.encoding !== 'none';
}

function refKey(ref: FieldRef): string {
  return ref.scope + ':' + ref.path.join('.');
}

/**
 * Builds the plan of one scope structure. `deps` holds the keys of the length/tag fields needed
 * by shown sequences/variants found so far (babeltrace2 walks in reverse decoding order so that
 * a dependency is known before its target is reached).
 */
class ScopeBuilder {
  constructor(
    private readonly scope: Scope,
    private readonly deps: Set<string>,
  ) {}

  /** The scope's root structure plan, or undefined when babeltrace2 drops the whole scope. */
  root(fc: StructFC | undefined): StructPlan | undefined {
    if (fc === undefined) return undefined;
    const members = this.members(fc, [], this.scope === 'stream.packet.context');
    // A root scope is kept when it has at least one kept immediate member or was empty.
    if (fc.fields.length > 0 && members.length === 0) return undefined;
    return { k: 'struct', members };
  }

  private members(
    fc: StructFC,
    path: string[],
    packetContextRoot: boolean,
  ): Array<{ index: number; name: string; node: PlanNode }> {
    const out: Array<{ index: number; name: string; node: PlanNode }> = [];
    for (let i = fc.fields.length - 1; i >= 0; i--) {
      const f = fc.fields[i]!;
      const meaning =
        packetContextRoot &&
        PACKET_CONTEXT_MEANINGS.has(f.name) &&
        (f.type.kind === 'int' || f.type.kind === 'enum');
      const node = this.node(f.type, [...path, f.name], meaning, false);
      if (node) out.push({ index: i, name: shownName(f.name), node });
    }
    return out.reverse();
  }

  /**
   * Plan of a field, or null when it is not shown. `force` keeps the field itself (a variant
   * option of a kept variant) while its members still follow the rules.
   */
  private node(fc: FieldClass, path: string[], meaning: boolean, force: boolean): PlanNode | null {
    switch (fc.kind) {
      case 'int':
      case 'enum': {
        const i = fc.kind === 'int' ? fc : fc.container;
        const kept =
          force ||
          (i.mappedClock === undefined && !meaning) ||
          this.deps.has(this.scope + ':' + path.join('.'));
        if (!kept) return null;
        if (fc.kind === 'int') return { k: 'int', fc };
        return { k: 'enum', container: fc.container, mappings: mergeMappings(fc.mappings) };
      }
      case 'float':
        return { k: 'float' };
      case 'string':
        return { k: 'string' };
      case 'struct': {
        const members = this.members(fc, path, false);
        if (!force && fc.fields.length > 0 && members.length === 0) return null;
        return { k: 'struct', members };
      }
      case 'array':
      case 'sequence': {
        const elem = this.node(fc.element, path, false, force);
        if (!elem) return null;
        if (fc.kind === 'sequence') this.deps.add(refKey(fc.length));
        if (isTextElement(fc.element)) return { k: 'string' };
        return { k: 'array', elem };
      }
      case 'variant': {
        const opts: Array<PlanNode | null> = new Array<PlanNode | null>(fc.options.length).fill(null);
        let any = false;
        for (let i = fc.options.length - 1; i >= 0; i--) {
          const o = fc.options[i]!;
          opts[i] = this.node(o.type, [...path, o.name], false, false);
          if (opts[i]) any = true;
        }
        if (!any && !force) return null;
        // A kept variant keeps all its options (an option may become an empty structure).
        const options = opts.map(
          (n, i) => n ?? this.node(fc.options[i]!.type, [...path, fc.options[i]!.name], false, true)!,
        );
        this.deps.add(refKey(fc.tag));
        return { k: 'variant', options };
      }
    }
  }
}

/** Labels merged by name in order of first appearance (babeltrace2 keeps one mapping per label). */
function mergeMappings(
  mappings: ReadonlyArray<{ label: string; ranges: ReadonlyArray<readonly [bigint, bigint]> }>,
): Array<{ label: string; ranges: Array<readonly [bigint, bigint]> }> {
  const byLabel = new Map<string, Array<readonly [bigint, bigint]>>();
  for (const m of mappings) {
    const r = byLabel.get(m.label);
    if (r) r.push(...m.ranges);
    else byLabel.set(m.label, [...m.ranges]);
  }
  return [...byLabel].map(([label, ranges]) => ({ label, ranges }));
}

/** The print plan of a stream class and all its event classes. */
export function planStreamClass(sc: StreamClass): StreamPlan {
  // Shared by the stream-level scopes, which come after every event class (reverse order).
  const streamDeps = new Set<string>();
  const events = new Map<EventClass, EventPlan>();
  for (const ec of sc.eventClasses.values()) {
    const deps = new Set<string>();
    const payload = new ScopeBuilder('event.fields', deps).root(ec.fields);
    const context = new ScopeBuilder('event.context', deps).root(ec.context);
    for (const k of deps) {
      if (k.startsWith('stream.')) streamDeps.add(k);
    }
    events.set(ec, { context, payload });
  }
  const eventContext = new ScopeBuilder('stream.event.context', streamDeps).root(sc.eventContext);
  const packetContext = new ScopeBuilder('stream.packet.context', streamDeps).root(sc.packetContext);
  return { packetContext, eventContext, events };
}
