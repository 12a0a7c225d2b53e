/**
 * Signed-note keys: key IDs, verifier key strings ("vkeys"), Go's private key
 * strings, and the Ed25519 signer and verifier (c2sp.org/signed-note §Keys,
 * golang.org/x/mod/sumdb/note).
 *
 * @module
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64, utf8 } from '../bytes/index.js';
import { assertBytes, assertString, assertUint } from './args.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify, ED25519_PUBLIC_KEY_LENGTH, ED25519_SEED_LENGTH } from './ed25519.js';
import { formatKeyIdHex, isValidKeyName, malformed, parseKeyIdHex, readUint32BE } from './syntax.js';

/** Signature type of a plain Ed25519 note signature (signed-note §Signature types). */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type of an Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature); see cosignature.ts. */
export const SIG_TYPE_COSIGNATURE = 0x04;

/** A signer usable with {@link signNote}. `sign` gets the exact note text bytes. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(msg: Uint8Array): Uint8Array;
}

/**
 * A verifier usable with {@link openNote}. `verify` must return `false` (not throw)
 * for any signature bytes, whatever their length: they come from the note.
 */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

/** An Ed25519 note signer together with its public half. */
export interface Ed25519NoteSigner extends NoteSigner {
  readonly publicKey: Uint8Array;
  /** `<name>+<key id>+<base64(0x01 ‖ publicKey)>`, the string verifiers are configured with. */
  readonly verifierKey: string;
}

/** An Ed25519 note verifier, as built from a vkey. */
export interface Ed25519NoteVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  readonly sigType: number;
}

/** The fields of a vkey, whatever its signature type. */
export interface DecodedVerifierKey {
  name: string;
  keyId: number;
  sigType: number;
  /** The key bytes after the type byte (Ed25519: the 32-byte public key). */
  publicKey: Uint8Array;
}

const PRIVATE_KEY_PREFIX = 'PRIVATE+KEY+';

/**
 * Computes a key ID: `SHA-256(name ‖ 0x0A ‖ sigType ‖ publicKey)[0:4]` as a
 * big-endian uint32 (signed-note §Key ID). The same key gets different IDs for
 * different signature types (0x01 note signature vs 0x04 cosignature).
 *
 * @example
 * ```ts
 * keyIdFor('PeterNeumann', SIG_TYPE_ED25519, pub) === 0xc74f20a3
 * ```
 * @throws {TypeError} If `name` is not a string or `publicKey` not a `Uint8Array`.
 * @throws {RangeError} If `sigType` is not an integer in [0, 255].
 */
export function keyIdFor(name: string, sigType: number, publicKey: Uint8Array): number {
  assertString(name, 'key name');
  assertUint(sigType, 'signature type', 0xff);
  assertBytes(publicKey, 'public key');
  const nameBytes = utf8(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = sigType;
  input.set(publicKey, nameBytes.length + 2);
  return readUint32BE(sha256(input), 0);
}

/** `<name>+<hex id>+<base64(type ‖ key)>`, without checks (callers have validated). */
function keyString(name: string, keyId: number, sigType: number, key: Uint8Array): string {
  const typed = new Uint8Array(1 + key.length);
  typed[0] = sigType;
  typed.set(key, 1);
  return `${name}+${formatKeyIdHex(keyId)}+${toBase64(typed)}`;
}

function assertKeyName(name: unknown): asserts name is string {
  assertString(name, 'key name');
  if (!isValidKeyName(name)) throw new RangeError('key name: must be non-empty, without whitespace, "+" or control characters');
}

/**
 * Formats an Ed25519 verifier key: `<name>+<8 lowercase hex key id>+<base64(0x01 ‖ pub)>`.
 *
 * @example
 * ```ts
 * formatVerifierKey('example.com/log', pub) // 'example.com/log+1a2b3c4d+A…'
 * ```
 * @throws {TypeError} On a non-string name or non-`Uint8Array` key.
 * @throws {RangeError} On an invalid key name or a key that is not 32 bytes.
 */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  assertBytes(publicKey, 'public key', ED25519_PUBLIC_KEY_LENGTH);
  return keyString(name, keyIdFor(name, SIG_TYPE_ED25519, publicKey), SIG_TYPE_ED25519, publicKey);
}

