/**
 * Strings numbered 0, 1, 2… in the order they are first met, for columns that store a code per
 * row and the distinct strings once (`strings[code(s)] === s`).
 */
export class StringCodes {
  /** The distinct strings, by code. */
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();

  /** The code of `s` (the next free one when `s` is new). */
  code(s: string): number {
    let c = this.index.get(s);
    if (c === undefined) {
      c = this.strings.length;
      this.strings.push(s);
      this.index.set(s, c);
    }
    return c;
  }
}
