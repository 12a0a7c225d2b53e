/**
 * Witness cosignatures (c2sp.org/tlog-cosignature v1.0.x, Ed25519 "cosignature/v1",
 * signature type 0x04). A cosignature is an ordinary signed-note signature line
 * whose blob is
 *
 * ```
 * keyID[4] ‖ timestamp u64 big-endian [8] ‖ Ed25519 signature [64]      (76 bytes)
 * ```
 *
 * and whose signed message is
 *
 * ```
 * "cosignature/v1\n" "time " <timestamp, decimal> "\n" <checkpoint note text>
 * ```
 *
 * The key ID is `SHA-256(name ‖ "\n" ‖ 0x04 ‖ pub)[:4]`, so the same Ed25519 key
 * has a different ID as a cosigner than as a plain (0x01) note signer.
 *
 * Cosigners implement {@link NoteSigner}/{@link NoteVerifier}: the note module
 * passes them the note text and the blob after the key ID (timestamp ‖ sig),
 * so `signNote` and `openNote` handle cosignatures with no special case.
 *
 * Pure and browser-safe (Uint8Array only).
 *
 * @module
 */

import { toBase64, utf8 } from '../bytes/index.js';
import { assertBytes, assertString } from './args.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify, ED25519_PUBLIC_KEY_LENGTH, ED25519_SEED_LENGTH } from './ed25519.js';
import { decodeVerifierKey, keyIdFor, SIG_TYPE_COSIGNATURE, SIG_TYPE_ED25519, type NoteSigner, type NoteVerifier } from './keys.js';
import type { NoteSignature } from './note.js';
import { formatKeyIdHex, isValidKeyName, malformed } from './syntax.js';

/** Bytes of a cosignature after the key ID: u64 timestamp ‖ 64-byte Ed25519 signature. */
export const COSIGNATURE_LENGTH = 8 + 64;

/** The spec caps timestamps at 2^63 − 1 (they are u64 on the wire). */
const MAX_TIMESTAMP = (1n << 63n) - 1n;

/** An Ed25519 cosigner: a {@link NoteSigner} whose `sign` adds the current time. */
export interface CosignatureSigner extends NoteSigner {
  readonly publicKey: Uint8Array;
  /** `<name>+<key id>+<base64(0x04 ‖ pub)>`: what clients and logs are configured with. */
  readonly verifierKey: string;
}

/** An Ed25519 cosignature verifier, built from a 0x04 vkey. */
export interface CosignatureVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  readonly sigType: typeof SIG_TYPE_COSIGNATURE;
}

/**
 * The message a cosigner signs: `cosignature/v1\ntime <t>\n` then the whole
 * checkpoint note text (final `\n` and any extension lines included; the blank
 * line and signature lines excluded).
 *
 * @example
 * ```ts
 * cosignatureMessage('example.com/log\n10\nHA5H…=\n', 1234)
 * // UTF-8 of "cosignature/v1\ntime 1234\nexample.com/log\n10\nHA5H…=\n"
 * ```
 * @throws {TypeError} On a non-string text or a timestamp that is neither number nor bigint.
 * @throws {RangeError} On a timestamp that is not an integer in [0, 2^63 − 1].
 */
export function cosignatureMessage(text: string, timestamp: number | bigint): Uint8Array {
  assertString(text, 'checkpoint text');
  const t = toTimestamp(timestamp);
  return utf8(`cosignature/v1\ntime ${t}\n${text}`);
}

function toTimestamp(timestamp: number | bigint): bigint {
  if (typeof timestamp === 'number') {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`cosignature timestamp: expected an integer in [0, 2^53 − 1], got ${timestamp}`);
    return BigInt(timestamp);
  }
  if (typeof timestamp !== 'bigint') throw new TypeError(`cosignature timestamp: expected number or bigint, got ${typeof timestamp}`);
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new RangeError('cosignature timestamp: expected an integer in [0, 2^63 − 1]');
  return timestamp;
}

