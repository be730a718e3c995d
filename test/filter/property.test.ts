/**
 * Property test: the compiled predicate agrees with the tree-walking reference evaluator
 * (reference.ts) on random expressions and random events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textToByteString, type FieldValue } from '../../src/ctf/event.js';
import { formatNode } from '../../src/filter/ast.js';
import { compileFilter } from '../../src/filter/compile.js';
import type { ContainerInfo, ContainerLookup } from '../../src/filter/containers.js';
import { parseFilter } from '../../src/filter/parser.js';
import { FilterSyntaxError } from '../../src/util/errors.js';
import * as C from './classes.js';
import { referenceEvaluate } from './reference.js';

// One event class with a field of every kind the filter handles, TSDL-style names.
const color = C.enumOf(C.s32, { RED: [0, 0], GREEN: [1, 1], MANY: [2, 100] });
const inner = C.struct({ _a: C.s32, _b: C.str, _xs: C.array(C.u8, 2) });
const ec = C.eventClass('prop:event', {
  _i: C.s32,
  _s8: C.s8,
  _u8: C.u8,
  _s64: C.s64,
  _u64: C.u64,
  _u53: C.int(53, false),
  _f64: C.f64,
  _f32: C.f32,
  _str: C.str,
  _atext: C.array(C.char, 6),
  __stext_length: C.u32,
  _stext: C.sequence(C.char, '__stext_length'),
  _arr: C.array(C.s32, 3),
  __seq_length: C.u32,
  _seq: C.sequence(C.s64, '__seq_length'),
  _color: color,
  _st: inner,
  _sts: C.array(inner, 2),
  _dyn: C.variant('_dyn_tag', { _none: C.struct({}), _i: C.s32, _u: C.u64, _d: C.f64, _s: C.str }),
});
const sc = C.streamClass(
  [ec],
  { _vpid: C.s32, _procname: C.array(C.char, 17), _pid_ns: C.u64, __app_p_t: C.appContextVariant },
  { cpu_id: C.u32 },
);
const stream = C.streamInstance(sc);

const INTS = [
  0n,
  1n,
  -1n,
  2n,
  3n,
  7n,
  63n,
  64n,
  127n,
  -128n,
  255n,
  65535n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n,
];
const BIGS = [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n];
const U64S = [2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 2n, 2n ** 53n + 1n];
const FLOATS = [
  0,
  -0,
  0.5,
  -0.5,
  1,
  -1,
  1.5,
  2,
  3.25,
  1e9,
  -2.5,
  1e300,
  NaN,
  Infinity,
  0.999,
  -0.999,
  2 ** 63,
];
// Byte strings, as the reader gives them ('hé' in UTF-8, and a lone invalid byte).
const STRS = [
  '',
  'a',
  'ab',
  'abc',
  'a*',
  '*',
  'a\\b',
  '\\',
  'b',
  textToByteString('hé'),
  'h\xe9',
  'x*y',
  'ABC',
  'abd',
];

/** An integer as the reader gives it: a number when safe, else a bigint (unsigned for u64). */
function asValue(v: bigint, unsigned64 = false): number | bigint {
  const x = unsigned64 ? BigInt.asUintN(64, v) : v;
  return x >= -(2n ** 53n) + 1n && x <= 2n ** 53n - 1n ? Number(x) : x;
}

const intArb = fc.constantFrom(...INTS, ...INTS.map((x) => -x));
const wideArb = fc.oneof(
  intArb,
  fc.constantFrom(...BIGS),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const strArb = fc.oneof(fc.constantFrom(...STRS), fc.stringMatching(/^[ab*\\é]{0,4}$/).map(textToByteString));
const clamp = (v: bigint, bits: number, signed: boolean): bigint =>
  signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);

const dynArb = fc.oneof(
  fc.constant({ option: 0, value: [] as FieldValue[] }),
  intArb.map((v) => ({ option: 1, value: Number(clamp(v, 32, true)) })),
  fc.constantFrom(...U64S, 0n, 5n).map((v) => ({ option: 2, value: asValue(v, true) })),
  fc.constantFrom(...FLOATS).map((v) => ({ option: 3, value: v })),
  strArb.map((v) => ({ option: 4, value: v })),
);
const appArb = fc.oneof(
  fc.constant({ option: 0, value: [] as FieldValue[] }),
  intArb.map((v) => ({ option: 3, value: Number(clamp(v, 32, true)) })),
  fc.constantFrom(...U64S).map((v) => ({ option: 8, value: asValue(v, true) })),
  fc.constantFrom(...FLOATS).map((v) => ({ option: 10, value: v })),
  strArb.map((v) => ({ option: 11, value: v })),
);

