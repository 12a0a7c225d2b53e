/**
 * Lexical rules shared by the signed-note family: key names, key IDs, canonical
 * decimals and canonical base64. Parsers here return `undefined` on bad input so
 * each caller can say what it was parsing in its `MALFORMED` message.
 *
 * @module
 */

import { fromBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';

/**
 * Builds the error for attacker-controllable input that does not parse.
 * Messages say what was wrong, never echo the input (which may be huge or hostile).
 */
export function malformed(message: string): TlogError {
  return new TlogError('MALFORMED', message);
}

/**
 * Characters a key name may not contain (signed-note §Signatures: "non-empty, no
 * Unicode whitespace, no `+`"). `\p{White_Space}` is the same set as Go's
 * `unicode.IsSpace`. We also exclude C0 controls and unpaired surrogates: a name
 * with them could never appear in a valid note anyway (the note forbids both).
 */
const NAME_FORBIDDEN = /[+\p{White_Space}\x00-\x1f\uD800-\uDFFF]/u;

/** True if `name` is a valid signed-note key name (non-empty, no whitespace, no `+`). */
export function isValidKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !NAME_FORBIDDEN.test(name);
}

/**
 * Exactly 8 hex digits. signed-note prints lowercase; Go's parser (`ParseUint(s, 16, 32)`
 * after a length check) also accepts uppercase, and so do we.
 */
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;

/** Parses an 8-hex-digit key ID into a uint32, or `undefined`. */
export function parseKeyIdHex(s: string): number | undefined {
  return KEY_ID_HEX.test(s) ? parseInt(s, 16) : undefined;
}

/** Formats a uint32 key ID as 8 lowercase hex digits. */
export function formatKeyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** Reads a big-endian uint32 (key IDs are big-endian, signed-note §Key ID). */
export function readUint32BE(b: Uint8Array, offset: number): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

/** Writes a big-endian uint32. */
export function writeUint32BE(b: Uint8Array, offset: number, value: number): void {
  b[offset] = value >>> 24;
  b[offset + 1] = (value >>> 16) & 0xff;
  b[offset + 2] = (value >>> 8) & 0xff;
  b[offset + 3] = value & 0xff;
}

/**
 * ASCII decimal with no sign and no leading zeros (tlog-checkpoint: "decimal, no
 * leading zeros"; tlog-proof: "no leading zeroes (unless the index is `0`)").
 * At most 16 digits so the regex bounds the work before `Number()` runs.
 */
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Parses a canonical decimal that must fit a JS safe integer (≤ 2^53 − 1).
 * Larger values are rejected rather than rounded: a silently wrong size would
 * verify against the wrong tree.
 */
export function parseCanonicalUint(s: string): number | undefined {
  if (!CANONICAL_DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Value of a base64 alphabet character (assumed valid: called after `fromBase64` succeeded). */
function b64Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  return c === 43 ? 62 : 63; // '+' or '/'
}

/**
 * Strict standard padded base64 (RFC 4648 §4 and §3.5): like `fromBase64` but also
 * rejects non-zero trailing bits, so every byte string has exactly one accepted
 * encoding and format(parse(x)) === x holds for the fields that use it (checkpoint
 * root, tlog-proof hashes and extra). Signature blobs deliberately do NOT use it
 * (see note.ts).
 */
export function decodeBase64Canonical(s: string): Uint8Array | undefined {
  const bytes = fromBase64(s);
  if (bytes === undefined) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (pad > 0) {
    // One pad char leaves 2 unused low bits in the last data char, two leave 4.
    const mask = pad === 1 ? 0b11 : 0b1111;
    if ((b64Value(s.charCodeAt(s.length - pad - 1)) & mask) !== 0) return undefined;
  }
  return bytes;
}