function readU64(b: Uint8Array, offset: number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[offset + i]!);
  return v;
}

/**
 * The timestamp of a cosignature blob (the bytes after the key ID), or
 * `undefined` if the blob is not {@link COSIGNATURE_LENGTH} bytes (e.g. a plain
 * 64-byte Ed25519 note signature). As a bigint: the wire allows 2^63 − 1.
 *
 * @throws {TypeError} If `signature` is not a `Uint8Array`.
 */
export function cosignatureTimestamp(signature: Uint8Array): bigint | undefined {
  assertBytes(signature, 'cosignature');
  return signature.length === COSIGNATURE_LENGTH ? readU64(signature, 0) : undefined;
}

function assertKeyName(name: unknown): asserts name is string {
  assertString(name, 'key name');
  if (!isValidKeyName(name)) throw new RangeError('key name: must be non-empty, without whitespace, "+" or control characters');
}

function vkeyString(name: string, keyId: number, key: Uint8Array, type = SIG_TYPE_COSIGNATURE): string {
  const typed = new Uint8Array(1 + key.length);
  typed[0] = type;
  typed.set(key, 1);
  return `${name}+${formatKeyIdHex(keyId)}+${toBase64(typed)}`;
}

/**
 * Formats a cosigner verifier key `<name>+<hex id>+<base64(0x04 ‖ pub)>` (the base64
 * part starts with `B`).
 *
 * @example
 * ```ts
 * formatCosignatureVerifierKey('example.org/witness', pub) // 'example.org/witness+cacf2e50+BGbg…'
 * ```
 * @throws {TypeError} On a non-string name or non-`Uint8Array` key.
 * @throws {RangeError} On an invalid key name or a key that is not 32 bytes.
 */
export function formatCosignatureVerifierKey(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  assertBytes(publicKey, 'public key', ED25519_PUBLIC_KEY_LENGTH);
  return vkeyString(name, keyIdFor(name, SIG_TYPE_COSIGNATURE, publicKey), publicKey);
}

