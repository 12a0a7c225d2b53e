/**
 * verify-store: re-derives the whole tree from the stored leaves and checks
 * it against the stored tiles and the signed head. Read-only. The first
 * discrepancy is reported with the entry index (or tile) where it starts.
 */

import { bytesEqual, toBase64 } from '../bytes/index.js';
import { decodeRecord } from '../events/index.js';
import { HASH_SIZE, type Hasher, TileEdge, type EdgeTile } from '../merkle/index.js';
import { openCheckpoint, type NoteVerifier } from '../note/index.js';
import { entryKey } from '../storage/layout.js';
import type { LogStore } from '../storage/store.js';

export interface FsckProblem {
  /** First entry index affected, when one can be named. */
  index?: number;
  what: string;
}

export interface FsckReport {
  treeSize: number;
  rootHash: string;
  entriesChecked: number;
  problems: FsckProblem[];
}

export async function verifyStore(
  store: LogStore,
  hasher: Hasher,
  verifier: NoteVerifier,
  onProgress?: (done: number, total: number) => void,
): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const head = await store.readHead();
  if (!head) return { treeSize: 0, rootHash: '', entriesChecked: 0, problems: [{ what: 'no tree head: not a log data folder' }] };
  const report = (p: FsckProblem) => problems.push(p);

  // The head's checkpoint must be validly signed and name the head's size and root.
  try {
    const { checkpoint } = openCheckpoint(head.checkpoint, [verifier], head.origin);
    if (checkpoint.treeSize !== head.treeSize || !bytesEqual(checkpoint.rootHash, head.rootHash))
      report({ what: 'the signed checkpoint does not match the stored head' });
  } catch (e) {
    report({ what: `the stored checkpoint does not verify: ${(e as Error).message}` });
  }

  const edge = TileEdge.empty(hasher);
  const checkTile = async (t: EdgeTile, full: boolean) => {
    const stored = await store.readTile(t.level, t.index);
    const want = t.data;
    if (!stored || stored.length < want.length || (full && stored.length !== want.length) || !bytesEqual(stored.subarray(0, want.length), want)) {
      // Name the first leaf whose hash differs (level 0), else the tile.
      let index: number | undefined;
      if (t.level === 0) {
        for (let i = 0; i * HASH_SIZE < want.length; i++) {
          const a = stored?.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
          if (!a || a.length < HASH_SIZE || !bytesEqual(a, want.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) {
            index = t.index * 256 + i;
            break;
          }
        }
      }
      report({ ...(index !== undefined ? { index } : {}), what: `hash tile ${t.level}/${t.index} does not match the leaves` });
    }
  };

  let expected = 0;
  for await (const [key, leaf] of store.db.iterator({ gte: entryKey(0), lt: entryKey(Number.MAX_SAFE_INTEGER) })) {
    const index = readIndex(key);
    // Entries pruned after retention are holes with a marker: their leaf hash
    // comes from the marker, and the tiles and root must still agree with it.
    while (expected < index && expected < head.treeSize) {
      const m = await store.readPruned(expected);
      if (!m) break;
      edge.append(m.leafHash);
      for (const t of edge.takeChanges().completed) await checkTile(t, true);
      expected++;
    }
    if (problems.length > 0) break;
    if (index !== expected) {
      report({ index: expected, what: index > expected ? `entries ${expected}..${index - 1} are missing` : `unexpected entry key ${index}` });
      break;
    }
    if (index >= head.treeSize) {
      report({ index, what: `entry ${index} lies beyond the signed tree size ${head.treeSize}` });
      break;
    }
    try {
      decodeRecord(leaf);
    } catch (e) {
      report({ index, what: `entry ${index} is not a canonical record: ${(e as Error).message}` });
    }
    edge.append(hasher.hashLeaf(leaf));
    for (const t of edge.takeChanges().completed) await checkTile(t, true);
    expected++;
    if (onProgress && expected % 10_000 === 0) onProgress(expected, head.treeSize);
    if (problems.length > 0) break;
  }
  while (problems.length === 0 && expected < head.treeSize) {
    const m = await store.readPruned(expected);
    if (!m) break;
    edge.append(m.leafHash);
    for (const t of edge.takeChanges().completed) await checkTile(t, true);
    expected++;
  }
  if (problems.length === 0 && expected < head.treeSize) report({ index: expected, what: `entries ${expected}..${head.treeSize - 1} are missing` });
  if (problems.length === 0) {
    for (const t of edge.partialTiles()) await checkTile(t, false);
    const root = edge.root();
    if (!bytesEqual(root, head.rootHash)) report({ what: `the root recomputed from the leaves (${toBase64(root)}) is not the signed root` });
  }
  onProgress?.(expected, head.treeSize);
  return { treeSize: head.treeSize, rootHash: toBase64(head.rootHash), entriesChecked: expected, problems };
}

function readIndex(key: Uint8Array): number {
  const dv = new DataView(key.buffer, key.byteOffset + 1, 8);
  return dv.getUint32(0) * 0x1_0000_0000 + dv.getUint32(4);
}
