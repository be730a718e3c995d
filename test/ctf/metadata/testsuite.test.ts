/**
 * The EfficiOS CTF 1.8 conformance suite (ctf-testsuite, tests/1.8/regression/metadata), copied
 * into test/fixtures: every `pass` metadata parses; every `fail` metadata is rejected, for the
 * reason the case is about (checked against the message).
 *
 * Where babeltrace disagrees with the suite, the suite wins and the case is listed in
 * docs/adr/0100-tsdl-parser.md with the evidence.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMetadataFile } from '../../../src/ctf/metadata/index.js';
import { MetadataError, TraceFormatError } from '../../../src/util/errors.js';

const DIR = join(import.meta.dirname, '../../fixtures/ctf-testsuite/1.8/regression/metadata');

/**
 * Why each fail case must fail: the error class, a pattern of its message and, where the case
 * is about one construct, the line of that construct.
 */
const FAIL: Record<string, [typeof MetadataError | typeof TraceFormatError, RegExp, number?]> = {
  'array-redefinition': [MetadataError, /'array_type' is already declared/, 9],
  'array-size-identifier': [MetadataError, /no field 'x' precedes this sequence/, 17],
  'array-size-keyword': [MetadataError, /'typedef' is a reserved keyword/, 17],
  'array-size-negative': [MetadataError, /array length must not be negative/, 17],
  'array-size-not-present': [MetadataError, /missing array length/, 17],
  'array-size-string': [MetadataError, /array length must be an integer constant or the path/, 17],
  'array-size-type': [MetadataError, /'uint32_t' is a type, not a field/, 17],
  'array-size-type-field': [MetadataError, /no field 'uint32_t' before this sequence/, 23],
  'enum-empty': [MetadataError, /at least one label/],
  'enum-field-value-out-of-range': [MetadataError, /value 1024 .* out of the container's range \[0, 255\]/],
  'enum-type-implicit-but-undefined-int-type': [MetadataError, /needs a type named 'int'/],
  'enum-type-negative-out-of-range': [MetadataError, /value -1 .* out of the container's range/],
  'enum-type-value-out-of-range': [MetadataError, /value 1024 .* out of the container's range/],
  'enum-untyped-missing-int': [MetadataError, /needs a type named 'int'/],
  'enum-untyped-string': [MetadataError, /container of an enum must be an integer type, not a string/],
  'enum-values-floating': [MetadataError, /container of an enum must be an integer type, not a floating/],
  'enum-values-token': [MetadataError, /value of enum label 'VAL2' must be an integer constant/],
  'enum-values-too-small': [MetadataError, /value -1024 .* out of the container's range \[-128, 127\]/],
  'event-id-string': [MetadataError, /'id' must be an integer constant/, 11],
  'event-id-struct': [MetadataError, /unexpected '\{'/, 11],
  'integer-0-bit-size': [MetadataError, /size must be between 1 and 64 bits \(got 0\)/],
  'integer-align-as-string': [MetadataError, /alignment must be an integer constant/, 6],
  'integer-align-negative': [MetadataError, /alignment must be a positive power of two \(got -8\)/, 6],
  'integer-align-non-power-2': [MetadataError, /alignment must be a positive power of two \(got 17\)/, 6],
  'integer-base-as-string': [MetadataError, /integer base must be/, 6],
  'integer-base-invalid': [MetadataError, /integer base must be/, 6],
  'integer-byte-order-invalid': [MetadataError, /byte_order must be one of/, 6],
  'integer-encoding-as-string': [MetadataError, /encoding must be none, UTF8 or ASCII/, 6],
  'integer-encoding-invalid': [MetadataError, /encoding must be none, UTF8 or ASCII/, 6],
  'integer-negative-bit-size': [MetadataError, /size must not be negative/],
  'integer-range': [MetadataError, /out of range \(more than 64 bits\)/, 7],
  'integer-signed-as-string': [MetadataError, /'signed' must be true/, 7],
  'integer-signed-invalid': [MetadataError, /'signed' must be true/, 6],
  'integer-size-as-string': [MetadataError, /size must be an integer constant/, 7],
  'integer-size-missing': [MetadataError, /no 'size' attribute/, 6],
  'integer-size-negative': [MetadataError, /size must not be negative/, 6],
  'lexer-literal-guid-corrupted': [MetadataError, /invalid UUID ""/],
  'lexer-literal-guid-too-big': [MetadataError, /invalid UUID/],
  'lexer-literal-guid-too-small': [MetadataError, /invalid UUID ""/],
  'lexer-literal-int-incomplete': [MetadataError, /invalid integer literal '1x'/, 8],
  'lexer-unterminated-bracket': [MetadataError, /end of metadata, expecting '\}'/],
  'lexer-unterminated-declaration': [MetadataError, /end of metadata/],
  'lexer-unterminated-expression': [MetadataError, /end of metadata/],
  'lexer-unterminated-string': [MetadataError, /unterminated string literal/],
  'lexer-version-broken': [MetadataError, /unsupported metadata signature/, 1],
  'lexer-version-too-big': [MetadataError, /unsupported metadata signature/, 1],
  // Old lttng-modules 2.0-pre packet header without the version bytes: read as version 116.121.
  'lttng-modules-2.0-pre1': [TraceFormatError, /unsupported metadata packet version 116\.121/],
  'metadata-empty-after-header': [MetadataError, /no trace block/],
  'metadata-packetized-endianness-mismatch': [
    MetadataError,
    /byte order le does not match .* packets \(be\)/,
  ],
  // `\o` is no C escape (babeltrace2 fails there too); the NUL byte further on is checked by the
  // yactfr copy of this case, which lacks the `\o` line.
  'metadata-with-null-char': [MetadataError, /invalid escape sequence '\\o'/],
  'packet-based-metadata': [TraceFormatError, /unsupported metadata packet version 116\.121/],
  'repeated-event-id-in-same-stream': [MetadataError, /duplicate event id 42 in stream 0/],
  'stream-undefined-id': [MetadataError, /no 'stream_id' attribute, but the trace has several streams/],
  'string-concat': [MetadataError, /unexpected string "def"/, 4],
  'struct-align-enum': [MetadataError, /structure alignment must be an integer constant/],
  'struct-align-huge': [MetadataError, /power of two \(got 4294967295\)/],
  'struct-align-negative': [MetadataError, /power of two \(got -8\)/],
  'struct-align-string': [MetadataError, /structure alignment must be an integer constant/],
  'struct-align-zero': [MetadataError, /power of two \(got 0\)/],
  'struct-duplicate-field-name': [MetadataError, /duplicate field 'xxx'/, 8],
  'struct-duplicate-struct-name': [MetadataError, /struct 'a' is already declared/, 10],
  'struct-field-name-keyword': [MetadataError, /'trace' is a reserved keyword and cannot name a field/, 7],
  'struct-inner-struct-undefined': [MetadataError, /unknown struct 'dummy2'/, 8],
  'struct-int-type-undefined': [MetadataError, /unknown type 'int'/, 7],
  'struct-recursive': [MetadataError, /unknown struct 'dummy'/, 8],
  'struct-reserved-keywords': [MetadataError, /'callsite' is a reserved keyword/, 8],
  'typealias-duplicate-name': [MetadataError, /'uint32_t' is already declared/, 6],
  'typealias-invalid-type-kind': [MetadataError, /unexpected 'entier'/, 6],
  'typealias-reserved-keyword': [MetadataError, /'trace' is a reserved keyword and cannot name a type/, 6],
  'typedef-redefinition': [MetadataError, /'myint' is already declared/, 8],
  'typedef-reserved-keyword': [MetadataError, /'int' is a reserved keyword and cannot name a type/, 6],
  'variant-missing-tag': [MetadataError, /expecting a tag field name/],
  'variant-string-fields': [MetadataError, /no label of the tag enumeration 'tag' names an option/],
  'variant-tag-integer': [MetadataError, /expecting a tag field name/],
  'variant-tag-keyword': [MetadataError, /'variant' is a reserved keyword/],
  'variant-tag-string': [MetadataError, /expecting a tag field name/],
  'variant-tag-type-floating': [MetadataError, /tag 'tag' must be an enumeration field, not a floating/],
  'variant-tag-type-string': [MetadataError, /tag 'tag' must be an enumeration field, not a string/],
};

describe('ctf-testsuite 1.8 metadata', () => {
  const pass = readdirSync(join(DIR, 'pass')).sort();
  const fail = readdirSync(join(DIR, 'fail')).sort();

  it('has the whole suite (53 pass, 78 fail) and a reason for every fail case', () => {
    expect(pass).toHaveLength(53);
    expect(fail).toHaveLength(78);
    expect(fail).toEqual(Object.keys(FAIL).sort());
  });

  it.each(pass)('pass/%s parses', (name) => {
    const { cls } = readMetadataFile(join(DIR, 'pass', name, 'metadata'));
    expect(cls.major).toBe(1);
    expect(cls.minor).toBe(8);
  });

  it.each(fail)('fail/%s is rejected for its reason', (name) => {
    const [cls, reason, line] = FAIL[name]!;
    let err: unknown;
    try {
      readMetadataFile(join(DIR, 'fail', name, 'metadata'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(reason);
    if (line !== undefined) expect((err as MetadataError).line).toBe(line);
  });
});
