/**
 * The vault's cryptography, all node:crypto (the vault is server-only):
 * AES-256-GCM for values and for wrapping per-subject keys, HMAC-SHA-256
 * for subject tags, SHA-256 for commitments.
 *
 * Invariant: a plaintext value or a raw subject key is never handed to
 * storage; only ciphertext (nonce ‖ ciphertext ‖ tag) is.
 */

import { createCipheriv, createDecipheriv, createHmac, hash } from 'node:crypto';
import { pooledRandom } from '../random.js';
import { TlogError } from '../errors.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What {@link seal} adds to a plaintext: nonce ‖ … ‖ tag. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

const draw = pooledRandom();

/** CSPRNG bytes (from a pool: pointers, salts and nonces are drawn per value or per record). */
export function random(n: number): Uint8Array {
  return draw(n);
}

/** AES-256-GCM: returns nonce ‖ ciphertext ‖ tag, bound to `aad`. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = random(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  // GCM is a stream mode: update() returns all the ciphertext, final() none.
  const body = c.update(plaintext);
  const rest = c.final();
  const out = new Uint8Array(NONCE_BYTES + body.length + rest.length + TAG_BYTES);
  out.set(nonce, 0);
  out.set(body, NONCE_BYTES);
  out.set(rest, NONCE_BYTES + body.length);
  out.set(c.getAuthTag(), NONCE_BYTES + body.length + rest.length);
  return out;
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

/** SHA-256 (the Buffer node:crypto returns, not a copy of it: commitments are made per value). */
export function sha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer');
}
