/** Argument parsers the commands share: repeatable options, integer and number values. */
import { UsageError } from '../../util/errors.js';

/** A repeatable option's values, in order. */
export const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** An integer option value (a `UsageError` naming the option otherwise). */
export function intArg(name: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new UsageError(`${name} must be an integer, not '${v}'`);
    return Number(v);
  };
}

/** A finite number option value (a `UsageError` naming the option otherwise). */
export function floatArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, not '${v}'`);
    return n;
  };
}