const innerArb = fc
  .tuple(intArb, strArb, intArb, intArb)
  .map(([a, b, x, y]): FieldValue[] => [
    Number(clamp(a, 32, true)),
    b,
    [Number(clamp(x, 8, false)), Number(clamp(y, 8, false))],
  ]);

const recordArb = fc
  .record({
    i: intArb,
    s64: wideArb,
    u64: fc.oneof(intArb, fc.constantFrom(...U64S)),
    u53: intArb,
    f64: fc.constantFrom(...FLOATS),
    f32: fc.constantFrom(...FLOATS),
    str: strArb,
    atext: strArb,
    stext: strArb,
    arr: fc.array(intArb, { minLength: 3, maxLength: 3 }),
    seq: fc.array(wideArb, { maxLength: 4 }),
    color: fc.integer({ min: 0, max: 150 }),
    st: innerArb,
    sts: fc.array(innerArb, { minLength: 2, maxLength: 2 }),
    dyn: dynArb,
    vpid: intArb,
    procname: strArb,
    pidNs: fc.constantFrom(4026531836n, 4026532478n, 2n ** 63n + 5n),
    app: appArb,
    cpu: fc.integer({ min: 0, max: 3 }),
  })
  .map((r) =>
    C.record(
      ec,
      stream,
      [
        Number(clamp(r.i, 32, true)),
        Number(clamp(r.i, 8, true)),
        Number(clamp(r.i, 8, false)),
        asValue(r.s64),
        asValue(r.u64, true),
        asValue(clamp(r.u53, 53, false)),
        r.f64,
        Math.fround(r.f32),
        r.str,
        r.atext,
        r.stext.length,
        r.stext,
        r.arr.map((x) => Number(clamp(x, 32, true))),
        r.seq.length,
        r.seq.map((x) => asValue(x)),
        r.color,
        r.st,
        r.sts,
        r.dyn,
      ],
      [Number(clamp(r.vpid, 32, true)), r.procname, asValue(r.pidNs, true), r.app],
      [r.cpu],
    ),
  );

// Expressions, as text (so that the parser is exercised too).
const fieldRefs = [
  'i',
  's8',
  'u8',
  's64',
  'u64',
  'u53',
  'f64',
  'f32',
  'str',
  'atext',
  'stext',
  '_stext_length',
  'arr',
  'arr[0]',
  'arr[2]',
  'arr[3]',
  'seq',
  'seq[0]',
  'seq[1]',
  'seq[3]',
  'color',
  'st',
  'st.a',
  'st.b',
  'st.xs[1]',
  'st->a',
  'sts[1].a',
  'sts[0].b',
  'sts[1].xs[0]',
  'sts[2].a',
  'st.nope',
  'atext[0]',
  'str[0]',
  'i.x',
  'dyn',
  'nope',
  '$ctx.vpid',
  '$ctx.procname',
  '$ctx.pid_ns',
  '$ctx.cpu_id',
  '$ctx.nope',
  '$app.p:t',
  '$container.name',
  '$container.pid_ns',
];
const literals = fc.oneof(
  wideArb.map((v) => (v < 0n ? `(-${-v})` : String(v))),
  fc.constantFrom(
    '0x10',
    '0xffffffffffffffff',
    '010',
    '0',
    '18446744073709551615',
    '99999999999999999999',
    '5u',
  ),
  fc.constantFrom('0.5', '1.5', '1e3', '.25', '2.', '0x1p-1', '1.5f', '1e300'),
  fc
    .oneof(
      fc.constantFrom('', 'a', 'a*', '*', 'ab\\*', 'a\\\\b', '*b', 'a*b', 'h*', '\\**', 'é*', 'x*y*'),
      fc.stringMatching(/^(?:[ab*é]|\\\\|\\\*){0,4}$/),
    )
    .map((s) => `"${s}"`),
);
const leaf = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...fieldRefs) },
  { weight: 2, arbitrary: literals },
);
const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom('!', '-', '+', '~'), tie('e')).map(([op, x]) => `${op}(${x})`),
    fc
      .tuple(
        tie('e'),
        fc.constantFrom('==', '!=', '<', '<=', '>', '>=', '&&', '||', '&', '|', '^', '<<', '>>'),
        tie('e'),
      )
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
  ),
})).e;

