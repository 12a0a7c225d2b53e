/**
 * The pure encoder (src/events/cbor-encode.ts) against two independent
 * encoders: cbor-x with the pinned settings the server used before
 * (cbor-x-oracle.ts) and the naive reference encoder (helpers.ts). Same
 * bytes for every JSON value, same errors for everything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../../src/events/cbor-encode.js';
import { decodeCanonicalStrict } from '../../src/events/cbor-canonical.js';
import { encodeWithCborX } from './cbor-x-oracle.js';
import { hex, referenceEncode } from './helpers.js';

// Keys that trip naive orderings: integer-like keys (iterated first by JS), length vs
// code point order, BMP private use vs non-BMP (UTF-16 order disagrees), prototype names.
const trickyKey = fc.constantFrom('', '9', '10', 'a', 'b', 'aa', 'é', 'z\u00e9', '\uE000a', '😀', '\uFFFF', '__proto__', 'constructor', 'toString', '0', '00', '-1', '1e3');
const key = fc.oneof(trickyKey, fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
const near = (x: number) => fc.integer({ min: -3, max: 3 }).map((d) => x + d);
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.maxSafeInteger(),
  near(2 ** 32),
  near(-(2 ** 32)),
  near(2 ** 31),
  near(-(2 ** 31)),
  near(2 ** 16),
  near(-(2 ** 16)),
  fc.constantFrom(23, 24, 255, 256, -24, -25, -256, -257, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e21, 5e-324, 1.5, -0, 0.1),
);
// Strings around every head boundary (23/24, 255/256, 65535/65536 UTF-8 bytes) with 1- to 4-byte characters.
const longText = fc
  .tuple(fc.constantFrom('a', 'é', '€', '😀'), fc.constantFrom(7, 8, 11, 12, 22, 23, 24, 25, 63, 64, 65, 85, 86, 127, 128, 255, 256, 16383, 16384, 21845, 32768))
  .map(([c, n]) => c.repeat(n));
const text = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), longText);

const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('value'), { maxLength: 6 }),
    // Object.fromEntries defines keys as own data properties, so "__proto__" stays a key.
    fc.array(fc.tuple(key, tie('value')), { maxLength: 8 }).map((e) => Object.fromEntries(e)),
  ),
}));

describe('the pure deterministic CBOR encoder', () => {
  it('writes exactly the bytes of the cbor-x encoder and of the reference encoder', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCanonical(v);
        expect(hex(bytes)).toBe(hex(encodeWithCborX(v)));
        expect(hex(bytes)).toBe(hex(referenceEncode(v)));
      }),
      { numRuns: 3000 },
    );
  });

  it('same bytes for fast-check JSON values (full Unicode, deep nesting)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary', maxDepth: 8 }), (v) => {
        expect(hex(encodeCanonical(v))).toBe(hex(encodeWithCborX(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('numbers: same bytes as cbor-x, and the strict decoder accepts them', () => {
    fc.assert(
      fc.property(number, (n) => {
        const bytes = encodeCanonical(n);
        expect(hex(bytes)).toBe(hex(encodeWithCborX(n)));
        expect(decodeCanonicalStrict(bytes)).toBe(n === 0 ? 0 : n);
      }),
      { numRuns: 3000 },
    );
  });

  it('fixed vectors', () => {
    const vectors: Array<[unknown, string]> = [
      [0, '00'],
      [-0, '00'],
      [23, '17'],
      [24, '1818'],
      [-25, '3818'],
      [2 ** 32 - 1, '1affffffff'],
      [2 ** 32, '1b0000000100000000'],
      [-(2 ** 32), '3affffffff'],
      [-(2 ** 32) - 1, '3b0000000100000000'],
      [2 ** 53 - 1, '1b001fffffffffffff'],
      [-(2 ** 53 - 1), '3b001ffffffffffffe'],
      [2 ** 53, 'fb4340000000000000'],
      [1.5, 'fb3ff8000000000000'],
      [null, 'f6'],
      [true, 'f5'],
      [false, 'f4'],
      ['', '60'],
      ['ü', '62c3bc'],
      ['😀', '64f09f9880'],
      [[], '80'],
      [{}, 'a0'],
      // "9" < "a" < "10" (length first); "\uE000a" (ee 80 80 61) < "😀" (f0 9f 98 80).
      [{ '10': 1, a: 2, '9': 3 }, 'a3613903616102623130' + '01'],
      [{ '😀': 1, '\uE000a': 2 }, 'a264ee8080610264f09f988001'],
      [Object.fromEntries([['__proto__', [1, -1]]]), 'a1695f5f70726f746f5f5f820120'],
      ['a'.repeat(24), '7818' + '61'.repeat(24)],
      ['é'.repeat(128), '790100' + 'c3a9'.repeat(128)],
    ];
    for (const [v, want] of vectors) {
      expect(hex(encodeCanonical(v)), JSON.stringify(v)).toBe(want);
      expect(hex(encodeWithCborX(v)), JSON.stringify(v)).toBe(want);
    }
  });

  it('refuses what cbor-x refused, with the same error class and message', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 129; i++) deep = [deep];
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const bad: unknown[] = [
      NaN,
      Infinity,
      -Infinity,
      undefined,
      10n,
      Symbol('s'),
      () => 1,
      new Map(),
      new Uint8Array(2),
      new Date(0),
      'a\uD800b',
      '\uDC00',
      { ok: 1, ['x\uD83D']: 2 },
      { a: [1, { b: NaN }] },
      holes,
      deep,
      { z: NaN, a: undefined }, // the first error in sorted key order wins
    ];
    for (const v of bad) {
      const err = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          return e as Error;
        }
        throw new Error('did not throw');
      };
      const mine = err(() => encodeCanonical(v));
      const theirs = err(() => encodeWithCborX(v));
      expect(mine.constructor).toBe(theirs.constructor);
      expect(mine.message).toBe(theirs.message);
      expect(mine instanceof TypeError || mine instanceof RangeError).toBe(true);
    }
  });

  it('returns fresh arrays: a later call never changes an earlier result', () => {
    const a = encodeCanonical({ a: 'x'.repeat(10) });
    const before = hex(a);
    encodeCanonical({ b: 'y'.repeat(100_000), c: [1, 2, 3] }); // grows the scratch buffer
    encodeCanonical({ a: 'z'.repeat(10) });
    expect(hex(a)).toBe(before);
    expect(a.buffer.byteLength).toBe(a.length);
  });

  it('a getter that encodes while the encoder runs gets its own buffer', () => {
    const inner = { x: [1, 'two', { three: 3 }] };
    const outer = {
      get a() {
        return hex(encodeCanonical(inner));
      },
      b: 'after',
    };
    expect(hex(encodeCanonical(outer))).toBe(hex(encodeWithCborX(outer)));
    expect(hex(encodeCanonical(outer))).toBe(hex(referenceEncode({ a: hex(encodeCanonical(inner)), b: 'after' })));
  });
});
