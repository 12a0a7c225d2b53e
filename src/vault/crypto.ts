/**
 * The vault's cryptography, all node:crypto (the vault is server-only):
 * AES-256-GCM for values and for wrapping per-subject keys, HMAC-SHA-256
 * for subject tags, SHA-256 for commitments.
 *
 * Invariant: a plaintext value or a raw subject key is never handed to
 * storage; only ciphertext (nonce ‖ ciphertext ‖ tag) is.
 */

import { createCipheriv, createDecipheriv, createHmac, hash } from 'node:crypto';
import { RandomPool } from '../random.js';
import { TlogError } from '../errors.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What {@link seal} adds to a plaintext: nonce ‖ … ‖ tag. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

const pool = new RandomPool();

/** CSPRNG bytes (from a pool: pointers, salts and nonces are drawn per value or per record). */
export function random(n: number): Uint8Array {
  return pool.take(n);
}

/** `n` CSPRNG bytes written into `dst` at `offset` (from the same pool, without an array of their own). */
export function randomInto(dst: Uint8Array, offset: number, n: number): void {
  pool.fill(dst, offset, n);
}

/** AES-256-GCM: returns nonce ‖ ciphertext ‖ tag, bound to `aad`. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + SEAL_OVERHEAD);
  sealInto(key, plaintext, aad, out, 0);
  return out;
}

/**
 * {@link seal} written into `out` at `offset` (plaintext.length +
 * SEAL_OVERHEAD bytes): a record's sealed part goes straight into the
 * record. The nonce is drawn into `out` and handed to the cipher from
 * there, so when `out` is off V8's heap (key-bytes.ts) no copy of it is
 * made for the native call.
 */
export function sealInto(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array, offset: number): void {
  randomInto(out, offset, NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, out.subarray(offset, offset + NONCE_BYTES));
  c.setAAD(aad);
  // GCM is a stream mode: update() returns all the ciphertext, final() none.
  const body = c.update(plaintext);
  const rest = c.final();
  let o = offset + NONCE_BYTES;
  out.set(body, o);
  o += body.length;
  if (rest.length > 0) {
    out.set(rest, o);
    o += rest.length;
  }
  out.set(c.getAuthTag(), o);
}

/** Opens what {@link seal} made; VAULT_CORRUPT when it was altered or the key is wrong. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new TlogError('VAULT_CORRUPT', 'a sealed vault record is truncated');
  try {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), d.final()]));
  } catch (e) {
    throw new TlogError('VAULT_CORRUPT', 'a sealed vault record failed authentication (altered, or the vault key is wrong)', { cause: e });
  }
}

/** HMAC-SHA-256 of `text` as UTF-8 (one update of a string: encoding parts one by one cost more than the MAC). */
export function hmacSha256(key: Uint8Array, text: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(text, 'utf8').digest());
}

/** SHA-256 (the Buffer node:crypto returns, not a copy of it). */
export function sha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}

/** SHA-256 as standard base64 text, encoded by node:crypto (commitments: made per value, wanted as text). */
export function sha256Base64(data: Uint8Array): string {
  return hash('sha256', data, 'base64');
}
