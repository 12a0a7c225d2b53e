/** The vault's binary subject and value records (spec/privacy.md §2.1): round trips, damage, and format 1 value records still read. */

import { describe, expect, it } from 'vitest';
import { seal } from '../../src/vault/crypto.js';
import { encodeSubject, decodeSubject, type SubjectRecord } from '../../src/vault/records.js';
import { openValues, sealValues } from '../../src/vault/sealing.js';
import { decodeValueRecord, encodeValueRecord, valueCount, valueExpiresAt } from '../../src/vault/value-record.js';
import { piiCommitment } from '../../src/events/pii.js';
import { nodeSha256 } from '../../src/server.js';
import { errorCode } from '../helpers.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const ascii = (s: string) => new TextEncoder().encode(s);

const subject: SubjectRecord = { tenant: 'acme', pseudonym: 'ps_Qe3V0xg2b7TQm5cYy1zP8w', wrapped_key: bytes(60, 9), created_at: 1_795_000_000_123 };
const KEY = bytes(32, 11);
const fields = { event_id: '0193b2c4-7f00-7000-8000-000000000001', created_at: 1_795_000_000_123, expires_at: 1_802_776_000_123 };
const values = [
  { name: 'email', path: 'pii.email', value: 'zoë@example.org' },
  { name: 'metadata.customer.phone', path: 'metadata.customer.phone', value: { cc: 44, n: '20 7946 0958' } },
];

