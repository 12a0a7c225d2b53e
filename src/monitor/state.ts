/**
 * What a monitor remembers between runs: the last checkpoint it trusted and
 * the right edge of that tree (its partial tiles, at most 255 hashes per
 * level), which is all it needs to keep recomputing the tree from new leaves
 * without downloading the old ones again.
 *
 * The file is JSON, written to a temporary name and renamed, so a crash
 * leaves the old state or the new one, never half of each.
 */

import { readFile, rename, writeFile } from 'node:fs/promises';
import { bytesEqual, fromBase64, toBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { TileEdge, type Hasher } from '../merkle/index.js';
import { parseVerifierKey } from '../note/index.js';
import { verifyCheckpointWithKeys, type Checkpoint } from '../verifier/index.js';

export const STATE_VERSION = 1;

export interface MonitorState {
  /** The last trusted signed checkpoint, verbatim. */
  checkpoint: string;
  /** Its parsed body. */
  trusted: Checkpoint;
  /** The tree of `trusted.treeSize` leaves, recomputed by the monitor. */
  edge: TileEdge;
}

interface StateFile {
  version: number;
  verifier_key: string;
  checkpoint: string;
  /** Partial tile data by tile level, base64. */
  edge: Record<string, string>;
}

/** The keys (and origin) a state file is checked with. */
export interface StateKeys {
  /** The log's current verifier key; states are saved under it. */
  current: string;
  /**
   * The same log's keys from before a rotation (spec/security.md §5): a state
   * saved under one of them, its checkpoint signed by it, still loads, so the
   * monitor proves the log consistent across the rotation instead of starting over.
   */
  previous?: readonly string[];
  /** The expected checkpoint origin (default: the current key's name). */
  origin?: string;
}

/**
 * Loads a state file, or undefined if there is none. A damaged or foreign state file is an error, never silently reset.
 * Its checkpoint must verify with one of the keys (every signature by any of them must verify), for the expected origin.
 */
export async function loadState(path: string, keys: StateKeys, hasher: Hasher): Promise<MonitorState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let f: StateFile;
  try {
    f = JSON.parse(text) as StateFile;
  } catch (e) {
    throw new TlogError('MALFORMED', `the state file ${path} is not JSON`, { cause: e });
  }
  if (f.version !== STATE_VERSION || typeof f.checkpoint !== 'string' || typeof f.edge !== 'object' || f.edge === null)
    throw new TlogError('MALFORMED', `the state file ${path} is not a version ${STATE_VERSION} monitor state`);
  const all = [keys.current, ...(keys.previous ?? [])];
  if (!all.includes(f.verifier_key))
    throw new TlogError(
      'MALFORMED',
      `the state file ${path} belongs to another log key (${String(f.verifier_key)}); if it is this log's key from before a rotation, give it as a previous key (--previous-key)`,
    );
  const trusted = verifyCheckpointWithKeys(f.checkpoint, all, keys.origin ?? parseVerifierKey(keys.current).name);
  let edge: TileEdge;
  try {
    edge = TileEdge.restore(hasher, trusted.treeSize, (level) => {
      const b = f.edge[String(level)];
      return b === undefined ? undefined : fromBase64(b);
    });
  } catch (e) {
    throw new TlogError('MALFORMED', `the state file ${path} has a damaged tree edge`, { cause: e });
  }
  if (!bytesEqual(edge.root(), trusted.rootHash)) throw new TlogError('MALFORMED', `the state file ${path}: its tree edge does not match its checkpoint`);
  return { checkpoint: f.checkpoint, trusted, edge };
}

export async function saveState(path: string, verifierKey: string, s: MonitorState): Promise<void> {
  const edge: Record<string, string> = {};
  for (const t of s.edge.partialTiles()) edge[String(t.level)] = toBase64(t.data);
  const f: StateFile = { version: STATE_VERSION, verifier_key: verifierKey, checkpoint: s.checkpoint, edge };
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(f, null, 2) + '\n');
  await rename(tmp, path);
}
