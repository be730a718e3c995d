/** StringCodes: the dictionary of the SQL string columns and of the view's syscall names. */
import { describe, expect, it } from 'vitest';
import { StringCodes } from '../../src/util/string-codes.js';

describe('StringCodes', () => {
  it('numbers strings from 0 in the order they are first met, each once', () => {
    const c = new StringCodes();
    expect(['read', 'write', 'read', '', 'write', 'open'].map((s) => c.code(s))).toEqual([0, 1, 0, 2, 1, 3]);
    expect(c.strings).toEqual(['read', 'write', '', 'open']);
  });
});
