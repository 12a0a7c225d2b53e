/**
 * The monitor's one job: move trust from the last checkpoint it verified to
 * the log's latest one, proving on the way that the log only appended.
 *
 *  1. the new checkpoint is signed by the log's current key (a key from
 *     before a rotation only vouches for the trusted checkpoint; and passes any extra
 *     checkpoint checks, the seam for witness policies);
 *  2. it is not smaller than the trusted one (rollback), not a different
 *     root at the same size, and a consistency proof links the two (fork);
 *  3. every new leaf is downloaded (entry bundles), hashed, and appended to
 *     the trusted tree's right edge; each leaf hash must equal the level-0
 *     hash tile, every tile the log serves must equal the one recomputed
 *     from the leaves, each leaf must be a canonical v1 record, and the
 *     recomputed root must be the signed root.
 *
 * When the log misbehaves it throws a MonitorAlarm carrying evidence: the
 * signed checkpoints and the served bytes that a third party can re-check
 * with nothing but the log's verifier key.
 */

import { bytesEqual, toBase64 } from '../bytes/index.js';
import { TlogError, type ErrorCode } from '../errors.js';
import { HASH_SIZE, parseEntryBundle, TILE_WIDTH, TileEdge, tilePath, tileWidth, type EdgeTile, type Hasher, type TileId } from '../merkle/index.js';
import { checkRecordLeaf } from '../events/leaf.js';
import { verifyCheckpoint, verifyConsistency, type Checkpoint } from '../verifier/index.js';
import { isGone, type LogClient } from './client.js';
import type { MonitorState } from './state.js';

/**
 * A check on each new checkpoint before it is trusted. Throw (a TlogError)
 * to refuse it. This is where a witness cosignature policy plugs in.
 */
export type CheckpointCheck = (signedNote: string, checkpoint: Checkpoint) => void | Promise<void>;

export interface MonitorOptions {
  /** The log's current key: every new checkpoint must be signed by it. */
  verifierKey: string;
  /**
   * The log's keys from before a rotation, which may have signed the trusted
   * checkpoint (loadState checks it): named in the evidence, so a third party
   * can re-check it. Never enough for a new checkpoint: a retired key may leak.
   */
  previousVerifierKeys?: readonly string[];
  /** Expected origin (default: the key's name). */
  origin?: string;
  /** RFC 6962 hasher (the CLI passes node:crypto's SHA-256 for speed). */
  hasher: Hasher;
  /** Check that each leaf is a canonical v1 record (default true). */
  decodeLeaves?: boolean;
  /** Tiles (bundle + hash tile pairs) fetched ahead (default 8). */
  concurrency?: number;
  /**
   * Ask the log for a consistency proof to each new checkpoint (default
   * true): when it fails, it goes into the fork evidence. Off for static
   * tlog-tiles logs that serve no proofs: recomputing the new root from the
   * trusted tree's edge and the new leaves proves consistency on its own.
   */
  consistencyProofs?: boolean;
  onProgress?: (done: number, total: number) => void;
  checkpointChecks?: readonly CheckpointCheck[];
}

/** What the monitor writes when the log misbehaved. Self-contained: re-checkable with the verifier key alone. */
export interface Evidence {
  kind: 'fork' | 'rollback' | 'bad-tile' | 'bad-leaf';
  code: ErrorCode;
  message: string;
  /** The log's key, and (after a rotation) its earlier keys that may have signed the trusted checkpoint. */
  log: { url: string; verifier_key: string; previous_verifier_keys?: string[] };
  detected_at: string;
  /** Signed checkpoints, verbatim: [last trusted, newly served] (or just the served one). */
  checkpoints: string[];
  consistency_proof?: { from: number; to: number; proof: string[] };
  /** First leaf index affected. */
  index?: number;
  tile?: { path: string; served: string; expected?: string };
  bundle?: { path: string; served: string };
}

export class MonitorAlarm extends TlogError {
  readonly evidence: Evidence;
  constructor(evidence: Evidence) {
    super(evidence.code, evidence.message, { details: { kind: evidence.kind } });
    this.name = 'MonitorAlarm';
    this.evidence = evidence;
  }
}

export interface CatchUpResult {
  state: MonitorState;
  /** Leaves downloaded and verified in this run. */
  entries: number;
  /**
   * New entries the log answers 410 for (pruned past retention): their hash
   * from the hash tile goes into the tree, so the tree and its root are
   * still checked, but their contents are not. A bundle that holds one
   * answers 410 too; its other entries are then read one by one and
   * checked like any leaf.
   */
  unchecked: number;
  /** The first (up to 100) of those entries' indexes. */
  uncheckedIndexes: number[];
}