/**
 * Builds an Ed25519 note verifier from a name and a raw 32-byte public key
 * (what `note.NewEd25519VerifierKey` does in Go). The key is copied.
 *
 * @throws {TypeError} On a non-string name or non-`Uint8Array` key.
 * @throws {RangeError} On an invalid key name or a key that is not 32 bytes.
 */
export function ed25519Verifier(name: string, publicKey: Uint8Array): Ed25519NoteVerifier {
  assertKeyName(name);
  assertBytes(publicKey, 'public key', ED25519_PUBLIC_KEY_LENGTH);
  const key = publicKey.slice();
  return makeEd25519Verifier(name, keyIdFor(name, SIG_TYPE_ED25519, key), key);
}

/** `keyId` must be the key ID of (`name`, `key`); `key` must be owned by the verifier. */
function makeEd25519Verifier(name: string, keyId: number, key: Uint8Array): Ed25519NoteVerifier {
  return Object.freeze({
    name,
    keyId,
    sigType: SIG_TYPE_ED25519,
    publicKey: key,
    verify: (msg: Uint8Array, sig: Uint8Array): boolean => ed25519Verify(sig, msg, key),
  });
}

/**
 * Builds an Ed25519 note signer from a name and a 32-byte seed (RFC 8032 secret key).
 * The seed is copied, so the caller may wipe its own buffer afterwards.
 *
 * @example
 * ```ts
 * const signer = ed25519Signer('example.com/log', seed);
 * const signed = signNote(formatCheckpoint(cp), [signer]);
 * ```
 * @throws {TypeError} On a non-string name or non-`Uint8Array` seed.
 * @throws {RangeError} On an invalid key name or a seed that is not 32 bytes.
 */
export function ed25519Signer(name: string, seed: Uint8Array): Ed25519NoteSigner {
  assertKeyName(name);
  assertBytes(seed, 'seed', ED25519_SEED_LENGTH);
  const secret = seed.slice();
  const publicKey = ed25519PublicKey(secret);
  const keyId = keyIdFor(name, SIG_TYPE_ED25519, publicKey);
  return Object.freeze({
    name,
    keyId,
    publicKey,
    verifierKey: keyString(name, keyId, SIG_TYPE_ED25519, publicKey),
    sign: (msg: Uint8Array): Uint8Array => ed25519Sign(msg, secret),
  });
}

/**
 * Splits `<name>+<hex id>+<base64>` on the FIRST TWO `+` only: the base64 part may
 * itself contain `+` (signed-note §Verifier keys; e.g. `…+00000c67+AcTrnkbUA+TU4h…`).
 */
function splitKeyString(s: string): [name: string, idHex: string, b64: string] | undefined {
  const p1 = s.indexOf('+');
  const p2 = p1 < 0 ? -1 : s.indexOf('+', p1 + 1);
  if (p2 < 0) return undefined;
  return [s.slice(0, p1), s.slice(p1 + 1, p2), s.slice(p2 + 1)];
}

/**
 * Decodes a verifier key of any signature type and checks its key ID against
 * `SHA-256(name ‖ 0x0A ‖ type ‖ key)[0:4]` (signed-note §Verifier keys). Use it for
 * types this module cannot verify (e.g. 0x04 cosignature keys); {@link parseVerifierKey}
 * builds an Ed25519 verifier on top of it.
 *
 * @throws {TypeError} If `vkey` is not a string.
 * @throws {TlogError} `MALFORMED` on a missing part, an invalid name, key ID or base64,
 *   an empty key, or a key ID that does not match the key.
 */
export function decodeVerifierKey(vkey: string): DecodedVerifierKey {
  assertString(vkey, 'verifier key');
  const parts = splitKeyString(vkey);
  if (parts === undefined) throw malformed('malformed verifier key: expected <name>+<key id>+<key>');
  const [name, idHex, b64] = parts;
  if (!isValidKeyName(name)) throw malformed('malformed verifier key: invalid key name');
  const keyId = parseKeyIdHex(idHex);
  if (keyId === undefined) throw malformed('malformed verifier key: key id must be 8 hex digits');
  const typed = fromBase64(b64);
  if (typed === undefined || typed.length < 2) throw malformed('malformed verifier key: key is not base64 of <type> ‖ <key>');
  const sigType = typed[0]!;
  const publicKey = typed.subarray(1);
  if (keyIdFor(name, sigType, publicKey) !== keyId) throw malformed('malformed verifier key: key id does not match the key');
  return { name, keyId, sigType, publicKey };
}

