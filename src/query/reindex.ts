/**
 * Rebuilding and checking the query indexes from the leaves (the server
 * must be stopped: LevelDB allows one process).
 *
 * The check re-derives every index key from the leaves with the same code
 * the commit path uses (block-indexer.ts, a block at a time) and compares
 * with what is stored: keys missing or with another value, and stored keys no
 * leaf explains. Old-format keys (one per entry) are all "extra".
 *
 * The rebuild is redone from the start after a crash (rebuildIndexes: the
 * `R` marker), and the server never serves indexes a rebuild left incomplete.
 */

import { bytesEqual } from '../bytes/index.js';
import { entryKey, readU64, REINDEX_KEY } from '../storage/layout.js';
import type { LogStore } from '../storage/store.js';
import { deriveIndex } from './block-indexer.js';
import { INDEX_RANGE } from './keys.js';

export interface IndexComparison {
  entries: number;
  /** Distinct index keys the leaves call for (the version key included). */
  expected: number;
  /** Of those, absent or with a different value. */
  missing: number;
  /** Index entries stored. */
  stored: number;
  /** Stored entries no leaf calls for. */
  extra: number;
}

export type Progress = (phase: 'check' | 'clear' | 'rebuild' | 'verify', done: number, total: number) => void;

const CHUNK = 2048;
const EMPTY = new Uint8Array(0);

/** Stored leaves with their indexes (pruned ones are absent). */
async function* leaves(store: LogStore, total: number): AsyncGenerator<[number, Uint8Array]> {
  for await (const [k, leaf] of store.db.iterator({ gte: entryKey(0), lt: entryKey(total) })) yield [readU64(k, 1), leaf];
}

export async function compareIndexes(store: LogStore, phase: 'check' | 'verify' = 'check', progress?: Progress): Promise<IndexComparison> {
  const total = (await store.readHead())?.treeSize ?? 0;
  let entries = 0;
  let expected = 0;
  let missing = 0;
  let keys: Uint8Array[] = [];
  let values: Uint8Array[] = [];
  // Keys of one block are distinct; across blocks they differ by the block suffix.
  const flush = async () => {
    if (keys.length === 0) return;
    const got = await store.db.getMany(keys);
    got.forEach((v, i) => {
      if (v === undefined || !bytesEqual(v, values[i]!)) missing++;
    });
    expected += keys.length;
    keys = [];
    values = [];
  };
  const counted = () => {
    entries++;
    if (progress && entries % 5000 === 0) progress(phase, entries, total);
  };
  for await (const writes of deriveIndex(leaves(store, total), counted)) {
    for (const w of writes) {
      keys.push(w.key);
      values.push(w.value);
    }
    if (keys.length >= CHUNK) await flush();
  }
  await flush();
  progress?.(phase, entries, total);
  let stored = 0;
  for await (const _ of store.db.keys(INDEX_RANGE)) stored++;
  return { entries, expected, missing, stored, extra: stored - (expected - missing) };
}

export const agrees = (c: IndexComparison): boolean => c.missing === 0 && c.extra === 0;

export interface ReindexReport {
  before: IndexComparison;
  after: IndexComparison;
}

/** Drops every index key (any format), rebuilds them from the leaves, then checks the result. */
export async function reindex(store: LogStore, progress?: Progress): Promise<ReindexReport> {
  const before = await compareIndexes(store, 'check', progress);
  await rebuildIndexes(store, progress);
  const after = await compareIndexes(store, 'verify', progress);
  return { before, after };
}

/**
 * The `R` marker is there: the query indexes are incomplete until a rebuild
 * finishes — a reindex was cut off (kill -9, Ctrl-C, a full disk) and left
 * them anywhere between cleared and rebuilt, or a server ran with query
 * indexes off and may have logged entries they lack (markIndexesIncomplete).
 */
export async function reindexInterrupted(store: LogStore): Promise<boolean> {
  return (await store.db.get(REINDEX_KEY)) !== undefined;
}

/**
 * Sets the marker (synced) before anything makes the indexes incomplete: a
 * rebuild's clear, or a server starting with query indexes off (its appends
 * write no index keys). The next start with indexes on then rebuilds them.
 */
export async function markIndexesIncomplete(store: LogStore): Promise<void> {
  if (!(await reindexInterrupted(store))) await store.db.put(REINDEX_KEY, EMPTY, { sync: true });
}

/**
 * Rewrites the whole index range from the leaves. Crash-safe by a marker
 * (`R`, spec/storage.md), not by atomicity: the range is far too big for one
 * batch, so a crash can leave it anywhere between cleared and rebuilt, and the
 * marker says so until the rebuild is complete.
 *
 * Running it again from the start is always right (the keys are a pure
 * function of the leaves), so a cut-off rebuild is redone, never resumed:
 * `agent-tlog serve` does that at start-up (server.ts), and until then
 * checkFormat refuses to serve the incomplete indexes.
 */
export async function rebuildIndexes(store: LogStore, progress?: Progress): Promise<number> {
  // 1. The marker, synced before anything is deleted: every state a crash
  //    can leave from here on (index keys partly cleared, partly rewritten, no
  //    version key) has the marker beside it.
  await markIndexesIncomplete(store);
  // 2. Drop every index key. Not synced and not atomic: it does not need to be,
  //    since the marker is durable already and step 4's synced batch, later in
  //    LevelDB's write-ahead log, makes every earlier write durable with it.
  progress?.('clear', 0, 1);
  await store.db.clear(INDEX_RANGE);
  progress?.('clear', 1, 1);
  // 3. The keys the leaves call for, in unsynced batches (same argument as 2).
  const total = (await store.readHead())?.treeSize ?? 0;
  let batch = store.db.batch();
  let n = 0;
  let done = 0;
  for await (const writes of deriveIndex(leaves(store, total), () => done++)) {
    for (const w of writes) {
      batch.put(w.key, w.value);
      n++;
    }
    if (n >= 20_000) {
      await batch.write();
      batch = store.db.batch();
      n = 0;
      progress?.('rebuild', done, total);
    }
  }
  // 4. The last batch (deriveIndex ends with the version key) also removes the
  //    marker, synced: the version key and the marker's removal land together,
  //    after every other index key (WAL order), so no crash leaves a version
  //    key without the whole index, or the index without the marker gone.
  batch.del(REINDEX_KEY);
  await batch.write({ sync: true });
  progress?.('rebuild', done, total);
  // 5. Compaction only reorganises files: a crash in it loses nothing.
  await store.compact(INDEX_RANGE.gte, INDEX_RANGE.lt);
  return done;
}
