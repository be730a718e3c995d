/** Value comparison for the reader differential tests. */
type J = unknown;
/**
 * Deep equality of a babeltrace2 value `a` and an nstrace value `b`, with one known
 * babeltrace2 2.0.4 bug allowed (docs/babeltrace2-deviations.md): an empty string field shows
 * the stale text of an earlier event. nstrace's value must then be exactly "".
 */
let staleStrings = 0;
export function sameAllowingStaleStrings(a: J, b: J): boolean {
  if (typeof a === 'string' && b === '' && a !== '') {
    staleStrings++;
    return true;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const fa = (a as { float?: string }).float;
    const fb = (b as { float?: string }).float;
    if (fa !== undefined && fb !== undefined)
      return Object.is(Number(fa), Number(fb)) || (Number.isNaN(Number(fa)) && Number.isNaN(Number(fb)));
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
    return ka.every((k) =>
      sameAllowingStaleStrings((a as Record<string, J>)[k], (b as Record<string, J>)[k]),
    );
  }
  return a === b;
}

/** Stale strings allowed since the last reset. */
export function staleStringCount(reset = false): number {
  const n = staleStrings;
  if (reset) staleStrings = 0;
  return n;
}