/**
 * Parses an Ed25519 verifier key string `<name>+<hex id>+<base64(0x01 ‖ pub)>`.
 * Only type 0x01 is accepted here, with exactly 32 key bytes.
 *
 * @example
 * ```ts
 * const v = parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
 * v.keyId === 0xc74f20a3
 * ```
 * @throws {TypeError} If `vkey` is not a string.
 * @throws {TlogError} `MALFORMED` for anything {@link decodeVerifierKey} rejects, another
 *   signature type, or a key that is not 32 bytes.
 */
export function parseVerifierKey(vkey: string): Ed25519NoteVerifier {
  const { name, keyId, sigType, publicKey } = decodeVerifierKey(vkey);
  if (sigType !== SIG_TYPE_ED25519) {
    throw malformed(`malformed verifier key: unsupported signature type 0x${sigType.toString(16).padStart(2, '0')} (only Ed25519 0x01)`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw malformed('malformed verifier key: Ed25519 key must be 32 bytes');
  // decodeVerifierKey checked keyId against (name, key); slice() detaches the key from the decode buffer.
  return makeEd25519Verifier(name, keyId, publicKey.slice());
}

/**
 * Parses Go's private key string `PRIVATE+KEY+<name>+<hex id>+base64(0x01 ‖ seed)`
 * (golang.org/x/mod/sumdb/note, not a C2SP format). Like Go's `NewSigner`, derives
 * the public key and checks the key ID. Error messages never include key material.
 *
 * @throws {TypeError} If `skey` is not a string.
 * @throws {TlogError} `MALFORMED` on a bad prefix, name, key ID, type, length, or a key
 *   ID that does not match the derived public key.
 */
export function parseSignerKey(skey: string): Ed25519NoteSigner {
  const { name, keyId, seed } = decodeSignerKey(skey);
  try {
    const signer = ed25519Signer(name, seed);
    if (signer.keyId !== keyId) throw malformed('malformed signer key: key id does not match the key');
    return signer;
  } finally {
    seed.fill(0); // ed25519Signer keeps its own copy of the seed.
  }
}

/**
 * The fields of Go's private key string, without deriving the public key or
 * checking the key ID (parseSignerKey does both). For callers that sign with
 * another Ed25519 implementation; the returned seed is theirs to wipe.
 *
 * @throws {TypeError} If `skey` is not a string.
 * @throws {TlogError} `MALFORMED` on a bad prefix, name, key ID, type or length.
 */
export function decodeSignerKey(skey: string): { name: string; keyId: number; seed: Uint8Array } {
  assertString(skey, 'signer key');
  const parts = skey.startsWith(PRIVATE_KEY_PREFIX) ? splitKeyString(skey.slice(PRIVATE_KEY_PREFIX.length)) : undefined;
  if (parts === undefined) throw malformed('malformed signer key: expected PRIVATE+KEY+<name>+<key id>+<key>');
  const [name, idHex, b64] = parts;
  if (!isValidKeyName(name)) throw malformed('malformed signer key: invalid key name');
  const keyId = parseKeyIdHex(idHex);
  if (keyId === undefined) throw malformed('malformed signer key: key id must be 8 hex digits');
  const typed = fromBase64(b64);
  if (typed === undefined || typed.length !== 1 + ED25519_SEED_LENGTH || typed[0] !== SIG_TYPE_ED25519) {
    typed?.fill(0);
    throw malformed('malformed signer key: key must be base64 of 0x01 ‖ 32-byte Ed25519 seed');
  }
  const seed = typed.slice(1);
  typed.fill(0);
  return { name, keyId, seed };
}

/**
 * Formats Go's private key string `PRIVATE+KEY+<name>+<hex id>+base64(0x01 ‖ seed)`.
 * The result is a secret: store it like one.
 *
 * @throws {TypeError} On a non-string name or non-`Uint8Array` seed.
 * @throws {RangeError} On an invalid key name or a seed that is not 32 bytes.
 */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  const { keyId } = ed25519Signer(name, seed);
  return PRIVATE_KEY_PREFIX + keyString(name, keyId, SIG_TYPE_ED25519, seed);
}
