/**
 * Key layout of the query indexes (spec/storage.md, "Query indexes").
 *
 *   'x' tenant 0x00 F  ...  u64(block)          value: the block's members
 *
 * Entry indexes are grouped in blocks of 256 (block = floor(index / 256)).
 * A posting list is everything before u64(block); it has one key per block
 * holding at least one of its entries, and the key's value is the set of
 * offsets (index mod 256) in that block (encodePostings). Within one list,
 * byte order is block order, so each filter is one range scan in log order
 * and lists can be intersected by seeking (search.ts).
 *
 * Lists (F is one ASCII byte):
 *   'e'                    every entry of the tenant
 *   'r' run_id 0x00        's' session_id 0x00     'a' actor.id 0x00
 *   'n' action 0x00        (action.type and action.name)
 *   'd' decision 0x00      'p' approval.status 0x00  'v' approval.approver 0x00
 *   'g' target 0x00        (target.system and target.resource)
 *   'k' u8(floor(risk))    one list per whole risk point, 0..100
 *   'w' token 0x00         free-text words (tokens.ts)
 *   't' u64(first) u64(block), empty value: the tenant has entries in
 *                          `block`, the first of which was logged at `first`
 *                          (time windows: search.ts timeWindow)
 *
 * The single byte 'x' holds the index format version (INDEX_VERSION): data
 * folders of the older one-key-per-entry format have none and must be
 * reindexed (block-indexer.ts checkFormat).
 *
 * String values in keys are their UTF-8 bytes cut to VALUE_BYTES; values
 * never contain 0x00 (ids and labels exclude control characters, tokens are
 * letters and digits), so the separator is unambiguous. A cut value only
 * widens the scan: search re-checks every candidate against the record.
 */

import { concatBytes } from '../bytes/index.js';
import { PREFIX, writeU64 } from '../storage/layout.js';

export const INDEX_PREFIX = PREFIX.index; // 'x'

export const LIST = {
  all: 0x65, // 'e'
  run: 0x72, // 'r'
  session: 0x73, // 's'
  actor: 0x61, // 'a'
  action: 0x6e, // 'n'
  decision: 0x64, // 'd'
  approval: 0x70, // 'p'
  approver: 0x76, // 'v'
  target: 0x67, // 'g'
  risk: 0x6b, // 'k'
  word: 0x77, // 'w'
  time: 0x74, // 't'
} as const;

export type ListField = Exclude<keyof typeof LIST, 'all' | 'risk' | 'time'>;

/** Longest value (bytes) kept in a key. */
export const VALUE_BYTES = 200;

const enc = new TextEncoder();

/** `parts` joined, then `tail` zero bytes for the caller to fill. */
function concat(parts: readonly Uint8Array[], tail: number): Uint8Array {
  return concatBytes(...parts, new Uint8Array(tail));
}

/** 'x' tenant 0x00: the start of every key of one tenant. */
export function tenantPrefix(tenant: string): Uint8Array {
  const t = enc.encode(tenant);
  const k = new Uint8Array(t.length + 2);
  k[0] = INDEX_PREFIX;
  k.set(t, 1);
  return k;
}

export function valueBytes(value: string): Uint8Array {
  const b = enc.encode(value);
  return b.length > VALUE_BYTES ? b.subarray(0, VALUE_BYTES) : b;
}

/** The posting-list prefix: everything before u64(block). */
export function listPrefix(tenant: Uint8Array, field: number, value?: Uint8Array): Uint8Array {
  if (value === undefined) {
    const k = concat([tenant], 1);
    k[tenant.length] = field;
    return k;
  }
  const k = concat([tenant, new Uint8Array([field]), value], 1);
  k[k.length - 1] = 0;
  return k;
}

export function riskPrefix(tenant: Uint8Array, bucket: number): Uint8Array {
  const k = concat([tenant], 2);
  k[tenant.length] = LIST.risk;
  k[tenant.length + 1] = bucket;
  return k;
}

