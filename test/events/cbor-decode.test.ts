// decodeCanonical (leaves) and decodeCborBody (request bodies): what each
// accepts, what each refuses and with which code, and robustness on hostile
// bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { decodeCanonical, decodeCborBody, encodeCanonical, parseEvent } from '../../src/events/index.js';
import { expectTlogError, hex, minimalEvent, unhex } from './helpers.js';

describe('decodeCanonical', () => {
  it('round-trips canonical bytes exactly', () => {
    const bytes = encodeCanonical({ b: [1, -2, 3.5, 'x', null, true], a: { z: false, '\u00e9': 'é' } });
    expect(hex(encodeCanonical(decodeCanonical(bytes)))).toBe(hex(bytes));
  });

  // Well-formed CBOR of JSON values, but not our deterministic encoding.
  const notCanonical: Array<[string, string]> = [
    ['a2616201616102', 'keys out of order ({"b":1,"a":2})'],
    ['a2626161016162' + '02', 'longer key first ({"aa":1,"b":2})'],
    ['1800', 'integer 0 with a 1-byte argument'],
    ['190017', 'integer 23 with a 2-byte argument'],
    ['1a000000ff', 'integer 255 with a 4-byte argument'],
    ['1b00000000ffffffff', 'integer 2^32-1 with an 8-byte argument'],
    ['3800', 'integer -1 with a 1-byte argument'],
    ['780161', 'text "a" with a 1-byte length'],
    ['980101', 'array [1] with a 1-byte length'],
    ['b80161' + '6101', 'map with a 1-byte length'],
    ['9f01ff', 'indefinite-length array'],
    ['bf616101ff', 'indefinite-length map'],
    ['f93e00', 'float16 1.5'],
    ['fa3fc00000', 'float32 1.5'],
    ['fb3ff0000000000000', 'float64 1.0 (integral: must be an integer)'],
    ['fb8000000000000000', 'float64 -0.0 (must be integer 0)'],
    ['fb41f0000000000000', 'float64 2^32 (integral: must be an integer)'],
    ['1b0020000000000000', 'integer 2^53 (not a safe integer: must be float64)'],
    ['1bffffffffffffffff', 'integer 2^64-1 (Appendix A)'],
    ['3bffffffffffffffff', 'integer -2^64 (Appendix A)'],
  ];
  it.each(notCanonical)('%s (%s) is NOT_CANONICAL', (bytes) => {
    expectTlogError(() => decodeCanonical(unhex(bytes)), 'NOT_CANONICAL');
  });

  const malformed: Array<[string, string]> = [
    ['', 'empty'],
    ['0000', 'trailing bytes'],
    ['6261', 'truncated text'],
    ['83 01 02', 'truncated array'],
    ['1c', 'reserved additional information'],
    ['ff', 'lone break'],
    ['40', 'byte string'],
    ['c074323031332d30332d32315432303a30343a30305a', 'tag 0'],
    ['d82076687474703a2f2f7777772e6578616d706c652e636f6d', 'tag 32'],
    ['f7', 'undefined'],
    ['f0', 'simple(16)'],
    ['f8ff', 'simple(255)'],
    ['a10102', 'integer map key'],
    ['a2616101616102', 'duplicate map key'],
    ['62c328', 'invalid UTF-8'],
    ['62c080', 'overlong UTF-8'],
    ['63eda080', 'UTF-8 encoded surrogate'],
    ['7f6161ff', 'indefinite-length text'],
    ['f97e00', 'float16 NaN'],
    ['f97c00', 'float16 +Infinity'],
    ['fb7ff8000000000000', 'float64 NaN'],
    ['fbfff0000000000000', 'float64 -Infinity'],
    ['9a ffffffff', 'array claiming 2^32-1 items'],
    ['bb 0000000100000000', 'map claiming 2^32 entries'],
  ];
  it.each(malformed)('%s (%s) is MALFORMED', (bytes) => {
    expectTlogError(() => decodeCanonical(unhex(bytes)), 'MALFORMED');
  });

  it('survives 100,000 nested arrays (stack-safe pre-scan)', () => {
    const deep = new Uint8Array(100_001).fill(0x81);
    deep[100_000] = 0x00;
    expectTlogError(() => decodeCanonical(deep), 'MALFORMED');
    const deepMaps = new Uint8Array(300_000);
    for (let i = 0; i < 100_000; i++) deepMaps.set([0xa1, 0x61, 0x61], i * 3);
    expectTlogError(() => decodeCanonical(deepMaps), 'MALFORMED');
  });

  it('decodes a "__proto__" key as an own property without touching prototypes', () => {
    const bytes = encodeCanonical(JSON.parse('{"__proto__": {"polluted": 1}, "a": {"__proto__": [1]}}'));
    const v = decodeCanonical(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 1 });
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v.a)).toBe(Object.prototype);
  });

  it('does not modify the caller\'s Uint8Array (cbor-x caches a dataView on its input)', () => {
    const bytes = encodeCanonical({ a: 1 });
    decodeCanonical(bytes);
    expect(Object.keys(bytes).filter((k) => !/^\d+$/.test(k))).toEqual([]);
    expect('dataView' in bytes).toBe(false);
  });

  it('never throws anything but TlogError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCanonical(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          expect(['MALFORMED', 'NOT_CANONICAL']).toContain((e as TlogError).code);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws anything but TlogError on mutated valid leaves', () => {
    const base = encodeCanonical({ v: 1, tenant: 't', logged_at: 1_700_000_000_000, event: { a: [1, 'x', { b: 2.5 }], c: null } });
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(base.length), (at, byte, cut) => {
        const b = base.slice(0, Math.max(cut, at + 1));
        b[at] = byte;
        try {
          decodeCanonical(b);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('answers MALFORMED for non-bytes input', () => {
    expectTlogError(() => decodeCanonical('a1' as unknown as Uint8Array), 'MALFORMED');
    expectTlogError(() => decodeCanonical(undefined as unknown as Uint8Array), 'MALFORMED');
  });
});

describe('decodeCborBody', () => {
  it('decodes an event body that parseEvent accepts', () => {
    const ev = minimalEvent({ metadata: { n: 1.5 } });
    const body = decodeCborBody(encodeCanonical(ev));
    expect(body).toEqual(ev);
    expect(parseEvent(body).actor.id).toBe('bot-1');
  });

  it('accepts non-deterministic but well-formed encodings', () => {
    expect(decodeCborBody(unhex('bf616101616282 0203ff'))).toEqual({ a: 1, b: [2, 3] });
    expect(decodeCborBody(unhex('9f018202039f0405ffff'))).toEqual([1, [2, 3], [4, 5]]);
    expect(decodeCborBody(unhex('f93e00'))).toBe(1.5);
    expect(decodeCborBody(unhex('fa47c35000'))).toBe(100000);
    expect(decodeCborBody(unhex('1b0000000000000005'))).toBe(5);
    expect(decodeCborBody(unhex('a2616201616102'))).toEqual({ b: 1, a: 2 });
  });

  const refused: Array<[string, string]> = [
    ['', 'empty'],
    ['a16161', 'truncated'],
    ['0101', 'trailing bytes'],
    ['c11a514b67b0', 'tag 1 (epoch date)'],
    ['d9d9f7a0', 'self-described CBOR tag'],
    ['4401020304', 'byte string'],
    ['a1616140', 'byte string value'],
    ['f7', 'undefined'],
    ['a16161f7', 'undefined value'],
    ['f0', 'simple value'],
    ['a10101', 'integer key'],
    ['a1f6 01', 'null key'],
    ['a18101 01', 'array key'],
    ['a2616101616102', 'duplicate key'],
    ['bf6161ff', 'indefinite map ending after a key'],
    ['7f6161ff', 'indefinite-length text'],
    ['5f4101ff', 'indefinite-length bytes'],
    ['62c328', 'invalid UTF-8'],
    ['a162c32801', 'invalid UTF-8 key'],
    ['ff', 'lone break'],
    ['1d', 'reserved additional information'],
    ['9f01', 'unterminated indefinite array'],
  ];
  it.each(refused)('%s (%s) is MALFORMED_CBOR', (bytes) => {
    expectTlogError(() => decodeCborBody(unhex(bytes)), 'MALFORMED_CBOR');
  });

  it('refuses 100,000-deep nesting with NESTING_TOO_DEEP, without crashing', () => {
    const deep = new Uint8Array(100_001).fill(0x81);
    deep[100_000] = 0xf6;
    expectTlogError(() => decodeCborBody(deep), 'NESTING_TOO_DEEP');
    const indefinite = new Uint8Array(200_000).fill(0x9f);
    indefinite.fill(0xff, 100_000);
    expectTlogError(() => decodeCborBody(indefinite), 'NESTING_TOO_DEEP');
    const e = expectTlogError(() => decodeCborBody(unhex('818181f6'), { maxDepth: 2 }), 'NESTING_TOO_DEEP');
    expect(e.status).toBe(413);
    expect(decodeCborBody(unhex('8181f6'), { maxDepth: 2 })).toEqual([[null]]);
  });

  it('passes NaN and huge integers through so parseEvent reports the field path', () => {
    const nan = decodeCborBody(unhex('a1 6161 f97e00')) as { a: number };
    expect(Number.isNaN(nan.a)).toBe(true);
    const big = decodeCborBody(unhex('a1 6161 1bffffffffffffffff')) as { a: unknown };
    expect(big.a).toBe(2n ** 64n - 1n);

    // An event with NaN risk.score, as CBOR.
    const withNaN = encodeCanonical(minimalEvent({ risk: { score: 0.25 } }));
    const at = hex(withNaN).indexOf('fb3fd0000000000000') / 2;
    const bytes = withNaN.slice();
    bytes.set(unhex('fb7ff8000000000000'), at);
    const err = expectTlogError(() => parseEvent(decodeCborBody(bytes)), 'SCHEMA_VIOLATION');
    expect(err.details?.issues).toEqual([{ path: 'risk.score', message: expect.stringContaining('finite') }]);

    const huge = encodeCanonical(minimalEvent({ metadata: { n: 7 } }));
    const hugeBytes = new Uint8Array([...huge.slice(0, -1), 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const err2 = expectTlogError(() => parseEvent(decodeCborBody(hugeBytes)), 'SCHEMA_VIOLATION');
    expect(err2.details?.issues).toEqual([{ path: 'metadata.n', message: expect.stringContaining('safe range') }]);
  });

  it('keeps a "__proto__" key as data, so parseEvent names it instead of it vanishing', () => {
    const body = decodeCborBody(encodeCanonical(JSON.parse('{"__proto__": {"x": 1}, "actor": {"type": "agent", "id": "a"}, "action": {"type": "t"}}')));
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    const e = expectTlogError(() => parseEvent(body), 'UNKNOWN_FIELDS');
    expect(e.details?.fields).toEqual(['__proto__']);
  });

  it('never throws anything but TlogError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCborBody(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          expect(['MALFORMED_CBOR', 'NESTING_TOO_DEEP']).toContain((e as TlogError).code);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