/**
 * Verifies the log's latest checkpoint against `state` (undefined: trust on
 * first use, verify from leaf 0) and returns the new state. Does not write it.
 *
 * @throws MonitorAlarm LOG_FORK, LOG_ROLLBACK, BAD_TILE, NOT_CANONICAL or MALFORMED (a bad leaf).
 * @throws TlogError BAD_SIGNATURE, UNKNOWN_KEY, WRONG_ORIGIN, MALFORMED (an unsigned or
 *   unparsable checkpoint proves nothing, so no evidence), LOG_UNREACHABLE.
 */
export async function catchUp(client: LogClient, state: MonitorState | undefined, opts: MonitorOptions): Promise<CatchUpResult> {
  const { hasher } = opts;
  const note = await client.checkpoint();
  const cp = verifyCheckpoint(note, opts.verifierKey, opts.origin);
  for (const check of opts.checkpointChecks ?? []) await check(note, cp);

  const previous = opts.previousVerifierKeys?.length ? { previous_verifier_keys: [...opts.previousVerifierKeys] } : {};
  const base = { log: { url: client.url, verifier_key: opts.verifierKey, ...previous }, detected_at: new Date().toISOString() };
  const alarm = (e: Omit<Evidence, 'log' | 'detected_at'>) => new MonitorAlarm({ ...e, ...base });
  const trusted = state?.trusted;
  const n0 = trusted?.treeSize ?? 0;
  const n1 = cp.treeSize;

  if (trusted && n1 < n0) {
    throw alarm({
      kind: 'rollback',
      code: 'LOG_ROLLBACK',
      message: `the log serves a signed tree of ${n1} entries after signing one of ${n0}`,
      checkpoints: [state.checkpoint, note],
    });
  }
  if (trusted && n1 === n0) {
    if (!bytesEqual(trusted.rootHash, cp.rootHash))
      throw alarm({ kind: 'fork', code: 'LOG_FORK', message: `two signed trees of ${n0} entries with different roots`, checkpoints: [state.checkpoint, note] });
    // The same tree: keep the newly served note, signed by the current key (the trusted one may be by a previous key only).
    return { state: { ...state, checkpoint: note, trusted: cp }, entries: 0, unchecked: 0, uncheckedIndexes: [] };
  }
  if (trusted && n0 > 0 && opts.consistencyProofs !== false) {
    const proof = await client.consistencyProof(n0, n1);
    try {
      verifyConsistency(n0, n1, proof, trusted.rootHash, cp.rootHash);
    } catch (e) {
      if (!(e instanceof TlogError)) throw e;
      throw alarm({
        kind: 'fork',
        code: 'LOG_FORK',
        message: `the signed tree of ${n1} entries does not extend the trusted tree of ${n0}: ${e.message}`,
        checkpoints: [state.checkpoint, note],
        consistency_proof: { from: n0, to: n1, proof: proof.map(toBase64) },
      });
    }
  }

  const edge = state ? state.edge.clone() : TileEdge.empty(hasher);
  edge.takeChanges();
  const decode = opts.decodeLeaves ?? true;
  const badTile = (message: string, id: TileId, served: Uint8Array, extra: Partial<Evidence> = {}) =>
    alarm({ kind: 'bad-tile', code: 'BAD_TILE', message, checkpoints: [note], tile: { path: tilePath(id), served: toBase64(served) }, ...extra });

  /** Compares a tile recomputed from the leaves with the one the log serves. */
  const compare = async (t: EdgeTile, served?: Uint8Array) => {
    const id = { level: t.level, index: t.index, width: t.data.length / HASH_SIZE };
    const got = served ?? (await client.tile(id));
    if (!bytesEqual(got, t.data))
      throw alarm({
        kind: 'bad-tile',
        code: 'BAD_TILE',
        message: `hash tile ${tilePath(id)} does not match the tile recomputed from the leaves`,
        checkpoints: [note],
        tile: { path: tilePath(id), served: toBase64(got), expected: toBase64(t.data) },
      });
  };

  const first = Math.floor(n0 / TILE_WIDTH);
  const end = Math.ceil(n1 / TILE_WIDTH);
  const fetchPair = (k: number) => {
    const width = tileWidth(0, k, n1);
    const b: TileId = { level: 'entries', index: k, width };
    const t: TileId = { level: 0, index: k, width };
    const served = client.tile(b).catch((e: unknown) => {
      if (isGone(e)) return undefined;
      throw e;
    });
    return Promise.all([served, client.tile(t)]).then(([bundle, tile]) => ({ k, width, b, t, bundle, tile }));
  };
  const ahead = Math.max(1, opts.concurrency ?? 8);
  const queue: Promise<Awaited<ReturnType<typeof fetchPair>>>[] = [];
  let next = first;
  const fill = () => {
    while (queue.length < ahead && next < end) {
      const p = fetchPair(next++);
      // A prefetch may fail before the loop awaits it, or never be awaited (after an alarm): a
      // handler from the start keeps that from being an unhandled rejection (which kills the
      // process); the loop still gets the error when it awaits this promise.
      p.catch(() => undefined);
      queue.push(p);
    }
  };

  let entries = 0;
  let unchecked = 0;
  const uncheckedIndexes: number[] = [];
  let lastLevel0: Uint8Array | undefined;
  try {
    fill();
    while (queue.length > 0) {
      const { k, width, b, t, bundle, tile } = await queue.shift()!;
      fill();
      if (tile.length !== width * HASH_SIZE) throw badTile(`hash tile ${tilePath(t)} is not ${width} hashes`, t, tile);
      // A bundle holding a pruned entry answers 410: its entries are read one by one, and
      // only those that answer 410 themselves go in by their hash, unchecked. A log that
      // answered 410 for an entry it still has would show up here as an unchecked index.
      let leaves: (Uint8Array | undefined)[] | undefined;
      if (bundle === undefined) {
        leaves = [];
        for (let i = 0; i < width; i += 16)
          leaves.push(...(await Promise.all(Array.from({ length: Math.min(16, width - i) }, (_, j) => client.entryLeaf(k * TILE_WIDTH + i + j)))));
      } else {
        leaves = parseEntryBundle(bundle);
        if (leaves === undefined || leaves.length !== width)
          throw badTile(`entry bundle ${tilePath(b)} does not hold ${width} entries`, b, bundle, { index: k * TILE_WIDTH });
      }
      for (let i = 0; i < width; i++) {
        const index = k * TILE_WIDTH + i;
        const leaf = leaves[i];
        if (leaf === undefined) {
          // Every tile above, and the root, are still recomputed and compared: this must
          // be the hash the signed tree holds; only the entry's contents go unread.
          if (index < n0) continue;
          edge.append(tile.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
          if (uncheckedIndexes.length < 100) uncheckedIndexes.push(index);
          unchecked++;
          continue;
        }
        const leafHash = hasher.hashLeaf(leaf);
        // What the log served for this entry: its bundle, or the entry alone (read one by one).
        const servedIn = () => (bundle ? { path: tilePath(b), served: toBase64(bundle) } : { path: `v1/entries/${index}`, served: toBase64(leaf) });
        if (!bytesEqual(leafHash, tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)))
          throw badTile(`entry ${index}: its leaf hash is not the one in hash tile ${tilePath(t)}`, t, tile, { index, bundle: servedIn() });
        if (index < n0) continue; // already in the trusted tree; the tile comparison below covers it
        if (decode) {
          try {
            checkRecordLeaf(leaf); // decodeLeaf's checks, without building the record
          } catch (e) {
            if (!(e instanceof TlogError)) throw e;
            throw alarm({
              kind: 'bad-leaf',
              code: e.code,
              message: `entry ${index} is not a canonical v1 record: ${e.message}`,
              checkpoints: [note],
              index,
              bundle: servedIn(),
            });
          }
        }
        edge.append(leafHash);
        entries++;
      }
      for (const c of edge.takeChanges().completed) await compare(c, c.level === 0 ? tile : undefined);
      lastLevel0 = tile;
      opts.onProgress?.(Math.min(n1, (k + 1) * TILE_WIDTH) - n0, n1 - n0);
    }
    for (const p of edge.partialTiles()) await compare(p, p.level === 0 ? lastLevel0 : undefined);
  } catch (e) {
    // A full tile read in place of a deleted partial one that is not a full tile (client.ts):
    // the log's misbehaviour, with evidence like any other bad tile.
    const d = e instanceof TlogError && !(e instanceof MonitorAlarm) && e.code === 'BAD_TILE' ? (e.details as { path?: unknown; served?: unknown } | undefined) : undefined;
    if (d && typeof d.path === 'string' && d.served instanceof Uint8Array)
      throw alarm({ kind: 'bad-tile', code: 'BAD_TILE', message: e instanceof Error ? e.message : String(e), checkpoints: [note], tile: { path: d.path, served: toBase64(d.served) } });
    throw e;
  }
  const root = edge.root();
  if (!bytesEqual(root, cp.rootHash))
    throw alarm({
      kind: 'bad-tile',
      code: 'BAD_TILE',
      message: `the leaves served lead to root ${toBase64(root)}, not the signed root ${toBase64(cp.rootHash)}`,
      checkpoints: [note],
    });
  return { state: { checkpoint: note, trusted: cp, edge }, entries, unchecked, uncheckedIndexes };
}
