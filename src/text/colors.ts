/** babeltrace2's colours: the ANSI codes of `--color` and which part of a line gets which. */

/** babeltrace2's ANSI codes ("bright" colours are bold + colour in 2.0.4). */
export const C = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
  brightRed: '\x1b[1m\x1b[31m',
  brightYellow: '\x1b[1m\x1b[33m',
  brightMagenta: '\x1b[1m\x1b[35m',
};

/** The code before each kind of text (empty strings without colours). */
export interface Colors {
  name: string;
  fieldName: string;
  rst: string;
  string: string;
  number: string;
  enumLabel: string;
  unknown: string;
  eventName: string;
  timestamp: string;
}

export function colorsOf(on: boolean): Colors {
  if (!on) {
    return {
      name: '',
      fieldName: '',
      rst: '',
      string: '',
      number: '',
      enumLabel: '',
      unknown: '',
      eventName: '',
      timestamp: '',
    };
  }
  return {
    name: C.bold,
    fieldName: C.cyan,
    rst: C.reset,
    string: C.bold,
    number: C.bold,
    enumLabel: C.bold,
    unknown: C.bold + C.brightRed,
    eventName: C.bold + C.brightMagenta,
    timestamp: C.bold + C.brightYellow,
  };
}
