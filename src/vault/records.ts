/**
 * The vault's subject records and its rare JSON records. Subject records
 * are binary (fixed fields, then length-prefixed strings; spec/privacy.md
 * §2.1 is the contract), like value records (value-record.ts): JSON with
 * base64 cost both CPU and bytes on the append path and in every
 * compaction. Tombstones, erasure marks and run holds stay JSON.
 */

import { fromUtf8, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { corrupt, Reader, Writer } from './codec.js';

type Bytes = Uint8Array;

/** First byte of a subject record: its format version (value records have their own, value-record.ts). */
export const SUBJECT_RECORD_VERSION = 1;
/** nonce(12) ‖ sealed 32-byte key ‖ tag(16). */
export const WRAPPED_KEY_BYTES = 60;

export interface SubjectRecord {
  /** The tenant whose events named the subject (the tag is keyed on it too). */
  tenant: string;
  pseudonym: string;
  /** The per-subject AES-256 key, sealed under the master key (nonce ‖ ciphertext ‖ tag). */
  wrapped_key: Bytes;
  created_at: number;
  hold?: { since: number; reason?: string };
}

export interface Tombstone {
  tenant: string;
  pseudonym: string;
  erased_at: number;
  /** The erasure event exactly as logged, so a retry re-appends the same bytes (idempotent). */
  event: Record<string, unknown>;
}

function version(r: Reader): void {
  if (r.u8() !== SUBJECT_RECORD_VERSION)
    throw new TlogError('VAULT_CORRUPT', 'a vault subject record has an unknown format version (vaults before record format 1 cannot be read)');
}

/** 0x01 ‖ created_at u64 ‖ wrapped key (60) ‖ str tenant ‖ str pseudonym ‖ hold u8 [‖ since u64 ‖ str reason]. */
export function encodeSubject(rec: SubjectRecord): Bytes {
  if (rec.wrapped_key.length !== WRAPPED_KEY_BYTES) throw new RangeError(`a wrapped key is ${WRAPPED_KEY_BYTES} bytes`);
  const w = new Writer(128).u8(SUBJECT_RECORD_VERSION).u64(rec.created_at).bytes(rec.wrapped_key).str(rec.tenant).str(rec.pseudonym);
  if (rec.hold) w.u8(1).u64(rec.hold.since).str(rec.hold.reason ?? '');
  else w.u8(0);
  return w.done();
}

export function decodeSubject(b: Bytes): SubjectRecord {
  const r = new Reader(b, 'subject');
  version(r);
  const created_at = r.u64();
  const wrapped_key = r.bytes(WRAPPED_KEY_BYTES);
  const tenant = r.str();
  const pseudonym = r.str();
  const held = r.u8();
  let hold: SubjectRecord['hold'];
  if (held === 1) {
    const since = r.u64();
    const reason = r.str();
    hold = { since, ...(reason ? { reason } : {}) };
  } else if (held !== 0) throw corrupt('subject');
  r.end();
  return { tenant, pseudonym, wrapped_key, created_at, ...(hold ? { hold } : {}) };
}

export const encodeJson = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

export function decodeJson<T>(b: Uint8Array, what: string): T {
  try {
    return JSON.parse(fromUtf8(b) ?? '') as T;
  } catch (e) {
    throw new TlogError('VAULT_CORRUPT', `a stored ${what} record does not parse`, { cause: e });
  }
}
