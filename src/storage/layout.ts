/**
 * LevelDB key layout of the log database (spec/storage.md is the contract).
 * Keys are binary with a one-byte ASCII prefix; integers are 8-byte
 * big-endian so that byte order equals numeric order and every per-prefix
 * range is one contiguous scan.
 *
 *   'H'                              → tree head (JSON: origin, size, root, checkpoint)
 *   'e' u64(index)                   → leaf bytes (the entry; bundles are ranges of these)
 *   't' u8(level) u64(tileIndex)     → hash tile: 32·W bytes, rewritten as it grows to 8,192
 *   'i' tenant 0x00 eventId          → u64(index) ‖ SHA-256(canonical event) (idempotency)
 *   'W'                              → latest witness-cosigned checkpoint (JSON: tree_size, checkpoint)
 *   'l' leafHash(32)                 → u64(index) (inclusion proofs by leaf hash)
 *   'k' keyId                        → API key record (JSON, token stored only as a hash)
 *   'K' eventId                      → a key change's event not yet known to be logged (JSON:
 *                                      tenant, event), written in the key record's synced batch,
 *                                      deleted once the event is in the log (key-events.ts)
 *   'p' u64(index)                   → prune marker (JSON: pruned_at, leaf_hash, tenant): the entry's
 *                                      leaf bytes were deleted after retention; its hash stays
 *   'P'                              → a prune's purge pending (JSON: first, last, index): written
 *                                      with its deletions, deleted once their range (and, with
 *                                      `index`, the query index range) is compacted; start-up
 *                                      and the next retention run finish what a crash cut off
 *   'R'                              → empty: the query indexes are incomplete (synced by a reindex
 *                                      before it clears them, and by a start with them off; deleted
 *                                      in a rebuild's last batch); a start with them on rebuilds
 *                                      them first (src/query/reindex.ts)
 *   'x' …                            → query indexes (src/query/keys.ts)
 *   'y'                              → empty: the fence, the largest key, written in each prune
 *                                      batch (FENCE_KEY)
 */

export const PREFIX = {
  head: 0x48, // 'H'
  entry: 0x65, // 'e'
  tile: 0x74, // 't'
  idem: 0x69, // 'i'
  witnessed: 0x57, // 'W'
  leafHash: 0x6c, // 'l'
  key: 0x6b, // 'k'
  keyEvent: 0x4b, // 'K'
  pruned: 0x70, // 'p'
  prunePurge: 0x50, // 'P'
  reindex: 0x52, // 'R'
  index: 0x78, // 'x': query indexes (src/query/keys.ts)
  fence: 0x79, // 'y'
} as const;

export function writeU64(out: Uint8Array, offset: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a u64-safe integer: ${n}`);
  putU64(out, offset, n);
}

/** writeU64 without the range check, for hot paths whose `n` is an index they computed. */
export function putU64(out: Uint8Array, offset: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 255;
  out[offset + 2] = (hi >>> 8) & 255;
  out[offset + 3] = hi & 255;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 255;
  out[offset + 6] = (lo >>> 8) & 255;
  out[offset + 7] = lo & 255;
}

export function readU64(b: Uint8Array, offset: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(offset) * 0x1_0000_0000 + dv.getUint32(offset + 4);
  if (!Number.isSafeInteger(n)) throw new RangeError(`stored u64 ${n} exceeds 2^53`);
  return n;
}

export const HEAD_KEY = new Uint8Array([PREFIX.head]);
export const PRUNE_PURGE_KEY = new Uint8Array([PREFIX.prunePurge]);
/** Present while the query indexes are incomplete: a reindex runs or was cut off, or a server ran with them off. */
export const REINDEX_KEY = new Uint8Array([PREFIX.reindex]);

/**
 * The largest key of the database, written in each prune batch. LevelDB
 * names the first and last key of every table file in its MANIFEST (until
 * the next start) and, for the tables a manual compaction reads, in its
 * diagnostic LOG (until the start after). The index keys sort last ('x'),
 * so without the fence the table a prune batch is flushed into would end
 * with the greatest index key it deletes (a word of a pruned entry, say),
 * and that key would outlive its deletion there; with it, those edges and
 * the compaction of the index range name this key.
 */
export const FENCE_KEY = new Uint8Array([PREFIX.fence]);

export function entryKey(index: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = PREFIX.entry;
  writeU64(k, 1, index);
  return k;
}

export function prunedKey(index: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = PREFIX.pruned;
  writeU64(k, 1, index);
  return k;
}

export function tileKey(level: number, index: number): Uint8Array {
  const k = new Uint8Array(10);
  k[0] = PREFIX.tile;
  k[1] = level;
  writeU64(k, 2, index);
  return k;
}

export function leafHashKey(leafHash: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + leafHash.length);
  k[0] = PREFIX.leafHash;
  k.set(leafHash, 1);
  return k;
}

const enc = new TextEncoder();

/** Tenant names cannot contain 0x00 (validated at the edge), so the separator is unambiguous. */
export function idemKey(tenant: string, eventId: string): Uint8Array {
  const t = enc.encode(tenant);
  const e = enc.encode(eventId);
  const k = new Uint8Array(1 + t.length + 1 + e.length);
  k[0] = PREFIX.idem;
  k.set(t, 1);
  k[1 + t.length] = 0;
  k.set(e, 2 + t.length);
  return k;
}

/** `prefix` ‖ UTF-8(text). */
function textKey(prefix: number, text: string): Uint8Array {
  const b = enc.encode(text);
  const k = new Uint8Array(1 + b.length);
  k[0] = prefix;
  k.set(b, 1);
  return k;
}

export function keyRecordKey(id: string): Uint8Array {
  return textKey(PREFIX.key, id);
}

/** A key change's pending event, by its event_id (the key-event outbox). */
export function keyEventKey(eventId: string): Uint8Array {
  return textKey(PREFIX.keyEvent, eventId);
}

/** [gte, lt) bounds of every key with this one-byte prefix. */
export function prefixRange(prefix: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: new Uint8Array([prefix]), lt: new Uint8Array([prefix + 1]) };
}
