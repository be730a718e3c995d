/**
 * The constant part of an event line after the timestamp: the optional `--fields` items
 * (trace, hostname, domain, procname, vpid, log level, EMF URI) and the event name.
 */
import type { EventClass } from '../ctf/ir.js';
import type { Trace } from '../ctf/event.js';
import { textToByteString as bytes } from '../ctf/event.js';
import type { Colors } from './colors.js';
import type { PrettyOptions } from './options.js';

const LOG_LEVEL_NAMES = [
  'TRACE_EMERG',
  'TRACE_ALERT',
  'TRACE_CRIT',
  'TRACE_ERR',
  'TRACE_WARNING',
  'TRACE_NOTICE',
  'TRACE_INFO',
  'TRACE_DEBUG_SYSTEM',
  'TRACE_DEBUG_PROGRAM',
  'TRACE_DEBUG_PROCESS',
  'TRACE_DEBUG_MODULE',
  'TRACE_DEBUG_UNIT',
  'TRACE_DEBUG_FUNCTION',
  'TRACE_DEBUG_LINE',
  'TRACE_DEBUG',
];

/**
 * The constant header text after the timestamp part (optional fields, event name) and
 * whether the next scope starts a "line" (babeltrace2's `start_line`, no comma before it).
 */
export function headerText(
  o: PrettyOptions,
  c: Colors,
  trace: Trace,
  ec: EventClass,
  hasClock: boolean,
): [string, boolean] {
  const names = o.namesHeader;
  const nameEq = (n: string): string => c.name + n + c.rst + ' = ';
  let h = '';
  // After a timestamp, babeltrace2 sets start_line to !names; without a clock it stays true.
  const startLine = hasClock ? !names : true;
  let dom = false;
  const env = trace.cls.env;
  if (o.fieldTrace) {
    if (!startLine) h += ', ';
    if (names) h += nameEq('trace');
    h += bytes(trace.name);
    if (names) h += ', ';
  }
  const envString = (key: string): string | undefined => {
    const v = env.get(key);
    return typeof v === 'string' ? bytes(v) : undefined;
  };
  const hostname = envString('hostname');
  if (o.fieldHostname && hostname !== undefined) {
    if (!startLine) h += ', ';
    if (names) h += nameEq('trace:hostname');
    h += hostname;
    dom = true;
  }
  const item = (enabled: boolean, label: string, text: string | undefined): void => {
    if (!enabled || text === undefined) return;
    if (!startLine) h += ', ';
    if (names) h += nameEq(label);
    else if (dom) h += ':';
    h += text;
    dom = true;
  };
  item(o.fieldDomain, 'trace:domain', envString('domain'));
  item(o.fieldProcname, 'trace:procname', envString('procname'));
  const vpid = env.get('vpid');
  item(
    o.fieldVpid,
    'trace:vpid',
    typeof vpid === 'number' || typeof vpid === 'bigint' ? `(${vpid})` : undefined,
  );
  const ll = ec.logLevel;
  item(
    o.fieldLoglevel,
    'loglevel',
    ll !== undefined && ll >= 0 && ll < LOG_LEVEL_NAMES.length ? `${LOG_LEVEL_NAMES[ll]} (${ll})` : undefined,
  );
  item(o.fieldEmf, 'model.emf.uri', ec.emfUri === undefined ? undefined : bytes(ec.emfUri));
  if (dom && !names) h += ' ';
  if (!startLine) h += ', ';
  if (names) h += nameEq('name');
  h += c.eventName + bytes(ec.name) + c.rst;
  h += names ? ', ' : ': ';
  return [h, true];
}
