/**
 * decodeLeaf's canonical check is sound: whatever bytes it accepts are
 * exactly what the server's encoder (cbor-x based) writes for the decoded
 * value, so one record can never hide behind two leaf hashes.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { encodeCanonical, encodeRecord, parseEvent } from '../../src/events/index.js';
import { decodeCanonicalStrict } from '../../src/events/cbor-canonical.js';
import { decodeLeaf } from '../../src/verifier/index.js';
import { sampleEvent } from '../helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the strict canonical decoder', () => {
  const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 });

  it('accepted ⇒ canonical: single-byte mutations and truncations of valid encodings', () => {
    fc.assert(
      fc.property(json, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (v, pos, byte, cut) => {
        const bytes = encodeCanonical(v);
        const at = pos % bytes.length;
        const b = cut ? bytes.slice(0, at) : bytes.slice();
        if (!cut) b[at] = byte;
        let value: unknown;
        try {
          value = decodeCanonicalStrict(b);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          expect(['MALFORMED', 'NOT_CANONICAL']).toContain((e as TlogError).code);
          return;
        }
        expect(hex(encodeCanonical(value))).toBe(hex(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepted ⇒ canonical: random short byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 24 }), (b) => {
        let value: unknown;
        try {
          value = decodeCanonicalStrict(b);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          return;
        }
        expect(hex(encodeCanonical(value))).toBe(hex(b));
      }),
      { numRuns: 10000 },
    );
  });

  it('decodeLeaf returns the record of a real leaf and refuses a re-encoded one', () => {
    const event = parseEvent(sampleEvent(3));
    const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 1_760_000_000_000, event });
    expect(decodeLeaf(leaf)).toEqual({ v: 1, tenant: 'acme', logged_at: 1_760_000_000_000, event });
    // The same record with logged_at (the last key, so the last byte) written with a 1-byte head it does not need.
    const small = encodeRecord({ v: 1, tenant: 'acme', logged_at: 5, event });
    const i = small.lastIndexOf(0x05);
    const longHead = new Uint8Array([...small.subarray(0, i), 0x18, 0x05, ...small.subarray(i + 1)]);
    expect(() => decodeLeaf(longHead)).toThrow(expect.objectContaining({ code: 'NOT_CANONICAL' }));
  });
});