const CONTAINERS: ContainerInfo[] = [
  { id: 'abc123', name: 'web', type: 'docker', pidNs: 4026532478 },
  { id: 'def', name: 'db*x', type: 'podman' },
];
const containers: ContainerLookup = {
  at: (rec) => {
    const v = rec.streamContext?.[0] as number;
    return v > 100 ? CONTAINERS[0] : v < 0 ? CONTAINERS[1] : undefined;
  },
};

describe('compiled filter vs reference evaluator', () => {
  it('agree on random expressions and events', () => {
    let compiled = 0;
    fc.assert(
      fc.property(exprArb, fc.array(recordArb, { minLength: 1, maxLength: 6 }), (text, recs) => {
        let expr;
        try {
          expr = parseFilter(text);
        } catch (e) {
          if (e instanceof FilterSyntaxError) return; // LTTng refuses it too
          throw e;
        }
        compiled++;
        const pred = compileFilter(expr, ec, sc, { containers });
        for (const rec of recs) {
          const want = referenceEvaluate(expr, rec, containers);
          const got = pred(rec);
          if (got !== want) {
            throw new Error(`${formatNode(expr.root)}: compiled ${got}, reference ${want}`);
          }
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must not produce mostly refused expressions.
    expect(compiled).toBeGreaterThan(2000);
  });

  it('agree on $container under negation and short-circuits, for host and container events', () => {
    // A host event fails at a `$container` attribute (the whole filter is false), but a `&&` or
    // `||` that never evaluates it is not a failure: `!(0 && $container.pid_ns)` is true there.
    const atoms = ['0', '1', '$container.pid_ns', '$container.name == "web"', 'nope', '$ctx.vpid'];
    const shapes: string[] = [];
    for (const a of atoms) {
      for (const b of atoms) {
        for (const op of ['&&', '||']) shapes.push(`(${a}) ${op} (${b})`);
      }
    }
    const exprs = [...shapes, ...shapes.map((x) => `!(${x})`)];
    for (const x of [...exprs]) exprs.push(`(${x}) && (1)`, `(0) || (${x})`, `!(${x}) || (0)`, `-(${x})`);
    const [base] = fc.sample(recordArb, { numRuns: 1, seed: 7 });
    // vpid > 100: container 'web' (with pid_ns); < 0: a container without pid_ns; else the host.
    const recs = [0, 200, -5].map((v) => ({
      ...base!,
      streamContext: [v, ...base!.streamContext!.slice(1)],
    }));
    const kinds = recs.map((r) => containers.at(r)?.name ?? 'host');
    expect(kinds).toEqual(['host', 'web', 'db*x']);
    let checked = 0;
    let trueForHost = 0;
    for (const text of exprs) {
      const expr = parseFilter(text);
      const pred = compileFilter(expr, ec, sc, { containers });
      for (const rec of recs) {
        const want = referenceEvaluate(expr, rec, containers);
        if (pred(rec) !== want) throw new Error(`${text}: compiled ${!want}, reference ${want}`);
        if (want && rec === recs[0]) trueForHost++;
        checked++;
      }
    }
    expect(checked).toBe(exprs.length * 3);
    // Some of them are true for a host event: the short-circuits that skip `$container`.
    expect(trueForHost).toBeGreaterThan(100);
  });

  it('agree on every field against every literal and field, with each operator', () => {
    const ops = ['==', '!=', '<', '<=', '>', '>=', '&', '|', '^', '<<', '>>', '&&', '||'];
    const operands = [
      ...fieldRefs,
      '0',
      '1',
      '-1',
      '63',
      '64',
      '0x8000000000000000',
      '0.5',
      '1.0',
      '"a*"',
      '"*b"',
      '"ab"',
      '"a\\*"',
    ];
    const recs = fc.sample(recordArb, { numRuns: 8, seed: 42 });
    let checked = 0;
    for (const a of operands) {
      for (const op of ops) {
        for (const b of operands) {
          let expr;
          try {
            expr = parseFilter(`${a} ${op} ${b}`);
          } catch (e) {
            if (e instanceof FilterSyntaxError) continue;
            throw e;
          }
          const pred = compileFilter(expr, ec, sc, { containers });
          for (const rec of recs) {
            const want = referenceEvaluate(expr, rec, containers);
            if (pred(rec) !== want) throw new Error(`${a} ${op} ${b}: compiled ${!want}, reference ${want}`);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(50_000);
  });
});
