/**
 * Rebuilding and checking the query indexes from the leaves (the server
 * must be stopped: LevelDB allows one process).
 *
 * The check re-derives every index key from the leaves with the same code
 * the commit path uses (block-indexer.ts, a block at a time) and compares
 * with what is stored: keys missing or with another value, and stored keys no
 * leaf explains. Old-format keys (one per entry) are all "extra".
 */

import { bytesEqual } from '../bytes/index.js';
import { entryKey, readU64 } from '../storage/layout.js';
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
  progress?.('clear', 0, 1);
  await store.db.clear(INDEX_RANGE);
  progress?.('clear', 1, 1);
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
  await batch.write({ sync: true });
  progress?.('rebuild', done, total);
  await store.compact(INDEX_RANGE.gte, INDEX_RANGE.lt);
  const after = await compareIndexes(store, 'verify', progress);
  return { before, after };
}
