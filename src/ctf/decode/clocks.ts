/**
 * Which clock the timestamps of a trace map to. An integer maps to a clock explicitly (`map =
 * clock.NAME.value`) or, babeltrace2's implicit rule, when it is an unmapped `timestamp` of an
 * event header or `timestamp_begin`/`timestamp_end` of a packet context: to the trace's only
 * clock, or to an implicit 1 GHz clock named `default` when the trace declares none.
 */
import type { ClockClass, FieldClass, Scope, StreamClass, TraceClass } from '../ir.js';
import { MetadataError } from '../../util/errors.js';
import { intOf, isIntLike, topField } from './classes.js';

/** The clock babeltrace2 creates when a trace has timestamps but declares no clock. */
export const IMPLICIT_CLOCK: ClockClass = Object.freeze({
  name: 'default',
  freq: 1e9,
  offsetSeconds: 0,
  offsetCycles: 0,
  precision: 0,
  absolute: false,
});

export interface TraceClocks {
  /** The trace's clocks, with the implicit one when needed. */
  readonly clocks: Map<string, ClockClass>;
  /** Name of the clock an unmapped integer at (scope, path) maps to implicitly, if any. */
  readonly implicitClock: (scope: Scope, path: readonly string[]) => string | undefined;
}

/** Clock names mapped by any integer in a class (explicitly). */
function mappedClocks(fc: FieldClass | undefined, into: Set<string>): void {
  if (fc === undefined) return;
  switch (fc.kind) {
    case 'int':
      if (fc.mappedClock !== undefined) into.add(fc.mappedClock);
      break;
    case 'enum':
      if (fc.container.mappedClock !== undefined) into.add(fc.container.mappedClock);
      break;
    case 'struct':
      for (const f of fc.fields) mappedClocks(f.type, into);
      break;
    case 'variant':
      for (const o of fc.options) mappedClocks(o.type, into);
      break;
    case 'array':
    case 'sequence':
      mappedClocks(fc.element, into);
      break;
    default:
      break;
  }
}

/** The clocks of a trace class and its implicit mapping (`file` names the trace in errors). */
export function traceClocks(cls: TraceClass, file: string): TraceClocks {
  const clocks = new Map(cls.clocks);
  const needsImplicit = (sc: StreamClass): boolean =>
    [
      topField(sc.eventHeader, 'timestamp'),
      topField(sc.packetContext, 'timestamp_begin'),
      topField(sc.packetContext, 'timestamp_end'),
    ].some((f) => f !== undefined && isIntLike(f) && intOf(f)!.mappedClock === undefined);
  let implicitName: string | undefined;
  if ([...cls.streamClasses.values()].some(needsImplicit)) {
    if (clocks.size === 0) {
      clocks.set(IMPLICIT_CLOCK.name, IMPLICIT_CLOCK);
      implicitName = IMPLICIT_CLOCK.name;
    } else if (clocks.size === 1) {
      implicitName = [...clocks.keys()][0];
    } else {
      throw new MetadataError(
        file,
        undefined,
        undefined,
        'a timestamp field maps to no clock and the trace has several clocks',
      );
    }
  }
  const implicitClock = (scope: Scope, path: readonly string[]): string | undefined => {
    if (implicitName === undefined || path.length !== 1) return undefined;
    const n = path[0];
    if (scope === 'stream.event.header' && n === 'timestamp') return implicitName;
    if (scope === 'stream.packet.context' && (n === 'timestamp_begin' || n === 'timestamp_end'))
      return implicitName;
    return undefined;
  };
  return { clocks, implicitClock };
}

/**
 * The clock the packet context and event header of a stream class map to (undefined: none);
 * throws when they map to several, or to one the trace does not declare.
 */
export function streamClock(sc: StreamClass, tc: TraceClocks, file: string): ClockClass | undefined {
  const clockNames = new Set<string>();
  mappedClocks(sc.packetContext, clockNames);
  mappedClocks(sc.eventHeader, clockNames);
  for (const [scope, root] of [
    ['stream.event.header', sc.eventHeader],
    ['stream.packet.context', sc.packetContext],
  ] as const) {
    for (const f of root?.fields ?? []) {
      const i = intOf(f.type);
      if (i !== undefined && i.mappedClock === undefined) {
        const c = tc.implicitClock(scope, [f.name]);
        if (c !== undefined) clockNames.add(c);
      }
    }
  }
  if (clockNames.size > 1) {
    throw new MetadataError(
      file,
      undefined,
      undefined,
      `stream class ${sc.id} maps its timestamps to several clocks (${[...clockNames].join(', ')})`,
    );
  }
  const clockName = [...clockNames][0];
  const clock = clockName === undefined ? undefined : tc.clocks.get(clockName);
  if (clockName !== undefined && clock === undefined) {
    throw new MetadataError(
      file,
      undefined,
      undefined,
      `stream class ${sc.id} maps to unknown clock \`${clockName}\``,
    );
  }
  return clock;
}