function makeVerifier(name: string, keyId: number, key: Uint8Array): CosignatureVerifier {
  return Object.freeze({
    name,
    keyId,
    sigType: SIG_TYPE_COSIGNATURE,
    publicKey: key,
    // Never throws: the blob comes from the note and may have any length.
    verify(msg: Uint8Array, sig: Uint8Array): boolean {
      if (sig.length !== COSIGNATURE_LENGTH) return false;
      const t = readU64(sig, 0);
      if (t > MAX_TIMESTAMP) return false;
      return ed25519Verify(sig.subarray(8), concat(utf8(`cosignature/v1\ntime ${t}\n`), msg), key);
    },
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Builds a cosignature verifier from a name and a raw 32-byte Ed25519 public key.
 *
 * @throws {TypeError} On a non-string name or non-`Uint8Array` key.
 * @throws {RangeError} On an invalid key name or a key that is not 32 bytes.
 */
export function cosignatureVerifier(name: string, publicKey: Uint8Array): CosignatureVerifier {
  assertKeyName(name);
  assertBytes(publicKey, 'public key', ED25519_PUBLIC_KEY_LENGTH);
  const key = publicKey.slice();
  return makeVerifier(name, keyIdFor(name, SIG_TYPE_COSIGNATURE, key), key);
}

/**
 * Parses a cosigner verifier key `<name>+<hex id>+<base64(0x04 ‖ pub)>` and checks
 * its key ID. Like transparency-dev/formats (`NewVerifierForCosignatureV1`), a
 * plain Ed25519 vkey (type 0x01) is also accepted and converted: the verifier then
 * expects cosignature lines under the 0x04 key ID of the same name and key.
 *
 * @example
 * ```ts
 * const w = parseCosignatureVerifierKey('example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn');
 * ```
 * @throws {TypeError} If `vkey` is not a string.
 * @throws {TlogError} `MALFORMED` on a bad vkey, a key ID that does not match, a
 *   signature type other than 0x04 or 0x01, or a key that is not 32 bytes.
 */
export function parseCosignatureVerifierKey(vkey: string): CosignatureVerifier {
  const { name, keyId, sigType, publicKey } = decodeVerifierKey(vkey);
  if (sigType !== SIG_TYPE_COSIGNATURE && sigType !== SIG_TYPE_ED25519) {
    throw malformed(`malformed witness key: signature type 0x${sigType.toString(16).padStart(2, '0')} is neither cosignature/v1 (0x04) nor Ed25519 (0x01)`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw malformed('malformed witness key: Ed25519 key must be 32 bytes');
  const key = publicKey.slice();
  return makeVerifier(name, sigType === SIG_TYPE_COSIGNATURE ? keyId : keyIdFor(name, SIG_TYPE_COSIGNATURE, key), key);
}

/**
 * Builds a cosigner from a name, a 32-byte Ed25519 seed and a clock in POSIX
 * seconds. Each `sign(text)` returns `timestamp ‖ signature` over
 * {@link cosignatureMessage}; `signNote(text, [cosigner], existing)` then emits
 * the full line. The seed is copied.
 *
 * @example
 * ```ts
 * const w = cosignatureSigner('witness.example/w1', seed, () => Math.floor(Date.now() / 1000));
 * const line = signNote(checkpointText, [w]).split('\n\n')[1];
 * ```
 * @throws {TypeError} On wrong argument types.
 * @throws {RangeError} On an invalid key name or a seed that is not 32 bytes. `sign`
 *   throws `RangeError` if the clock returns a negative or non-integer time.
 */
export function cosignatureSigner(name: string, seed: Uint8Array, nowSeconds: () => number): CosignatureSigner {
  assertKeyName(name);
  assertBytes(seed, 'seed', ED25519_SEED_LENGTH);
  if (typeof nowSeconds !== 'function') throw new TypeError('clock: expected a function');
  const secret = seed.slice();
  const publicKey = ed25519PublicKey(secret);
  const keyId = keyIdFor(name, SIG_TYPE_COSIGNATURE, publicKey);
  return Object.freeze({
    name,
    keyId,
    publicKey,
    verifierKey: vkeyString(name, keyId, publicKey),
    sign(msg: Uint8Array): Uint8Array {
      const t = toTimestamp(nowSeconds());
      const out = new Uint8Array(COSIGNATURE_LENGTH);
      new DataView(out.buffer).setBigUint64(0, t);
      out.set(ed25519Sign(concat(utf8(`cosignature/v1\ntime ${t}\n`), msg), secret), 8);
      return out;
    },
  });
}

/** A cosignature line that verified: which witness, and the time it vouches for. */
export interface VerifiedCosignature {
  name: string;
  keyId: number;
  /** POSIX seconds from the cosignature (a number: a verified one is at most 2^53 − 1). */
  timestamp: number;
}

/**
 * Checks one note signature line against one cosigner: `undefined` if the line is
 * by another key (name or key ID differ), `false` if it is by this key but does
 * not verify, else the verified cosignature. Timestamps above 2^53 − 1 (about
 * 285 million years ahead) are refused as "in the future", which the spec allows.
 *
 * @throws {TypeError} On wrong argument types.
 */
export function checkCosignature(text: string, sig: NoteSignature, verifier: CosignatureVerifier): VerifiedCosignature | false | undefined {
  assertString(text, 'checkpoint text');
  if (sig.name !== verifier.name || sig.keyId !== verifier.keyId) return undefined;
  const t = cosignatureTimestamp(sig.signature);
  if (t === undefined || t > BigInt(Number.MAX_SAFE_INTEGER)) return false;
  if (!verifier.verify(utf8(text), sig.signature)) return false;
  return { name: sig.name, keyId: sig.keyId, timestamp: Number(t) };
}
