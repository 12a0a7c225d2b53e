/**
 * decodeLeaf's canonical check is sound: whatever bytes it accepts are
 * exactly what the encoder (cbor-encode.ts) writes for the decoded
 * value, so one record can never hide behind two leaf hashes.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { encodeCanonical, encodeRecord, parseEvent } from '../../src/events/index.js';
import { checkCanonical, decodeCanonicalStrict } from '../../src/events/cbor-canonical.js';
import { checkRecordLeaf, decodeRecord } from '../../src/events/leaf.js';
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
        // The validate-only path refuses exactly what the decoding path refuses.
        const code = (f: () => unknown) => {
          try {
            f();
            return 'OK';
          } catch (e) {
            return (e as TlogError).code;
          }
        };
        expect(code(() => checkCanonical(b))).toBe(code(() => decodeCanonicalStrict(b)));
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

  it('keeps a leading byte-order mark (U+FEFF) in keys and strings: TextDecoder drops it by default', () => {
    const v = { '\uFEFF': '\uFEFFx', k: ['\uFEFF'] };
    expect(decodeCanonicalStrict(encodeCanonical(v))).toEqual(v);
    const event = parseEvent(sampleEvent(3, { metadata: { '\uFEFF': '\uFEFF', note: '\uFEFF'.repeat(40) + 'x'.repeat(40) } }));
    const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 1_760_000_000_000, event });
    expect(decodeLeaf(leaf).event.metadata).toEqual({ '\uFEFF': '\uFEFF', note: '\uFEFF'.repeat(40) + 'x'.repeat(40) });
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

describe('checkRecordLeaf (the monitor\'s check) agrees with decodeRecord', () => {
  const outcome = (f: () => unknown): string => {
    try {
      f();
      return 'OK';
    } catch (e) {
      expect(e).toBeInstanceOf(TlogError);
      return (e as TlogError).code;
    }
  };
  const leaves = [0, 1, 2, 3].map((i) => encodeRecord({ v: 1, tenant: 'acme', logged_at: 1_760_000_000_000 + i, event: parseEvent(sampleEvent(i)) }));
  const shapes: unknown[] = [
    { v: 2, tenant: 't', logged_at: 1, event: { event_id: 'x' } },
    { v: 1, tenant: '', logged_at: 1, event: { event_id: 'x' } },
    { v: 1, tenant: 't', logged_at: -1, event: { event_id: 'x' } },
    { v: 1, tenant: 't', logged_at: 1.5, event: { event_id: 'x' } },
    { v: 1, tenant: 't', logged_at: 1, event: [] },
    { v: 1, tenant: 't', logged_at: 1, event: { event_id: 5 } },
    { v: 1, tenant: 't', logged_at: 1, event: { other: 'x' } },
    { v: 1, tenant: 't', logged_at: 1, event: { event_id: 'x' }, extra: 1 },
    { v: 1, tenant: 't', event: { event_id: 'x' }, logged: 1 },
    { v: [1], tenant: 't', logged_at: 1, event: { event_id: 'x' } },
    [1, 2, 3, 4],
    'v',
    { v: 1, tenant: 't', logged_at: 1, event: { a: 1, event_id: 'x', z: [1.5, null] } },
  ];

  it('on hand-made shapes, right and wrong', () => {
    for (const v of shapes) {
      const b = encodeCanonical(v);
      expect(outcome(() => checkRecordLeaf(b)), JSON.stringify(v)).toBe(outcome(() => decodeRecord(b)));
    }
    expect(outcome(() => checkRecordLeaf(encodeCanonical(shapes[12])))).toBe('OK');
    expect(outcome(() => checkRecordLeaf(encodeCanonical(shapes[0])))).toBe('MALFORMED');
  });

  it('on every single-byte mutation and truncation of real leaves', () => {
    fc.assert(
      fc.property(fc.nat(3), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (which, pos, byte, cut) => {
        const leaf = leaves[which]!;
        const at = pos % leaf.length;
        const b = cut ? leaf.slice(0, at) : leaf.slice();
        if (!cut) b[at] = byte;
        expect(outcome(() => checkRecordLeaf(b))).toBe(outcome(() => decodeRecord(b)));
      }),
      { numRuns: 3000 },
    );
  });
});
