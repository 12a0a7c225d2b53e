/**
 * Sealing and opening one value record: the values of one event about one
 * subject (spec/privacy.md §2). Each value gets its own random pointer and
 * salt and its commitment SHA-256(salt ‖ CBOR(value)), exactly as when each
 * value had a record of its own; what changed is that the values' salt ‖
 * CBOR shares follow each other in one plaintext under one AES-256-GCM
 * seal, so an event costs one cipher per subject rather than one per value.
 *
 * Invariant: a value's share of the plaintext is exactly its commitment's
 * preimage, so opening a record hands back what an auditor recomputes (and
 * a format 3 record need not store the commitment at all).
 */

import { decodeCanonical, encodeCanonical, type JsonValue } from '../events/index.js';
import { SALT_BYTES } from '../events/pii.js';
import { keyBytes } from '../storage/key-bytes.js';
import { open, randomInto, sealInto, sha256, sha256Base64 } from './crypto.js';
import { ID_RANDOM_BYTES, idFrom } from './ids.js';
import { TlogError } from '../errors.js';
import { encodeValueRecord, type NewItem, type ValueItem, type ValueRecord } from './value-record.js';

type Bytes = Uint8Array;

export interface ValueToSeal {
  readonly name: string;
  readonly path: string;
  readonly value: JsonValue;
}

export interface SealedRecord {
  /** The record id (its key's last part): the first value's pointer. */
  readonly id: Bytes;
  readonly record: Bytes;
  /** Per value, in the order given. */
  readonly pointers: readonly string[];
  /** Per value, in the order given: the commitment in standard base64, as the leaf holds it. */
  readonly commitments: readonly string[];
}

/** A pointer's random bytes on their way to its text (overwritten by each draw). */
const pointerDraw = new Uint8Array(ID_RANDOM_BYTES);

/** Seals `values` (one event, one subject, at least one) under the subject `key` into one record. */
export function sealValues(key: Bytes, fields: { event_id: string; created_at: number; expires_at: number }, values: readonly ValueToSeal[]): SealedRecord {
  const n = values.length;
  const cbor: Bytes[] = new Array(n);
  let plainBytes = 0;
  for (let i = 0; i < n; i++) {
    cbor[i] = encodeCanonical(values[i]!.value);
    plainBytes += SALT_BYTES + cbor[i]!.length;
  }
  // Off-heap and short-lived: it is hashed, sealed and dropped (key-bytes.ts).
  const plain = keyBytes(plainBytes);
  const items: NewItem[] = new Array(n);
  let id: Bytes | undefined;
  const pointers: string[] = new Array(n);
  const commitments: string[] = new Array(n);
  for (let i = 0, o = 0; i < n; i++) {
    const size = SALT_BYTES + cbor[i]!.length;
    // Salts and pointers come straight from the random pool (no array of their own).
    randomInto(plain, o, SALT_BYTES);
    plain.set(cbor[i]!, o + SALT_BYTES);
    randomInto(pointerDraw, 0, ID_RANDOM_BYTES);
    const pointer = idFrom('pii_', pointerDraw);
    commitments[i] = sha256Base64(plain.subarray(o, o + size));
    o += size;
    pointers[i] = pointer.text;
    id ??= pointer.bytes;
    items[i] = { pointer: pointer.bytes, name: values[i]!.name, path: values[i]!.path, size };
  }
  const record = encodeValueRecord(fields, items, plainBytes, (aad, out, offset) => sealInto(key, plain, aad, out, offset));
  // The hash and the cipher have copied it: zero the personal data now, or
  // the slab would keep it reachable after the subject's erasure.
  plain.fill(0);
  return { id: id!, record, pointers, commitments };
}

export interface OpenedValue {
  readonly item: ValueItem;
  readonly salt: Bytes;
  readonly value: JsonValue;
  /** The stored one (formats 1, 2), or SHA-256 of the value's share of the plaintext (format 3): the same bytes. */
  readonly commitment: Bytes;
}

/** The values of a record, decrypted (VAULT_CORRUPT if it was altered or the key is wrong). */
export function openValues(key: Bytes, rec: ValueRecord): OpenedValue[] {
  const plain = open(key, rec.sealed, rec.aad);
  const out: OpenedValue[] = [];
  let o = 0;
  for (const item of rec.items) {
    if (item.size < SALT_BYTES || o + item.size > plain.length) throw new TlogError('VAULT_CORRUPT', 'a stored value record does not parse');
    const share = plain.subarray(o, o + item.size);
    out.push({ item, salt: share.slice(0, SALT_BYTES), value: decodeCanonical(share.subarray(SALT_BYTES)) as JsonValue, commitment: item.commitment ?? sha256(share) });
    o += item.size;
  }
  return out;
}
