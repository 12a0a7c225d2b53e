/**
 * The vault's random ids: pointers (`pii_…`, one per value, in the leaf)
 * and pseudonyms (`ps_…`, one per subject). 128 random bits each, never
 * derived from personal data, so a key or a leaf that holds one names no
 * one.
 */

import { random } from './crypto.js';

/** Random bytes an id is made from (22 base64url characters use 132 bits: 128 are kept). */
export const ID_RANDOM_BYTES = 17;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export const POINTER_PATTERN = /^pii_[A-Za-z0-9_-]{22}$/;
export const PSEUDONYM_PATTERN = /^ps_[A-Za-z0-9_-]{22}$/;

/** 16 random bytes as 22 base64url characters after `prefix`. */
export function randomId(prefix: string): string {
  return idFrom(prefix, random(ID_RANDOM_BYTES)).text;
}

/**
 * The id made from ID_RANDOM_BYTES bytes `b` (drawn by the caller, so one
 * draw can serve many ids), with its ASCII bytes: a pointer is a key, a key
 * part, a record field and an AAD, so it is encoded once.
 */
export function idFrom(prefix: string, b: Uint8Array): { text: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(prefix.length + 22);
  for (let i = 0; i < prefix.length; i++) bytes[i] = prefix.charCodeAt(i);
  // 22 chars × 6 bits = 132 bits; the top 4 of the last byte are dropped (128 bits kept).
  for (let i = 0; i < 22; i++) {
    const bit = i * 6;
    const byte = bit >> 3;
    const off = bit & 7;
    const v = ((b[byte]! << 8) | b[byte + 1]!) >> (10 - off);
    bytes[prefix.length + i] = ID_ALPHABET.charCodeAt(v & 63);
  }
  // apply(), not a spread: spreading a typed array walks its iterator (several times slower).
  return { text: String.fromCharCode.apply(null, bytes as unknown as number[]), bytes };
}
