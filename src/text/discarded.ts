/** The warning babeltrace2 writes to standard error for discarded events or packets. */
import type { ClockClass } from '../ctf/ir.js';
import type { DiscardedRecord } from '../ctf/event.js';
import { textToByteString as bytes } from '../ctf/event.js';
import { C } from './colors.js';
import { formatUuid } from './format.js';

/** The warning line babeltrace2 writes to standard error for a discarded-items record. */
export function discardedText(
  rec: DiscardedRecord,
  warningColors: boolean,
  boundTime: (ts: number, cycles: number | undefined, clock: ClockClass | undefined) => string,
): string {
  const w = warningColors;
  const yellow = w ? C.yellow : '';
  const bold = w ? C.bold : '';
  const reset = w ? C.reset : '';
  const count = rec.count as number | undefined;
  const unknown = count === undefined || count < 0;
  const what = rec.kind === 'discarded-events' ? 'event' : 'packet';
  let s = `${yellow}${bold}WARNING${reset}${yellow}: ${unknown ? 'Tracer may have discarded' : 'Tracer discarded'} `;
  s += unknown ? `${what}s` : `${count} ${what}${count === 1 ? '' : 's'}`;
  s += ' ';
  if (rec.beginTs !== undefined && rec.endTs !== undefined) {
    const clock = rec.stream.clock;
    s +=
      'between [' +
      boundTime(rec.beginTs, rec.beginCycles, clock) +
      '] and [' +
      boundTime(rec.endTs, rec.endCycles, clock) +
      ']';
  } else {
    s += '(unknown time range)';
  }
  const trace = rec.stream.trace;
  s += ` in trace "${bytes(trace.name)}" `;
  s += trace.cls.uuid ? `(UUID: ${formatUuid(trace.cls.uuid)}) ` : '(no UUID) ';
  const streamName = bytes(rec.stream.files[0] ?? '(unknown)');
  s += `within stream "${streamName}" (stream class ID: ${rec.stream.streamClass.id}, `;
  s += `stream ID: ${rec.stream.id}`;
  s += `).${reset}\n`;
  return s;
}
