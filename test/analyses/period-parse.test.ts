/**
 * Differential test of the period definition parser (`--period`) against lttng-analyses 0.6.1's
 * own (pyparsing, through lttng-periods-fixed.py's fix for child periods): on random
 * definitions, valid and not (names, parents, every reference form and scope, numbers with
 * signs, fractions and exponents, strings with escapes, every operator, `!`, parentheses,
 * missing and extra parts, spaces or none), both accept and refuse the same ones. A parser that
 * took `$evt.cpu_id == 1` for malformed (numbers starting with 1 to 8) differed on 40 of 3,000.
 *
 * Where the peer's parser crashes rather than refuses (a KeyError: with this machine's pyparsing
 * it cannot read an empty string literal, `$evt.x == ""`, which nstrace compares), there is
 * nothing to compare: those definitions are counted apart.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCaptures, parsePeriodDef } from '../../src/analyses/periods/parse.js';

/** Mostly one of `valid`, sometimes one of `invalid`. */
function pick(valid: readonly string[], invalid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 6 },
    { arbitrary: fc.constantFrom(...invalid), weight: 1 },
  );
}

const NAMES = ['$evt.$name', '$begin.$evt.$name', '$parent.$begin.$evt.$name'];
const FIELDS = [
  '$evt.irq',
  '$begin.$evt.irq',
  '$parent.$begin.$evt.tid',
  '$parent.$evt.tid',
  '$evt.$payload.irq',
  '$evt.$ctx.x',
  '$evt.$stream_ctx.tid',
  '$evt.$pkt_ctx.cpu_id',
  '$evt.$header.id',
  '$evt.$pkt_header.magic',
  '$evt._a1',
];
const BAD_REFS = ['$evt.$foo.x', '$evt.1a', '$evt.', '$evt', 'evt.irq', '$begin.irq'];
const NUMBERS = ['0', '1', '5', '9', '12', '+3', '-4', '1.', '1.5', '1e3', '1E-3', '2e+4', '007', '-0.0'];
const BAD_NUMBERS = ['.5', '1e', '-', '0x10', '1.5e2.3', '1 .5', '1e 3'];
const STRINGS = ['"a"', '"irq_*"', '"x\\"y"', '"sched_switch"'];
const BAD_STRINGS = ['"', "'a'", '"a'];
const EQ = ['==', '!=', '=*'];
const REL = ['==', '!=', '<', '<=', '>', '>='];
const BAD_OPS = ['=', '!', '<>', '=>', '==='];

const sp = fc.constantFrom('', ' ');
const cmp = (
  l: fc.Arbitrary<string>,
  op: fc.Arbitrary<string>,
  r: fc.Arbitrary<string>,
): fc.Arbitrary<string> => fc.tuple(l, sp, op, sp, r).map((t) => t.join(''));
const comp = fc.oneof(
  cmp(
    pick(NAMES, [...FIELDS, ...BAD_REFS]),
    pick(EQ, ['<', ...BAD_OPS]),
    pick(STRINGS, [...BAD_STRINGS, ...NUMBERS]),
  ),
  cmp(pick(FIELDS, [...NAMES, ...BAD_REFS]), pick(REL, ['=*', ...BAD_OPS]), pick(NUMBERS, BAD_NUMBERS)),
  cmp(pick(FIELDS, BAD_REFS), pick(EQ, BAD_OPS), pick(STRINGS, BAD_STRINGS)),
  cmp(
    pick(FIELDS, [...NAMES, ...BAD_REFS]),
    pick(REL, ['=*', ...BAD_OPS]),
    pick(FIELDS, [...NAMES, ...BAD_REFS]),
  ),
);
const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    comp,
    fc.tuple(fc.constantFrom('!', '! '), tie('e')).map(([n, e]) => `${n}(${e})`),
    fc.tuple(fc.constantFrom('!', '! '), comp).map(([n, e]) => `${n}${e}`),
    tie('e').map((e) => `(${e})`),
    fc
      .tuple(tie('e'), pick([' && ', '&&', ' || ', '||'], [' & ', ' | ', ' and ']), tie('e'))
      .map(([l, op, r]) => `${l}${op}${r}`),
  ),
})).e as fc.Arbitrary<string>;
const definition = fc
  .tuple(
    pick(['', 'p', 'p(q)', 'p (q)', 'x/p', 'a:b/p'], ['p()', '1p', 'p(', '(q)']),
    expr,
    fc.option(expr, { nil: undefined }),
    pick(['', ' '], [':', ')', ' x']),
  )
  .map(([name, b, e, tail]) => `${name}:${b}${e === undefined ? '' : `:${e}`}${tail}`);

