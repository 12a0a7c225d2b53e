/** The vault's binary subject and value records (spec/privacy.md §2.1): round trips and damage. */

import { describe, expect, it } from 'vitest';
import { decodeSubject, decodeValue, encodeSubject, encodeValue, valueExpiresAt, type SubjectRecord, type ValueRecord } from '../../src/vault/records.js';
import { errorCode } from '../helpers.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

const subject: SubjectRecord = { tenant: 'acme', pseudonym: 'ps_Qe3V0xg2b7TQm5cYy1zP8w', wrapped_key: bytes(60, 9), created_at: 1_795_000_000_123 };
const value: ValueRecord = {
  name: 'metadata.customer.email',
  path: 'metadata.customer.email',
  event_id: '0193b2c4-7f00-7000-8000-000000000001',
  commitment: bytes(32, 3),
  sealed: bytes(12 + 41 + 16, 5),
  created_at: 1_795_000_000_123,
  expires_at: 1_802_776_000_123,
};

describe('vault records', () => {
  it('a subject record round-trips, with and without a hold (reason or none)', () => {
    expect(decodeSubject(encodeSubject(subject))).toEqual(subject);
    const held = { ...subject, hold: { since: 1_795_000_001_000, reason: 'litigation Ünïcode' } };
    expect(decodeSubject(encodeSubject(held))).toEqual(held);
    const bare = { ...subject, hold: { since: 1_795_000_001_000 } };
    expect(decodeSubject(encodeSubject(bare))).toEqual(bare);
  });

  it('a value record round-trips, and expires_at reads without decoding the rest', () => {
    const b = encodeValue(value);
    expect(decodeValue(b)).toEqual(value);
    expect(valueExpiresAt(b)).toBe(value.expires_at);
    // Fixed fields first: version, two times, the raw commitment.
    expect(b[0]).toBe(1);
    expect(b.length).toBe(1 + 8 + 8 + 32 + 2 * 3 + value.name.length + value.path.length + value.event_id.length + value.sealed.length);
  });

  it('holds no base64 or JSON: the sealed bytes and the wrapped key are stored raw', () => {
    const v = Buffer.from(encodeValue(value));
    expect(v.includes(Buffer.from(value.sealed))).toBe(true);
    expect(v.includes(Buffer.from('"sealed"'))).toBe(false);
    expect(Buffer.from(encodeSubject(subject)).includes(Buffer.from(subject.wrapped_key))).toBe(true);
  });

  it('an unknown version, a truncated record or trailing bytes answer VAULT_CORRUPT', () => {
    const s = encodeSubject(subject);
    const v = encodeValue(value);
    const old = new TextEncoder().encode(JSON.stringify({ tenant: 'acme' }));
    expect(errorCode(() => decodeSubject(old))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValue(old))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => valueExpiresAt(old))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeSubject(s.subarray(0, s.length - 1)))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeSubject(new Uint8Array([...s, 0])))).toBe('VAULT_CORRUPT');
    expect(errorCode(() => decodeValue(v.subarray(0, 40)))).toBe('VAULT_CORRUPT');
  });

  it('refuses to encode a wrapped key or commitment of the wrong size', () => {
    expect(() => encodeSubject({ ...subject, wrapped_key: bytes(59, 1) })).toThrow(RangeError);
    expect(() => encodeValue({ ...value, commitment: bytes(31, 1) })).toThrow(RangeError);
  });
});