/** Entry indexes per block. */
export const BLOCK = 256;
/** Block values with this many members or more are bitmaps. */
export const BITMAP_FROM = 32;
const BITMAP_BYTES = BLOCK / 8;

/** A list prefix followed by u64(block). */
export function withBlock(prefix: Uint8Array, block: number): Uint8Array {
  const k = new Uint8Array(prefix.length + 8);
  k.set(prefix, 0);
  writeU64(k, prefix.length, block);
  return k;
}

export function timeKey(tenant: Uint8Array, first: number, block: number): Uint8Array {
  const k = new Uint8Array(tenant.length + 17);
  k.set(tenant, 0);
  k[tenant.length] = LIST.time;
  writeU64(k, tenant.length + 1, first);
  writeU64(k, tenant.length + 9, block);
  return k;
}

/**
 * The value of one block key: the offsets (0..255), ascending and distinct,
 * as bytes when fewer than BITMAP_FROM, else a 32-byte bitmap (offset o is
 * bit o & 7 of byte o >> 3, least significant first). The length tells
 * which; a value is never empty.
 */
export function encodePostings(offsets: readonly number[]): Uint8Array {
  if (offsets.length < BITMAP_FROM) return Uint8Array.from(offsets);
  const b = new Uint8Array(BITMAP_BYTES);
  for (const o of offsets) b[o >> 3]! |= 1 << (o & 7);
  return b;
}

/** The smallest member ≥ o (0..255) of a block value, or -1. */
export function nextMember(v: Uint8Array, o: number): number {
  if (v.length < BITMAP_BYTES) {
    for (let i = 0; i < v.length; i++) if (v[i]! >= o) return v[i]!;
    return -1;
  }
  for (let byte = o >> 3; byte < BITMAP_BYTES; byte++) {
    let bits = v[byte]!;
    if (byte === o >> 3) bits &= 0xff << (o & 7);
    if (bits !== 0) return byte * 8 + (31 - Math.clz32(bits & -bits));
  }
  return -1;
}

/** The largest member ≤ o (0..255) of a block value, or -1. */
export function prevMember(v: Uint8Array, o: number): number {
  if (v.length < BITMAP_BYTES) {
    for (let i = v.length - 1; i >= 0; i--) if (v[i]! <= o) return v[i]!;
    return -1;
  }
  for (let byte = o >> 3; byte >= 0; byte--) {
    let bits = v[byte]!;
    if (byte === o >> 3) bits &= 0xff >> (7 - (o & 7));
    if (bits !== 0) return byte * 8 + (31 - Math.clz32(bits));
  }
  return -1;
}

/** The u64 at the end of any index key: the block (inline: this runs for every key a search reads). */
export function keyBlock(key: Uint8Array): number {
  const o = key.length - 8;
  const hi = ((key[o]! << 24) | (key[o + 1]! << 16) | (key[o + 2]! << 8) | key[o + 3]!) >>> 0;
  const lo = ((key[o + 4]! << 24) | (key[o + 5]! << 16) | (key[o + 6]! << 8) | key[o + 7]!) >>> 0;
  const n = hi * 0x1_0000_0000 + lo;
  if (!Number.isSafeInteger(n)) throw new RangeError(`stored u64 ${n} exceeds 2^53`);
  return n;
}

/** Bounds of every index key, the version key included (for reindex). */
export const INDEX_RANGE = { gte: new Uint8Array([INDEX_PREFIX]), lt: new Uint8Array([INDEX_PREFIX + 1]) };

/** Bounds of the bucket `risk` falls in: 0..100, one per whole point. */
export function riskBucket(score: number): number {
  return Math.min(100, Math.max(0, Math.floor(score)));
}

/** The index format version: the value of the key 'x' (block-indexer.ts). */
export const INDEX_VERSION = 2;
export const VERSION_KEY = new Uint8Array([INDEX_PREFIX]);