/** A capture reference: a name or a field of the current, begin or parent event, maybe named. */
const captureRef = fc
  .tuple(pick(['', '', 'x = ', 'y=', 'x= '], ['1x = ', '= ', 'x == ']), pick([...NAMES, ...FIELDS], BAD_REFS))
  .map(([v, r]) => `${v}${r}`);
const captureRefs = fc
  .array(fc.tuple(captureRef, pick([',', ', ', ' ,'], [';', ' '])), { minLength: 1, maxLength: 3 })
  .map((xs) => xs.map(([r, sep], i) => (i === 0 ? r : `${sep}${r}`)).join(''));
const captures = fc
  .tuple(
    pick(['p', 'sw', 'a:b/p'], ['', '1p', 'p(q)']),
    fc.option(captureRefs, { nil: undefined }),
    fc.option(fc.tuple(pick([':', ': '], ['::', ';']), captureRefs), { nil: undefined }),
    pick(['', ' '], [':', ',', ' x']),
  )
  .map(([n, b, e, tail]) => `${n}:${b ?? ''}${e === undefined ? '' : e.join('')}${tail}`);

/** The peer's answers, one per line: `ok ...` or `err CLASS`. */
function peer(mode: string, lines: readonly string[]): string[] {
  const py = spawnSync('/usr/bin/python3', [join(__dirname, 'lttng-periods-fixed.py'), mode], {
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
  });
  expect(py.status, py.stderr).toBe(0);
  const out = py.stdout.trimEnd().split('\n');
  expect(out.length).toBe(lines.length);
  return out;
}

describe('--period parsing, against lttng-analyses', () => {
  it('accepts and refuses the same definitions', { timeout: 60_000 }, () => {
    const defs = fc.sample(definition, { numRuns: 1500, seed: 20261207 });
    const theirs = peer('--parse-lines', defs);
    const differ: string[] = [];
    let accepted = 0;
    let crashed = 0;
    defs.forEach((d, i) => {
      if (theirs[i] === 'err KeyError') {
        crashed++;
        return;
      }
      const peer = theirs[i] === 'ok';
      let ours = true;
      try {
        parsePeriodDef(d);
      } catch {
        ours = false;
      }
      if (peer) accepted++;
      if (peer !== ours)
        differ.push(`${d}  (lttng-analyses: ${theirs[i]}, nstrace: ${ours ? 'ok' : 'refused'})`);
    });
    expect(differ.slice(0, 10)).toEqual([]);
    // Both kinds were tried.
    expect(accepted).toBeGreaterThan(150);
    expect(defs.length - accepted - crashed).toBeGreaterThan(150);
    expect(crashed).toBeLessThan(defs.length / 10);
  });
  it('reads the same --period-captures, with the same capture names', { timeout: 60_000 }, () => {
    const args = fc.sample(captures, { numRuns: 1500, seed: 20261207 });
    const theirs = peer('--parse-captures-lines', args);
    const differ: string[] = [];
    let accepted = 0;
    args.forEach((a, i) => {
      let ours: string;
      try {
        const r = parseCaptures(a);
        ours = `ok ${JSON.stringify([r.name, [...r.begin.keys()], [...r.end.keys()]])}`;
      } catch (e) {
        ours = `err ${e instanceof Error ? e.message : String(e)}`;
      }
      const t = theirs[i]!;
      if (t.startsWith('ok')) accepted++;
      // Refusals compare as refusals (the messages differ in form).
      if (t.startsWith('ok') || ours.startsWith('ok') ? t !== ours : false)
        differ.push(`${a}  (lttng-analyses: ${t}, nstrace: ${ours})`);
    });
    expect(differ.slice(0, 10)).toEqual([]);
    expect(accepted).toBeGreaterThan(150);
    expect(args.length - accepted).toBeGreaterThan(150);
  });
});