describe('vault records', () => {
  it('a subject record round-trips, with and without a hold (reason or none)', () => {
    expect(decodeSubject(encodeSubject(subject))).toEqual(subject);
    const held = { ...subject, hold: { since: 1_795_000_001_000, reason: 'litigation Ünïcode' } };
    expect(decodeSubject(encodeSubject(held))).toEqual(held);
    const bare = { ...subject, hold: { since: 1_795_000_001_000 } };
    expect(decodeSubject(encodeSubject(bare))).toEqual(bare);
  });

  it("one record holds an event's values about a subject under one seal, each with its own pointer, salt and commitment", () => {
    const s = sealValues(KEY, fields, values);
    expect(s.pointers).toHaveLength(2);
    for (const p of s.pointers) expect(p).toMatch(/^pii_[A-Za-z0-9_-]{22}$/);
    expect(s.pointers[0]!).not.toBe(s.pointers[1]!);
    expect(new TextDecoder().decode(s.id)).toBe(s.pointers[0]!);
    const rec = decodeValueRecord(s.record, s.pointers[0]!);
    expect(rec).toMatchObject({ version: 3, ...fields });
    expect(rec.items.map((i) => [i.pointer, i.name, i.path])).toEqual(values.map((v, i) => [s.pointers[i]!, v.name, v.path]));
    expect(valueExpiresAt(s.record)).toBe(fields.expires_at);
    expect(valueCount(s.record)).toBe(2);
    const opened = openValues(KEY, rec);
    expect(opened.map((o) => o.value)).toEqual(values.map((v) => v.value));
    // Each value's share of the plaintext is its commitment's preimage: what an auditor recomputes.
    opened.forEach((o, i) => {
      expect(o.salt.length).toBe(32);
      expect(Buffer.from(piiCommitment(nodeSha256, o.salt, o.value)).equals(Buffer.from(s.commitments[i]!, 'base64'))).toBe(true);
      expect(Buffer.from(o.commitment).equals(Buffer.from(s.commitments[i]!, 'base64'))).toBe(true);
      // Format 3 keeps no commitment in the clear: opening the record gives it back.
      expect(rec.items[i]!.commitment).toBeUndefined();
      expect(Buffer.from(s.record).includes(Buffer.from(s.commitments[i]!, 'base64'))).toBe(false);
    });
    expect(opened[0]!.salt).not.toEqual(opened[1]!.salt);
    // Only ciphertext: no value in the clear part, no JSON, no base64.
    const raw = Buffer.from(s.record);
    expect(raw.includes(Buffer.from('zoë@example.org'))).toBe(false);
    expect(raw.includes(Buffer.from('7946'))).toBe(false);
  });

  it('the clear part is authenticated: a changed time, event id, pointer or path answers VAULT_CORRUPT, as does a wrong key', () => {
    const s = sealValues(KEY, fields, values);
    const id = s.pointers[0]!;
    // 0 version, 1 created_at, 9 expires_at, 17 count, 19 event_id (36), 57 the first pointer (2 + 26), 85 its size, 89 its name, 96 its path.
    for (const at of [1, 40, 70, 100]) {
      const bad = new Uint8Array(s.record);
      bad[at]! ^= 1;
      expect(errorCode(() => openValues(KEY, decodeValueRecord(bad, id)))).toBe('VAULT_CORRUPT');
    }
    expect(errorCode(() => openValues(bytes(32, 12), decodeValueRecord(s.record, id)))).toBe('VAULT_CORRUPT');
  });

  it('a format 1 record (one value, keyed and bound by its pointer) still reads', () => {
    const pointer = 'pii_2bB5mS7qJ0g3cX9yK1vN4w';
    const salt = bytes(32, 4);
    const cbor = new Uint8Array([0x63, 0x61, 0x62, 0x63]); // "abc"
    const plain = new Uint8Array([...salt, ...cbor]);
    const commitment = piiCommitment(nodeSha256, salt, 'abc');
    const head = [1, ...new Uint8Array(8), ...new Uint8Array(8), ...commitment];
    const str = (s: string) => [0, s.length, ...ascii(s)];
    const old = new Uint8Array([...head, ...str('email'), ...str('pii.email'), ...str('ev-1'), ...seal(KEY, plain, ascii(pointer))]);
    old.set([0, 0, 0, 0, 0, 0, 0, 7], 9); // expires_at = 7
    const rec = decodeValueRecord(old, pointer);
    expect(rec.version).toBe(1);
    expect(rec.items.map((i) => [i.pointer, i.name, i.path])).toEqual([[pointer, 'email', 'pii.email']]);
    expect(openValues(KEY, rec).map((o) => o.value)).toEqual(['abc']);
    expect(valueExpiresAt(old)).toBe(7);
    expect(valueCount(old)).toBe(1);
  });

  it('an unknown version, a truncated record or trailing bytes answer VAULT_CORRUPT', () => {
    const s = encodeSubject(subject);
    const v = sealValues(KEY, fields, values).record;
    const id = 'pii_2bB5mS7qJ0g3cX9yK1vN4w';
    const json = new TextEncoder().encode(JSON.stringify({ tenant: 'acme' }));
    expect(errorCode(() => decodeSubject(json))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValueRecord(json, id))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => valueExpiresAt(json))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => valueCount(json))).toBe('VAULT_CORRUPT');
    const v4 = new Uint8Array(v);
    v4[0] = 4;
    expect(errorCode(() => decodeValueRecord(v4, id))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => valueExpiresAt(v4))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => valueCount(v4))).toBe('VAULT_CORRUPT');
    // Another version byte on a format 3 record: its seal is bound to it.
    const v2 = new Uint8Array(v);
    v2[0] = 2;
    expect(errorCode(() => openValues(KEY, decodeValueRecord(v2, id)))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeSubject(s.subarray(0, s.length - 1)))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeSubject(new Uint8Array([...s, 0])))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValueRecord(v.subarray(0, 40), id))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValueRecord(v.subarray(0, v.length - 1), id))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValueRecord(new Uint8Array([...v, 0]), id))).toBe('VAULT_CORRUPT');
  });

  it('refuses to encode a wrapped key of the wrong size, or an empty record', () => {
    expect(() => encodeSubject({ ...subject, wrapped_key: bytes(59, 1) })).toThrow(RangeError);
    expect(() => encodeValueRecord(fields, [], 0, () => {})).toThrow(RangeError);
  });

  it('a format 2 record (commitments in the clear part) still reads, and its stored commitments come back', () => {
    const pointer = 'pii_2bB5mS7qJ0g3cX9yK1vN4w';
    const salt = bytes(32, 4);
    const cbor = new Uint8Array([0x63, 0x61, 0x62, 0x63]); // "abc"
    const commitment = piiCommitment(nodeSha256, salt, 'abc');
    const u64 = (n: number) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(n));
      return [...b];
    };
    const str = (x: string) => [0, x.length, ...ascii(x)];
    const clear = new Uint8Array([2, ...u64(5), ...u64(7), 0, 1, ...str('ev-2'), ...str(pointer), ...commitment, 0, 0, 0, 36, ...str('email'), ...str('pii.email')]);
    const rec2 = new Uint8Array([...clear, ...seal(KEY, new Uint8Array([...salt, ...cbor]), clear)]);
    const rec = decodeValueRecord(rec2, pointer);
    expect(rec).toMatchObject({ version: 2, event_id: 'ev-2', created_at: 5, expires_at: 7 });
    expect(Buffer.from(rec.items[0]!.commitment!).equals(Buffer.from(commitment))).toBe(true);
    const [o] = openValues(KEY, rec);
    expect(o!.value).toBe('abc');
    expect(Buffer.from(o!.commitment).equals(Buffer.from(commitment))).toBe(true);
    expect([valueCount(rec2), valueExpiresAt(rec2)]).toEqual([1, 7]);
  });
});
