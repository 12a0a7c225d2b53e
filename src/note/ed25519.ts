/**
 * The one place that wires noble's Ed25519 (RFC 8032) for the note module.
 *
 * @module
 */

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

// noble v3's synchronous API needs a SHA-512. Set it only if nobody has yet, so
// importing this module is idempotent and never replaces another provider.
ed.hashes.sha512 ??= sha512;

/**
 * Verification mode. `zip215: false` is RFC 8032 strict: canonical point encodings,
 * S < L, small-order public keys rejected. Honest signatures (Go, noble, node:crypto)
 * verify identically in every mode; only crafted edge cases differ, and for a
 * transparency log rejecting those is the safer side. (Go's crypto/ed25519 is also
 * cofactorless and rejects S ≥ L; it differs only in accepting non-canonical A.)
 */
const STRICT = { zip215: false } as const;

/** Length of an Ed25519 seed (RFC 8032 secret key), public key and signature. */
export const ED25519_SEED_LENGTH = 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

/** Derives the 32-byte public key from a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

/** Signs `msg` (deterministic, RFC 8032 §5.1.6). */
export function ed25519Sign(msg: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed.sign(msg, seed);
}

/**
 * Verifies an Ed25519 signature. Never throws on attacker input: a signature of the
 * wrong length (e.g. a garbled note line that decodes to 67 bytes) is just invalid.
 */
export function ed25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  return sig.length === ED25519_SIGNATURE_LENGTH && ed.verify(sig, msg, publicKey, STRICT);
}

/**
 * Why a 32-byte string is not a usable Ed25519 public key, or undefined if it
 * is: it must decode as a canonical point (RFC 8032 strict) and not be of
 * small order. A small-order key (the identity, say) makes signatures that
 * verify for any message, so it must never be registered as someone's key.
 */
export function ed25519PublicKeyProblem(publicKey: Uint8Array): string | undefined {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return 'must be 32 bytes';
  let p: ed.Point;
  try {
    p = ed.Point.fromBytes(publicKey, false);
  } catch {
    return 'is not a canonical Ed25519 point';
  }
  return p.isSmallOrder() ? 'is a small-order point (it would make every signature valid)' : undefined;
}
