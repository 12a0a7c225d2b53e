// Byte-exact behaviour of encodeCanonical: RFC 8949 Appendix A vectors for
// the JSON data model, our float64 deviation, head-size boundaries, and
// map-key order.
import { describe, expect, it } from 'vitest';
import { compareKeys, decodeCanonical, encodeCanonical, sortKeys, utf8Length } from '../../src/events/index.js';
import { hex, referenceEncode, unhex } from './helpers.js';

describe('RFC 8949 Appendix A vectors (JSON data model)', () => {
  // [value, hex]: identical to Appendix A.
  const same: Array<[unknown, string]> = [
    [0, '00'],
    [1, '01'],
    [10, '0a'],
    [23, '17'],
    [24, '1818'],
    [25, '1819'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [-1, '20'],
    [-10, '29'],
    [-100, '3863'],
    [-1000, '3903e7'],
    [1.1, 'fb3ff199999999999a'],
    [1.0e300, 'fb7e37e43c8800759c'],
    [-4.1, 'fbc010666666666666'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    ['', '60'],
    ['a', '6161'],
    ['IETF', '6449455446'],
    ['"\\', '62225c'],
    ['\u00fc', '62c3bc'],
    ['\u6c34', '63e6b0b4'],
    ['\ud800\udd51', '64f0908591'],
    [[], '80'],
    [[1, 2, 3], '83010203'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [Array.from({ length: 25 }, (_, i) => i + 1), '98190102030405060708090a0b0c0d0e0f101112131415161718181819'],
    [{}, 'a0'],
    [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
    [['a', { b: 'c' }], '826161a161626163'],
    [{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
  ];
  it.each(same)('encodes %j as in Appendix A', (value, expected) => {
    expect(hex(encodeCanonical(value))).toBe(expected);
    expect(decodeCanonical(unhex(expected))).toEqual(value);
  });

  // Appendix A shortens floats to 16/32 bits; we always use 64 bits, and
  // integral values are integers.
  const deviation: Array<[number, string, string]> = [
    [0.0, 'f90000', '00'],
    [1.5, 'f93e00', 'fb3ff8000000000000'],
    [65504.0, 'f97bff', '19ffe0'],
    [100000.0, 'fa47c35000', '1a000186a0'],
    [3.4028234663852886e38, 'fa7f7fffff', 'fb47efffffe0000000'],
    [5.960464477539063e-8, 'f90001', 'fb3e70000000000000'],
    [-4.0, 'f9c400', '23'],
  ];
  it.each(deviation)('float deviation: %d (Appendix A %s) encodes as %s', (value, appendixA, ours) => {
    expect(hex(encodeCanonical(value))).toBe(ours);
    expect(hex(encodeCanonical(value))).not.toBe(appendixA);
  });

  it('-0 encodes as the integer 0', () => {
    expect(hex(encodeCanonical(-0))).toBe('00');
    expect(hex(encodeCanonical([-0.0]))).toBe('8100');
  });
});

describe('integer and float boundaries', () => {
  const cases: Array<[number, string]> = [
    [2 ** 8 - 1, '18ff'],
    [2 ** 8, '190100'],
    [2 ** 16 - 1, '19ffff'],
    [2 ** 16, '1a00010000'],
    [2 ** 31, '1a80000000'],
    [2 ** 32 - 1, '1affffffff'],
    [2 ** 32, '1b0000000100000000'], // cbor-x alone would write a float64 here
    [1741083330123, '1b0000019560a7464b'], // a logged_at: must stay an integer
    [2 ** 53 - 1, '1b001fffffffffffff'],
    [2 ** 53, 'fb4340000000000000'], // not a safe integer: float64
    [2 ** 64, 'fb43f0000000000000'],
    [-24, '37'],
    [-25, '3818'],
    [-256, '38ff'],
    [-257, '390100'],
    [-65536, '39ffff'],
    [-65537, '3a00010000'],
    [-(2 ** 31) - 1, '3a80000000'],
    [-(2 ** 32), '3affffffff'],
    [-(2 ** 32) - 1, '3b0000000100000000'],
    [-(2 ** 53 - 1), '3b001ffffffffffffe'],
    [-(2 ** 53), 'fbc340000000000000'],
    [0.5, 'fb3fe0000000000000'],
    [Number.MIN_VALUE, 'fb0000000000000001'],
    [Number.MAX_VALUE, 'fb7fefffffffffffff'],
    [-1e300, 'fbfe37e43c8800759c'],
  ];
  it.each(cases)('%d → %s', (value, expected) => {
    expect(hex(encodeCanonical(value))).toBe(expected);
    expect(hex(referenceEncode(value))).toBe(expected);
    expect(decodeCanonical(unhex(expected))).toBe(value);
  });

  it('rejects NaN and infinities', () => {
    for (const bad of [NaN, Infinity, -Infinity, { a: [NaN] }]) expect(() => encodeCanonical(bad)).toThrow(TypeError);
  });

  it('rejects values outside the JSON data model', () => {
    for (const bad of [undefined, 1n, new Uint8Array(1), new Map(), new Date(0), () => 1, Symbol('x'), [undefined], { a: undefined }, '\ud800', { '\udc00': 1 }]) {
      expect(() => encodeCanonical(bad)).toThrow(TypeError);
    }
    // eslint-disable-next-line no-sparse-arrays
    expect(() => encodeCanonical([1, , 3])).toThrow(TypeError);
  });

  it('rejects nesting beyond 128 levels instead of overflowing the stack', () => {
    let v: unknown = 0;
    for (let i = 0; i < 128; i++) v = [v];
    expect(() => encodeCanonical(v)).not.toThrow();
    expect(() => encodeCanonical([v])).toThrow(RangeError);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encodeCanonical(cyclic)).toThrow(RangeError);
  });
});

describe('text string heads (cbor-x guesses the head from UTF-16 length)', () => {
  const lengths = [0, 23, 24, 31, 32, 63, 64, 255, 256, 65535, 65536];
  const units = ['a', '\u00e9', '\u20ac', '\u{1F600}']; // 1, 2, 3 and 4 UTF-8 bytes
  for (const unit of units) {
    it(`strings of "${unit}" match the reference at every head boundary`, () => {
      for (const target of lengths) {
        const bytesPer = new TextEncoder().encode(unit).length;
        const s = unit.repeat(Math.floor(target / bytesPer)) + 'a'.repeat(target % bytesPer);
        expect(utf8Length(s)).toBe(target);
        expect(hex(encodeCanonical(s))).toBe(hex(referenceEncode(s)));
        expect(hex(encodeCanonical({ [s]: s }))).toBe(hex(referenceEncode({ [s]: s })));
      }
    });
  }
});

describe('map key order', () => {
  it('sorts shorter keys first, then bytewise (not JS string order)', () => {
    expect(hex(encodeCanonical({ aa: 1, b: 2 }))).toBe('a2616202626161' + '01');
    expect(Object.keys(decodeCanonical(encodeCanonical({ aa: 1, b: 2, z: 3, abc: 4 })) as object)).toEqual(['b', 'z', 'aa', 'abc']);
  });

  it('orders integer-like keys by encoding, not by JS object iteration order', () => {
    // JS iterates "10" and "9" before "a"; canonical order is 9, a, 10.
    expect(hex(encodeCanonical({ a: 1, 10: 2, 9: 3 }))).toBe('a3' + '613903' + '616101' + '62313002');
  });

  it('uses UTF-8 byte order for non-BMP characters', () => {
    // Equal UTF-8 length (4 bytes). JS: "\u{1F600}" (D83D DE00) < "\uE000a" (E000 0061).
    // UTF-8: EE 80 80 61 < F0 9F 98 80, so "\uE000a" comes first.
    const emoji = '\u{1F600}';
    const pua = '\uE000a';
    expect(emoji < pua).toBe(true);
    expect(compareKeys(pua, emoji)).toBeLessThan(0);
    expect(hex(encodeCanonical({ [emoji]: 1, [pua]: 2 }))).toBe('a2' + '64ee808061' + '02' + '64f09f9880' + '01');
    expect(hex(encodeCanonical({ [emoji]: 1, [pua]: 2 }))).toBe(hex(referenceEncode({ [emoji]: 1, [pua]: 2 })));
  });

  it('puts a longer UTF-8 key after a shorter one even when it has fewer UTF-16 units', () => {
    // "é" is 1 UTF-16 unit but 2 bytes: after "z", before "abc".
    expect(sortKeys(['abc', '\u00e9', 'z'])).toEqual(['z', '\u00e9', 'abc']);
  });

  it('sortKeys agrees with compareKeys for large objects (the non-insertion path)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `${String.fromCodePoint(0x60 + (i % 7), i % 3 === 0 ? 0x1f600 + i : 0xe000 + i)}${i}`);
    const expected = [...keys].sort(compareKeys);
    expect(sortKeys([...keys].reverse())).toEqual(expected);
    const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
    expect(hex(encodeCanonical(obj))).toBe(hex(referenceEncode(obj)));
  });
});

describe('encoder output', () => {
  it('returns a plain Uint8Array that later encodes do not overwrite', () => {
    const a = encodeCanonical({ x: 'first' });
    const copy = hex(a);
    for (let i = 0; i < 2000; i++) encodeCanonical({ x: `other ${i}`.repeat(20) });
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(hex(a)).toBe(copy);
  });

  it('encodes an own "__proto__" key as data', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
    expect(hex(encodeCanonical(v))).toBe('a2' + '616102' + '695f5f70726f746f5f5f' + 'a1617801');
  });
});
