/**
 * Python's `surrogateescape` (how lttng-analyses reads trace strings through babeltrace 1 and
 * writes them back): decoding against the python3 on this machine, and the bytes written back.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pyTextBytes, surrogateEscapeDecode } from '../../src/model/fields.js';

describe('surrogateescape', () => {
  it('decodes like python3 and writes the same bytes back', () => {
    const script = `
import random, json
random.seed(7)
out = []
for i in range(3000):
    n = random.randint(0, 8)
    b = bytes(random.choice([random.randint(0, 255), random.choice([0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0x80, 0xbf, 0xe2, 0x82, 0xac])]) for _ in range(n))
    out.append([b.decode('latin1'), b.decode('utf-8', 'surrogateescape')])
print(json.dumps(out))
`;
    const cases = JSON.parse(execFileSync('python3', ['-c', script]).toString()) as Array<[string, string]>;
    expect(cases.length).toBe(3000);
    for (const [bytes, text] of cases) {
      expect(surrogateEscapeDecode(bytes)).toBe(text);
      expect(pyTextBytes(text).toString('latin1')).toBe(bytes);
    }
  });
});
