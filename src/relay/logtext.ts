/**
 * Log lines carry names that peers chose (session names, host names, channel names, paths).
 * A name must not be able to start a new log line, rewrite the terminal (ESC, C1 CSI), or
 * reorder what is displayed (bidirectional overrides): every such character is escaped.
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, bidi marks, embeddings, overrides
// and isolates, and the BOM / zero-width no-break space.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `s` with every control or display-reordering character written as an escape (`\n`, `\x07`, `\u{202e}`). */
export function escapeControls(s: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s) ? s.replace(UNSAFE, escapeOne) : s;
}
