/**
 * Value records: the personal values of one event about one subject, in
 * one binary record under `v` ‖ tag ‖ record id (spec/privacy.md §2.1).
 *
 * Format 3 (written now) is format 2 without the commitments in the clear
 * part (each is SHA-256 of its value's share of the plaintext, so opening
 * the record gives it back; 32 bytes less per value to write and compact),
 * and without a retention key of its own: its subject's retention bucket
 * stands for it (layout.ts), so erasure knows which keys to delete.
 *
 * Format 2 holds every value of the (event, subject) pair under one seal:
 * one cipher and one LevelDB put per pair instead of per value, which is
 * most of the vault's CPU on the append path. Each value keeps its own
 * random pointer, salt and commitment, so the leaf format and what an
 * auditor can check do not change. The record id is the pointer of its
 * first value. A format 2 record has a retention key of its own.
 *
 * Format 1 (one value per record, keyed by its pointer) is still read: it
 * is the one-value case of format 2 with the pointer as AAD, so vaults
 * written before need no migration.
 *
 * Invariant: everything stored in the clear (version, times, event id,
 * pointers, names, paths, sizes, format 2's commitments) is the seal's AAD
 * in formats 2 and 3, so an altered record fails authentication rather
 * than reading wrong.
 */

import { TlogError } from '../errors.js';
import { keyBytes } from '../storage/key-bytes.js';
import { readU64 } from '../storage/layout.js';
import { corrupt, Reader, Writer } from './codec.js';
import { SEAL_OVERHEAD } from './crypto.js';

type Bytes = Uint8Array;

/** First byte of a value record: its format version. */
export const VALUE_RECORD_VERSION = 3;
export const COMMITMENT_BYTES = 32;

/** One value's entry in a record's clear part. */
export interface ValueItem {
  readonly pointer: string;
  /** The `pii` name, or the configured path the value was moved from. */
  readonly name: string;
  /** Where the pointer sits in the stored event (`pii.email`, `metadata.customer.email`). */
  readonly path: string;
  /**
   * SHA-256(salt ‖ canonical CBOR of the value); also in the leaf (base64).
   * Stored in formats 1 and 2; a format 3 record's comes from opening it (openValues).
   */
  readonly commitment?: Bytes;
  /** Bytes of this value's salt ‖ CBOR(value) in the sealed plaintext (values follow each other in item order). */
  readonly size: number;
}

export interface ValueRecord {
  readonly version: 1 | 2 | 3;
  readonly event_id: string;
  readonly created_at: number;
  readonly expires_at: number;
  readonly items: readonly ValueItem[];
  /** AES-256-GCM under the subject key: nonce ‖ ciphertext ‖ tag. */
  readonly sealed: Bytes;
  /** What the seal is bound to: the clear part (formats 2 and 3), the pointer (format 1). */
  readonly aad: Bytes;
}

/** A value about to be written: its pointer already as bytes (it is the key, the AAD and a field). */
export interface NewItem {
  readonly pointer: Bytes;
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

/**
 * Format 3: 0x03 ‖ created_at u64 ‖ expires_at u64 ‖ count u16 ‖ str event_id ‖
 * count × (str pointer ‖ size u32 ‖ str name ‖ str path) ‖ sealed (the rest).
 * `seal` is handed the clear part (everything before `sealed`) as its AAD,
 * and writes the sealed part (plainBytes + SEAL_OVERHEAD bytes) into `out`
 * at `offset`, in place.
 */
export function encodeValueRecord(
  fields: { event_id: string; created_at: number; expires_at: number },
  items: readonly NewItem[],
  plainBytes: number,
  seal: (aad: Bytes, out: Bytes, offset: number) => void,
): Bytes {
  if (items.length === 0 || items.length > 0xffff) throw new RangeError('a value record holds 1-65,535 values');
  let size = 19 + 2 + fields.event_id.length * 3 + plainBytes + SEAL_OVERHEAD;
  for (const it of items) size += 2 + it.pointer.length + 4 + 4 + (it.name.length + it.path.length) * 3;
  const w = new Writer(size, keyBytes).u8(VALUE_RECORD_VERSION).u64(fields.created_at).u64(fields.expires_at).u16(items.length).str(fields.event_id);
  for (const it of items) w.strBytes(it.pointer).u32(it.size).str(it.name).str(it.path);
  const aad = w.done();
  const at = w.skip(plainBytes + SEAL_OVERHEAD);
  seal(aad, w.buffer, at);
  return w.done();
}

/** A value record read back; `id` is its key's last part (a format 1 record's pointer). */
export function decodeValueRecord(b: Bytes, id: string): ValueRecord {
  const r = new Reader(b, 'value');
  const version = r.u8();
  // Format 2 is format 3 with each value's commitment after its pointer.
  if (version === 2 || version === 3) {
    const created_at = r.u64();
    const expires_at = r.u64();
    const count = r.u16();
    const event_id = r.str();
    const items: ValueItem[] = [];
    let plain = 0;
    for (let i = 0; i < count; i++) {
      const pointer = r.str();
      const commitment = version === 2 ? r.bytes(COMMITMENT_BYTES) : undefined;
      const size = r.u32();
      items.push({ pointer, ...(commitment ? { commitment } : {}), size, name: r.str(), path: r.str() });
      plain += size;
    }
    const aad = b.slice(0, r.offset);
    const sealed = r.rest();
    if (count === 0 || sealed.length !== plain + SEAL_OVERHEAD) throw corrupt('value');
    return { version, event_id, created_at, expires_at, items, sealed, aad };
  }
  if (version === 1) {
    // 0x01 ‖ created_at u64 ‖ expires_at u64 ‖ commitment(32) ‖ str name ‖ str path ‖ str event_id ‖ sealed.
    const created_at = r.u64();
    const expires_at = r.u64();
    const commitment = r.bytes(COMMITMENT_BYTES);
    const name = r.str();
    const path = r.str();
    const event_id = r.str();
    const sealed = r.rest();
    if (sealed.length < SEAL_OVERHEAD) throw corrupt('value');
    const items = [{ pointer: id, name, path, commitment, size: sealed.length - SEAL_OVERHEAD }];
    return { version, event_id, created_at, expires_at, items, sealed, aad: asciiBytes(id) };
  }
  throw unknownVersion();
}

/** expires_at of a value record without decoding the rest (erasure needs only it and the count). */
export function valueExpiresAt(b: Bytes): number {
  valueVersion(b);
  if (b.length < 17) throw corrupt('value');
  return readU64(b, 9);
}

/** How many values a record holds, without decoding it. */
export function valueCount(b: Bytes): number {
  if (b[0] === 1 && b.length >= 17) return 1;
  if ((b[0] === 2 || b[0] === 3) && b.length >= 19) return (b[17]! << 8) | b[18]!;
  throw b.length > 0 && b[0]! > VALUE_RECORD_VERSION ? unknownVersion() : corrupt('value');
}

/** A value record's format version (1-3), without decoding it. */
export function valueVersion(b: Bytes): 1 | 2 | 3 {
  const v = b[0];
  if (v === 1 || v === 2 || v === 3) return v;
  throw b.length > 0 && v! > VALUE_RECORD_VERSION ? unknownVersion() : corrupt('value');
}

function asciiBytes(s: string): Bytes {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function unknownVersion(): TlogError {
  return new TlogError('VAULT_CORRUPT', `a vault value record has an unknown format version (this version reads formats 1 to ${VALUE_RECORD_VERSION})`);
}
