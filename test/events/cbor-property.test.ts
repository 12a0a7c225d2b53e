// Properties of the deterministic encoding over arbitrary JSON values,
// checked against the independent reference encoder in helpers.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, encodeRecord, decodeRecord, parseEvent } from '../../src/events/index.js';
import { fixedIds, hex, normalize, referenceEncode, shuffleKeys } from './helpers.js';

// Full-Unicode strings and keys (including non-BMP), all numbers JSON can carry.
const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 6 });
const jsonObject = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), json, { maxKeys: 12 });
const numbers = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) - 1, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 1e21, 5e-324, -0),
);

describe('deterministic CBOR properties', () => {
  it('decode(encode(v)) equals v, and re-encoding gives identical bytes', () => {
    fc.assert(
      fc.property(json, (v) => {
        const bytes = encodeCanonical(v);
        const back = decodeCanonical(bytes);
        expect(back).toStrictEqual(normalize(v));
        expect(hex(encodeCanonical(back))).toBe(hex(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('matches the reference encoder byte for byte', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(hex(encodeCanonical(v))).toBe(hex(referenceEncode(v)));
      }),
      { numRuns: 1000 },
    );
  });

  it('numbers: integers in the safe range are CBOR integers, everything else float64', () => {
    fc.assert(
      fc.property(numbers, (n) => {
        const bytes = encodeCanonical(n);
        const major = bytes[0]! >> 5;
        if (Number.isSafeInteger(n)) expect(major === 0 || major === 1).toBe(true);
        else expect(bytes[0]).toBe(0xfb);
        expect(hex(bytes)).toBe(hex(referenceEncode(n)));
        expect(decodeCanonical(bytes)).toBe(n === 0 ? 0 : n);
      }),
      { numRuns: 2000 },
    );
  });

  it('is deterministic: encoding twice gives the same bytes', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(hex(encodeCanonical(v))).toBe(hex(encodeCanonical(structuredClone(v))));
      }),
      { numRuns: 300 },
    );
  });

  it('shuffled key insertion order gives equal bytes', () => {
    fc.assert(
      fc.property(jsonObject, fc.integer(), (v, seed) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        expect(hex(encodeCanonical(shuffleKeys(v, rand)))).toBe(hex(encodeCanonical(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('a leaf does not depend on the key order of the submitted event', () => {
    const event = {
      actor: { type: 'agent', id: 'bot', version: '1', on_behalf_of: 'u' },
      action: { type: 'a', name: 'n', tool: 't' },
      result: { status: 'success', exit_code: 0, duration_ms: 3.5 },
      metadata: { z: 1, a: [1, { y: 2, b: 3 }], '10': 'ten', '9': 'nine', é: 'e' },
    };
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const a = parseEvent(event, fixedIds);
        const b = parseEvent(shuffleKeys(event, rand), fixedIds);
        const leafA = encodeRecord({ v: 1, tenant: 't', logged_at: 1, event: a });
        const leafB = encodeRecord({ v: 1, tenant: 't', logged_at: 1, event: b });
        expect(hex(leafB)).toBe(hex(leafA));
        expect(hex(encodeRecord(decodeRecord(leafA)))).toBe(hex(leafA));
      }),
      { numRuns: 100 },
    );
  });
});
