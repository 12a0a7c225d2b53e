/** The vault's stored records (JSON; binary fields in base64). */

import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';

export interface SubjectRecord {
  /** The tenant whose events named the subject (the tag is keyed on it too). */
  tenant: string;
  pseudonym: string;
  /** The per-subject AES-256 key, sealed under the master key. */
  wrapped_key: string;
  created_at: number;
  hold?: { since: number; reason?: string };
}

export interface ValueRecord {
  /** The `pii` name, or the configured path the value was moved from. */
  name: string;
  /** Where the pointer sits in the stored event (`pii.email`, `metadata.customer.email`). */
  path: string;
  event_id: string;
  /** base64 SHA-256(salt ‖ canonical CBOR of the value); also in the leaf. */
  commitment: string;
  /** base64 AES-256-GCM under the subject key of salt(32) ‖ canonical CBOR(value); AAD = pointer. */
  sealed: string;
  created_at: number;
  expires_at: number;
}

export interface Tombstone {
  tenant: string;
  pseudonym: string;
  erased_at: number;
  /** The erasure event exactly as logged, so a retry re-appends the same bytes (idempotent). */
  event: Record<string, unknown>;
}

export const encodeJson = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

export function decodeJson<T>(b: Uint8Array, what: string): T {
  try {
    return JSON.parse(fromUtf8(b) ?? '') as T;
  } catch (e) {
    throw new TlogError('VAULT_CORRUPT', `a stored ${what} record does not parse`, { cause: e });
  }
}

export function b64(bytes: Uint8Array): string {
  return toBase64(bytes);
}

export function unb64(s: string, what: string): Uint8Array {
  const b = fromBase64(s);
  if (!b) throw new TlogError('VAULT_CORRUPT', `a stored ${what} is not base64`);
  return b;
}
