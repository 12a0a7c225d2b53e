/**
 * The log's storage contract, implemented on one LevelDB (spec/storage.md).
 *
 * What the log asks of storage, and nothing more:
 *   1. `commit(batch)` is atomic and durable once it resolves: either every
 *      key of the batch is on disk (fsynced WAL) or none is.
 *   2. Reads see every commit that resolved before they started.
 *   3. Reads are safe concurrently with a commit (LevelDB snapshots per read).
 * Only the sequencer calls `commit`, one at a time.
 */

import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { fromBase64, toBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { openDb } from './open-db.js';
import { FENCE_KEY, HEAD_KEY, PRUNE_PURGE_KEY, entryKey, prunedKey, idemKey, leafHashKey, keyRecordKey, keyEventKey, prefixRange, PREFIX, readU64, tileKey, writeU64 } from './layout.js';

type Bytes = Uint8Array;

/** The latest signed tree head: what start-up reads instead of replaying the log. */
export interface StoredHead {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** The signed checkpoint note for (treeSize, rootHash), verbatim. */
  checkpoint: string;
}

export interface PruneMarker {
  prunedAt: number;
  leafHash: Uint8Array;
  /** The entry's tenant: a pruned entry is "not found" to other tenants' keys, as a stored one is. Absent in markers written before it was kept. */
  tenant?: string;
}

export interface IdemRecord {
  index: number;
  /** SHA-256 of the canonical CBOR of the event as stored. */
  eventHash: Uint8Array;
}

/** Everything one sequencer flush persists, in one synced LevelDB batch. */
export interface CommitBatch {
  entries: { index: number; leaf: Bytes; leafHash: Bytes }[];
  tiles: { level: number; index: number; data: Bytes }[];
  idem: { tenant: string; eventId: string; record: IdemRecord }[];
  /** Secondary index entries of these leaves (spec/storage.md, "Query indexes"). */
  index?: readonly { key: Bytes; value: Bytes }[];
  head: StoredHead;
}

export interface StoreOptions {
  /** LevelDB memtable size; bigger batches flush to disk less often. */
  writeBufferSize?: number;
  /** LevelDB block cache. */
  cacheSize?: number;
}

export class LogStore {
  private constructor(readonly db: Level<Bytes, Bytes>) {}

  static async open(dir: string, opts: StoreOptions = {}): Promise<LogStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const db = new Level<Bytes, Bytes>(dir, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      writeBufferSize: opts.writeBufferSize ?? 16 * 1024 * 1024,
      cacheSize: opts.cacheSize ?? 32 * 1024 * 1024,
    });
    await openDb(db, dir);
    return new LogStore(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async readHead(): Promise<StoredHead | undefined> {
    const v = await this.db.get(HEAD_KEY);
    if (v === undefined) return undefined;
    let j: { origin: string; tree_size: number; root_hash: string; checkpoint: string };
    try {
      j = JSON.parse(new TextDecoder().decode(v)) as typeof j;
    } catch (e) {
      throw new TlogError('STORE_CORRUPT', 'stored head does not parse', { cause: e });
    }
    const rootHash = typeof j.root_hash === 'string' ? fromBase64(j.root_hash) : undefined;
    if (!rootHash || !Number.isSafeInteger(j.tree_size) || typeof j.origin !== 'string' || typeof j.checkpoint !== 'string')
      throw new TlogError('STORE_CORRUPT', 'stored head does not parse');
    return { origin: j.origin, treeSize: j.tree_size, rootHash, checkpoint: j.checkpoint };
  }

  async readTile(level: number, index: number): Promise<Bytes | undefined> {
    return this.db.get(tileKey(level, index));
  }

  /** Tiles of one level by index, in one native call (undefined where none is stored). */
  async readTiles(level: number, indexes: readonly number[]): Promise<(Bytes | undefined)[]> {
    return indexes.length === 0 ? [] : this.db.getMany(indexes.map((i) => tileKey(level, i)));
  }

  async readEntry(index: number): Promise<Bytes | undefined> {
    return this.db.get(entryKey(index));
  }

  /** The prune marker of an entry whose leaf bytes were deleted after retention. */
  async readPruned(index: number): Promise<PruneMarker | undefined> {
    const v = await this.db.get(prunedKey(index));
    if (v === undefined) return undefined;
    const j = JSON.parse(new TextDecoder().decode(v)) as { pruned_at: number; leaf_hash: string; tenant?: unknown };
    const leafHash = fromBase64(j.leaf_hash);
    if (!leafHash || leafHash.length !== 32) throw new TlogError('STORE_CORRUPT', `prune marker ${index} does not parse`);
    return { prunedAt: j.pruned_at, leafHash, ...(typeof j.tenant === 'string' ? { tenant: j.tenant } : {}) };
  }

  /**
   * Deletes the leaf bytes of entries past retention, in one synced batch
   * that also writes each one's marker (with its leaf hash, so verify-store
   * can still rebuild the tree) and the query index changes their deletion
   * calls for (`index`: block-indexer.ts stagePrune), so after any crash the
   * leaves and the indexes still agree. Tiles are untouched: every proof
   * still verifies. The caller never passes an index at or beyond the signed
   * size.
   */
  async prune(entries: readonly { index: number; leafHash: Bytes; prunedAt: number; tenant?: string }[], index?: IndexChanges): Promise<void> {
    if (entries.length === 0) return;
    const b = this.db.batch();
    let first = Infinity;
    let last = -1;
    for (const e of entries) {
      b.del(entryKey(e.index));
      const marker = { pruned_at: e.prunedAt, leaf_hash: toBase64(e.leafHash), ...(e.tenant !== undefined ? { tenant: e.tenant } : {}) };
      b.put(prunedKey(e.index), new TextEncoder().encode(JSON.stringify(marker)));
      first = Math.min(first, e.index);
      last = Math.max(last, e.index);
    }
    // The index changes. A deleted key holds a value of the pruned entries (a word, a run id):
    // its bytes leave the files with the compaction of the index range (purgeEntries).
    for (const k of index?.del ?? []) b.del(k);
    for (const w of index?.put ?? []) b.put(w.key, w.value);
    const indexed = (index?.del.length ?? 0) > 0;
    // The fence: the database's largest key, in every batch, so the table file this batch is
    // flushed into ends with it rather than with its largest deleted index key (FENCE_KEY).
    b.put(FENCE_KEY, EMPTY);
    // The ranges whose bytes still wait for purgeEntries, in the same batch as the deletions:
    // a crash before the compaction leaves them for start-up (pendingPurge) to finish.
    const pending = await this.pendingPurge();
    // (An empty range, last < first: only the index compaction was left, deferred.)
    if (pending && pending.last >= pending.first) {
      first = Math.min(first, pending.first);
      last = Math.max(last, pending.last);
    }
    const record = { first, last, ...(indexed || pending?.index ? { index: true } : {}) };
    b.put(PRUNE_PURGE_KEY, new TextEncoder().encode(JSON.stringify(record)));
    await b.write({ sync: true });
  }

  /**
   * The pruned range whose compaction has not finished, if any (see prune):
   * entries [first, last], and whether index keys were deleted too (absent
   * from records written before prunes deleted index keys).
   */
  async pendingPurge(): Promise<PurgeRange | undefined> {
    const v = await this.db.get(PRUNE_PURGE_KEY);
    if (!v) return undefined;
    const r = JSON.parse(new TextDecoder().decode(v)) as { first?: unknown; last?: unknown; index?: unknown };
    if (!Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.last)) return undefined;
    return { first: r.first as number, last: r.last as number, index: r.index === true };
  }

  /**
   * The stored leaves of [start, end) in index order, with their indexes:
   * pruned entries have no leaf and are skipped. One iterator read per
   * `chunk` leaves (a retention scan over millions of entries: a get per
   * entry cost ~60-90 µs each).
   */
  async *scanEntries(start: number, end: number, chunk = 256): AsyncGenerator<[number, Bytes]> {
    const it = this.db.iterator({ gte: entryKey(start), lt: entryKey(end) });
    try {
      for (;;) {
        const got = await it.nextv(chunk);
        if (got.length === 0) return;
        for (const [k, v] of got) yield [readU64(k, 1), v];
      }
    } finally {
      await it.close();
    }
  }

  /** The last stored leaf below `end` (pruned entries have none), with its index: one seek, however many were pruned. */
  async lastStoredEntry(end: number): Promise<[number, Bytes] | undefined> {
    const it = this.db.iterator({ gte: entryKey(0), lt: entryKey(end), reverse: true, limit: 1 });
    try {
      const got = await it.next();
      return got === undefined ? undefined : [readU64(got[0], 1), got[1]];
    } finally {
      await it.close();
    }
  }

  /** The stored leaves of [start, end) with their indexes, as one array (scanEntries without a promise per leaf). */
  async readStoredEntries(start: number, end: number): Promise<[number, Bytes][]> {
    const it = this.db.iterator({ gte: entryKey(start), lt: entryKey(end) });
    try {
      const out: [number, Bytes][] = [];
      for (;;) {
        const got = await it.nextv(Math.max(1, end - start - out.length));
        if (got.length === 0) return out;
        for (const [k, v] of got) out.push([readU64(k, 1), v]);
      }
    } finally {
      await it.close();
    }
  }

  /** Leaves [start, start+count) in order; a missing leaf is a hole the caller must treat as corruption. */
  async readEntries(start: number, count: number): Promise<Bytes[]> {
    // nextv in as few calls as it takes: ~5× faster than async iteration,
    // which pays a promise per entry (an entry bundle reads 256 of them).
    const it = this.db.values({ gte: entryKey(start), lt: entryKey(start + count) });
    try {
      const out: Bytes[] = [];
      while (out.length < count) {
        const got = await it.nextv(count - out.length);
        if (got.length === 0) break;
        out.push(...got);
      }
      return out;
    } finally {
      await it.close();
    }
  }

  async readLeafIndex(leafHash: Uint8Array): Promise<number | undefined> {
    const v = await this.db.get(leafHashKey(leafHash));
    return v === undefined ? undefined : readU64(v, 0);
  }

  async readIdem(tenant: string, eventId: string): Promise<IdemRecord | undefined> {
    const v = await this.db.get(idemKey(tenant, eventId));
    if (v === undefined) return undefined;
    return { index: readU64(v, 0), eventHash: v.subarray(8, 40) };
  }

  /**
   * Writes the whole batch atomically with sync: the returned promise resolves
   * only after LevelDB fsynced its write-ahead log, so a `kill -9` (or power
   * loss) afterwards cannot lose any key of it, and a crash before leaves none.
   */
  async commit(batch: CommitBatch): Promise<void> {
    // A chained batch: abstract-level's array form clones every operation
    // object, which measured 3× slower per key here.
    const b = this.db.batch();
    for (const e of batch.entries) {
      b.put(entryKey(e.index), e.leaf);
      const v = new Uint8Array(8);
      writeU64(v, 0, e.index);
      b.put(leafHashKey(e.leafHash), v);
    }
    for (const t of batch.tiles) b.put(tileKey(t.level, t.index), t.data);
    for (const i of batch.idem) {
      const v = new Uint8Array(8 + i.record.eventHash.length);
      writeU64(v, 0, i.record.index);
      v.set(i.record.eventHash, 8);
      b.put(idemKey(i.tenant, i.eventId), v);
    }
    if (batch.index) for (const x of batch.index) b.put(x.key, x.value);
    b.put(HEAD_KEY, encodeHead(batch.head));
    await b.write({ sync: true });
  }

  /**
   * Writes the memtable to a table file and retires its write-ahead log
   * (compactRange flushes first; this range holds no key, so nothing is
   * compacted). Pruning flushes before its deletions and again after them:
   * a leaf and its deletion flushed into one table file both survive there
   * (a flush keeps every version, and compaction leaves a lone file at the
   * deepest level alone); in separate files, compaction merges them away.
   */
  async flushMemtable(): Promise<void> {
    await this.compact(new Uint8Array([0]), new Uint8Array([0, 1]));
  }

  /**
   * After pruning: flush, then compact the pruned entries (and, if index
   * keys were deleted, the whole index range up to the fence), so their
   * bytes leave the files; then the pending mark goes (if it still names no
   * more than this: a prune running meanwhile widened it).
   *
   * The index range is compacted whole, not from the least to the greatest
   * deleted key: each posting list is in block order, so a prune's deleted
   * keys (the oldest blocks) start every list it touches, and those lists
   * span nearly the whole range anyway. And LevelDB writes a manual
   * compaction's bounds into its diagnostic LOG file: bounds made of
   * deleted keys would put the very values the prune deletes there.
   */
  async purgeEntries(range: PurgeRange): Promise<void> {
    await this.flushMemtable();
    if (range.last >= range.first) await this.compact(entryKey(range.first), entryKey(range.last + 1));
    // LevelDB's bounds are inclusive: the fence is in the range, so each level's last table compacted ends with it.
    if (range.index) await this.compact(prefixRange(PREFIX.index).gte, FENCE_KEY);
    const pending = await this.pendingPurge();
    if (!pending || (pending.last >= pending.first && (pending.first < range.first || pending.last > range.last))) return;
    if (range.index || !pending.index) await this.db.del(PRUNE_PURGE_KEY);
    // The entries are done and the index compaction deferred (a scheduled sweep): only that stays pending.
    else await this.db.put(PRUNE_PURGE_KEY, new TextEncoder().encode(JSON.stringify({ first: 0, last: -1, index: true })));
  }

  /**
   * Start-up, before anything else reads the store: finishes a prune that a
   * crash or a stop cut off between its deletions and its compaction (see
   * prune), then reopens the database. LevelDB writes a new MANIFEST at each
   * open, naming the first and last key of every table; the one this open
   * wrote named the tables the compaction has just removed, whose edges may
   * be index keys the prune deleted. The reopen writes one naming only the
   * tables left. True if there was a prune to finish.
   */
  async recoverPurge(): Promise<boolean> {
    const pending = await this.pendingPurge();
    if (!pending) return false;
    await this.purgeEntries(pending);
    await this.db.close();
    await openDb(this.db, (this.db as unknown as { location: string }).location);
    return true;
  }

  /**
   * Before a prune's first deletion: the fence (FENCE_KEY), then a flush of
   * the memtable. The table file written then holds the leaves and index
   * keys the prune is about to delete, apart from their deletions (see
   * flushMemtable); the fence makes it end with itself, not with the
   * greatest index key written since the last flush (on a quiet log, a key
   * of the very entries being pruned).
   */
  async beginPrune(): Promise<void> {
    await this.db.put(FENCE_KEY, EMPTY);
    await this.flushMemtable();
  }

  /** Forces LevelDB to rewrite the key range into new tables (drops overwritten and deleted bytes). */
  async compact(start: Bytes, end: Bytes): Promise<void> {
    // classic-level has compactRange; the abstract-level typings do not declare it.
    await (this.db as unknown as { compactRange(a: Bytes, b: Bytes): Promise<void> }).compactRange(start, end);
  }

  // --- Witness cosignatures: outside the commit path (spec/witness.md). ---

  /** The latest witness-cosigned checkpoint, or undefined if none or unreadable (it is re-collected). */
  async readWitnessed(): Promise<{ treeSize: number; checkpoint: string } | undefined> {
    const v = await this.db.get(WITNESSED);
    if (v === undefined) return undefined;
    try {
      const j = JSON.parse(new TextDecoder().decode(v)) as { tree_size?: unknown; checkpoint?: unknown };
      return Number.isSafeInteger(j.tree_size) && typeof j.checkpoint === 'string' ? { treeSize: j.tree_size as number, checkpoint: j.checkpoint } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Not synced: losing it costs one round of re-collection, never a wrong answer. */
  async writeWitnessed(c: { treeSize: number; checkpoint: string }): Promise<void> {
    await this.db.put(WITNESSED, new TextEncoder().encode(JSON.stringify({ tree_size: c.treeSize, checkpoint: c.checkpoint })));
  }

  // --- API keys: small, rare writes, each synced on its own. ---

  /**
   * Writes a key record. With `pending` (a key change), the event that logs the
   * change goes into the key-event outbox (`K`) in the same synced batch: a
   * crash can no longer leave the change in force with its event never logged
   * (key-events.ts relogKeyEvents).
   */
  async putKeyRecord(id: string, record: unknown, pending?: { tenant: string; event: { event_id: string } }): Promise<void> {
    const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    if (pending === undefined) return this.db.put(keyRecordKey(id), json(record), { sync: true });
    await this.db.batch(
      [
        { type: 'put', key: keyRecordKey(id), value: json(record) },
        { type: 'put', key: keyEventKey(pending.event.event_id), value: json(pending) },
      ],
      { sync: true },
    );
  }

  /** The key-event outbox: key changes' events not yet known to be in the log. */
  async pendingKeyEvents(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const v of this.db.values(prefixRange(PREFIX.keyEvent))) out.push(JSON.parse(new TextDecoder().decode(v)));
    return out;
  }

  /** The event is in the log: out of the outbox. Not synced: a lost deletion only means a look-up at the next start. */
  async keyEventLogged(eventId: string): Promise<void> {
    await this.db.del(keyEventKey(eventId));
  }

  async *keyRecords(): AsyncGenerator<unknown> {
    for await (const v of this.db.values(prefixRange(PREFIX.key))) yield JSON.parse(new TextDecoder().decode(v));
  }
}

/** Query index changes joining a prune's batch (block-indexer.ts stagePrune). */
export interface IndexChanges {
  readonly del: readonly Bytes[];
  readonly put: readonly { key: Bytes; value: Bytes }[];
}

/** What a prune leaves for purgeEntries to compact: entries [first, last], and the index range if it deleted index keys. */
export interface PurgeRange {
  first: number;
  last: number;
  index: boolean;
}

const EMPTY = new Uint8Array(0);

/** Key of the latest witness-cosigned checkpoint (layout.ts). */
const WITNESSED = new Uint8Array([PREFIX.witnessed]);

function encodeHead(h: StoredHead): Bytes {
  return new TextEncoder().encode(
    JSON.stringify({ origin: h.origin, tree_size: h.treeSize, root_hash: toBase64(h.rootHash), checkpoint: h.checkpoint }),
  );
}
