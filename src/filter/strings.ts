/**
 * String matching with LTTng's rules, shared by filter comparisons and event-name selection.
 *
 * - A star-glob pattern: `*` matches any sequence (also empty), `\X` matches X literally.
 *   Consecutive stars are crushed before use, as lttng-tools does.
 * - Filter literals are classified like lttng-tools: `plain` (no unescaped star), `globEnd` (the
 *   only unescaped star ends the literal) or `glob`. `plain` and `globEnd` literals are compared
 *   with `strcmpLiteral()`, the tracer's comparison (which reads `\*`, `\\` and a final `*`);
 *   `glob` literals with `starGlobMatch()`.
 */

/** True if `s` has an unescaped `*`. */
export function isStarGlob(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '*') return true;
    if (c === '\\') i++;
  }
  return false;
}

/** True if the first unescaped `*` of `s` is its last character. */
export function isStarAtEndOnly(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '*') return i === s.length - 1;
    if (c === '\\') i++;
  }
  return false;
}

/** Crushes runs of unescaped `*` into one (escapes kept as they are). */
export function normalizeStarGlob(s: string): string {
  let out = '';
  let gotStar = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '*') {
      if (gotStar) continue;
      gotStar = true;
      out += c;
    } else if (c === '\\') {
      out += c;
      i++;
      if (i >= s.length) break;
      out += s[i];
      gotStar = false;
    } else {
      out += c;
      gotStar = false;
    }
  }
  return out;
}

/**
 * Star-glob match of `candidate` against `pattern` (lttng's `strutils_star_glob_match`):
 * `*` matches any sequence, `\X` matches X, a trailing lone `\` matches nothing.
 */
export function starGlobMatch(pattern: string, candidate: string): boolean {
  const pl = pattern.length;
  const cl = candidate.length;
  let retryC = 0;
  let retryP = 0;
  let gotStar = false;
  for (;;) {
    let c = retryC;
    let p = retryP;
    let retry = false;
    while (c < cl) {
      if (p >= pl) {
        if (!gotStar) return false;
        retryC++;
        retry = true;
        break;
      }
      let pc = pattern[p]!;
      if (pc === '*') {
        gotStar = true;
        retryC = c;
        retryP = p + 1;
        if (retryP >= pl) return true;
        retry = true;
        break;
      }
      if (pc === '\\') {
        p++;
        pc = p < pl ? pattern[p]! : '';
      }
      if (p >= pl || candidate[c] !== pc) {
        if (!gotStar) return false;
        retryC++;
        retry = true;
        break;
      }
      c++;
      p++;
    }
    if (retry) continue;
    // Candidate consumed: only a single star may remain.
    if (p >= pl) return true;
    return pattern[p] === '*' && p + 1 >= pl;
  }
}

/** A compiled star-glob pattern (a RegExp equivalent to `starGlobMatch`). */
export function globRegExp(pattern: string): RegExp {
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      src += '[^]*';
    } else {
      let lit = c;
      if (c === '\\') {
        i++;
        if (i >= pattern.length) return /(?!)/; // a trailing lone backslash matches nothing
        lit = pattern[i]!;
      }
      src += lit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(src + '$');
}

/**
 * One character step of a plain literal (lttng's `parse_char`): at `s[i]`, returns
 * [kind, index of the character to compare]: kind 0 normal (also after `\\` or `\*`),
 * -1 wildcard `*`, -2 unknown escape.
 */
function parseChar(s: string, i: number): [number, number] {
  const c = s[i];
  if (c === '\\') {
    const n = s[i + 1];
    return n === '\\' || n === '*' ? [0, i + 1] : [-2, i + 1];
  }
  if (c === '*') return [-1, i];
  return [0, i];
}

/**
 * The tracer's string comparison (`stack_strcmp`): `a` and `b` are the left and right
 * operands; `aLit`/`bLit` say whether each is a plain (or star-at-end) literal, whose `\\`, `\*`
 * and `*` are read as escapes and wildcard. Returns <0, 0 or >0 like strcmp. Characters compare
 * as signed bytes of their UTF-8 encoding, as in C on x86.
 */
export function strcmpLiteral(a: string, aLit: boolean, b: string, bLit: boolean): number {
  if (!isAscii(a) || !isAscii(b)) return strcmpBytes(utf8Chars(a), aLit, utf8Chars(b), bLit);
  return strcmpChars(a, aLit, b, bLit, (s, i) => s.charCodeAt(i));
}

function strcmpChars<S extends { length: number }>(
  p: S,
  pLit: boolean,
  q: S,
  qLit: boolean,
  at: (s: S, i: number) => number,
): number {
  let pi = 0;
  let qi = 0;
  for (;;) {
    let escapedP = false;
    if (pi >= p.length) {
      if (qi >= q.length) return 0;
      if (qLit && at(q, qi) === 42 /* '*' */) return 0;
      return -1;
    }
    if (qi >= q.length) {
      if (pLit && at(p, pi) === 42) return 0;
      return 1;
    }
    if (pLit) {
      const [kind, idx] = parseCharAt(p, pi, at);
      if (kind === -1) return 0;
      if (kind === -2) escapedP = true;
      pi = idx;
    }
    if (qLit) {
      const [kind, idx] = parseCharAt(q, qi, at);
      if (kind === -1) return 0;
      if (kind === -2) {
        if (!escapedP) return -1;
      } else if (escapedP) {
        return 1;
      }
      qi = idx;
    } else if (escapedP) {
      return 1;
    }
    const diff = signedByte(pi < p.length ? at(p, pi) : 0) - signedByte(qi < q.length ? at(q, qi) : 0);
    if (diff !== 0) return diff;
    pi++;
    qi++;
  }
}

function parseCharAt<S extends { length: number }>(
  s: S,
  i: number,
  at: (s: S, i: number) => number,
): [number, number] {
  const c = at(s, i);
  if (c === 92 /* '\\' */) {
    const n = i + 1 < s.length ? at(s, i + 1) : 0;
    return n === 92 || n === 42 ? [0, i + 1] : [-2, i + 1];
  }
  if (c === 42) return [-1, i];
  return [0, i];
}

/** C `char` is signed on x86: bytes 0x80..0xff compare below ASCII. */
function signedByte(c: number): number {
  return c > 127 && c < 256 ? c - 256 : c;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function utf8Chars(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function strcmpBytes(a: Uint8Array, aLit: boolean, b: Uint8Array, bLit: boolean): number {
  return strcmpChars(a, aLit, b, bLit, (s, i) => s[i]!);
}

/** Exposed for tests: the literal step of the tracer's comparison. */
export const _parseChar = parseChar;
