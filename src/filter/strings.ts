/**
 * String matching with LTTng's rules, shared by filter comparisons and event-name selection.
 * Strings are compared as the reader gives them: byte strings (one char per byte); filter
 * literals are converted to byte strings (UTF-8) once, when compiled.
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
 * The tracer's string comparison (`stack_strcmp`) of two byte strings (one char per byte, as the
 * reader decodes strings): `a` and `b` are the left and right operands; `aLit`/`bLit` say whether
 * each is a plain (or star-at-end) literal, whose `\\`, `\*` and `*` are read as escapes and
 * wildcard. Returns <0, 0 or >0 like strcmp; bytes compare as signed chars, as in C on x86.
 */
export function strcmpLiteral(p: string, pLit: boolean, q: string, qLit: boolean): number {
  let pi = 0;
  let qi = 0;
  for (;;) {
    let escapedP = false;
    if (pi >= p.length) {
      if (qi >= q.length) return 0;
      if (qLit && q.charCodeAt(qi) === 42 /* '*' */) return 0;
      return -1;
    }
    if (qi >= q.length) {
      if (pLit && p.charCodeAt(pi) === 42) return 0;
      return 1;
    }
    if (pLit) {
      const [kind, idx] = parseChar(p, pi);
      if (kind === -1) return 0;
      if (kind === -2) escapedP = true;
      pi = idx;
    }
    if (qLit) {
      const [kind, idx] = parseChar(q, qi);
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
    const diff = signedChar(p, pi) - signedChar(q, qi);
    if (diff !== 0) return diff;
    pi++;
    qi++;
  }
}

/** The byte at `i` as a C `char` (signed on x86); 0 past the end. */
function signedChar(s: string, i: number): number {
  const c = i < s.length ? s.charCodeAt(i) & 0xff : 0;
  return c > 127 ? c - 256 : c;
}
