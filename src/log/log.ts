/**
 * The log: opens storage, reconciles start-up state, and offers the
 * operations the HTTP layer and the CLI need (append, proofs, tiles,
 * entries, receipts). Sequencing itself lives in sequencer.ts.
 */

import { bytesEqual } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { decodeRecord, encodeCanonical, encodeRecordFromEventBytes, type AuditEvent } from '../events/index.js';
import {
  consistencyProofPlan,
  foldNodes,
  rangeNodes,
  splitPoint,
  formatEntryBundle,
  type Hasher,
  inclusionProofPlan,
  planNodes,
  proofFromPlan,
  TileEdge,
  TILE_WIDTH,
  tileWidth,
  hashesAtLevel,
  type ProofPlan,
} from '../merkle/index.js';
import { formatCheckpoint, formatTlogProof, signNote, type NoteSigner } from '../note/index.js';
import type { LogStore, StoredHead } from '../storage/store.js';
import { type Indexer, Sequencer } from './sequencer.js';
import { TileSource } from './tile-source.js';

export interface LogOptions {
  origin: string;
  hasher: Hasher;
  signer: NoteSigner;
  /** SHA-256 of arbitrary bytes (idempotency hashes). */
  sha256: (data: Uint8Array) => Uint8Array;
  now?: () => number;
  maxPending?: number;
  maxBatch?: number;
  /** Full tiles kept in memory with their internal nodes (≈16 KiB each). */
  tileCacheSize?: number;
  /** Secondary index entries written with each leaf (src/query/indexer.ts). */
  indexer?: Indexer;
}

export interface Appended {
  readonly eventId: string;
  readonly index: number;
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly loggedAt: number;
  /** True when the event_id was already logged with the same content. */
  readonly duplicate: boolean;
}

export interface Receipt {
  event_id: string;
  index: number;
  leaf_hash: Uint8Array;
  tree_size: number;
  logged_at: number;
  tlog_proof: string;
}

export class Log {
  private readonly inflight = new Map<string, { eventHash: Uint8Array; done: Promise<Appended> }>();
  private readonly now: () => number;
  /** Range hashes memoized for proofs (see rangeHash). */
  private readonly ranges = new Map<string, Uint8Array>();
  /** The latest logged_at handed out (see stamp). */
  private lastLoggedAt = 0;

  private constructor(
    readonly store: LogStore,
    private readonly opts: LogOptions,
    private readonly tiles: TileSource,
    private readonly sequencer: Sequencer,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Start-up reads the signed head and at most one partial tile per level —
   * never the leaves — so it takes the same time at 1k or 1M entries. It then
   * recomputes the root from those tiles: a head whose tiles disagree with it
   * means the store is damaged, and the log refuses to sign on top of it.
   */
  static async open(store: LogStore, opts: LogOptions): Promise<Log> {
    const { hasher, origin } = opts;
    const signCheckpoint = (treeSize: number, rootHash: Uint8Array) =>
      signNote(formatCheckpoint({ origin, treeSize, rootHash, extensions: [] }), [opts.signer]);

    let head = await store.readHead();
    let edge: TileEdge;
    if (head === undefined) {
      // First start: sign and persist the empty tree, so /checkpoint always answers.
      const rootHash = hasher.emptyRoot();
      head = { origin, treeSize: 0, rootHash, checkpoint: signCheckpoint(0, rootHash) };
      await store.commit({ entries: [], tiles: [], idem: [], head });
      edge = TileEdge.empty(hasher);
    } else {
      if (head.origin !== origin)
        throw new TlogError('STORE_CORRUPT', `the data folder holds the log "${head.origin}", not "${origin}"`);
      const size = head.treeSize;
      const partial = new Map<number, Uint8Array | undefined>();
      for (let L = 0; hashesAtLevel(L, size) > 0; L++) {
        const count = hashesAtLevel(L, size);
        if (count % TILE_WIDTH !== 0) partial.set(L, await store.readTile(L, Math.floor(count / TILE_WIDTH)));
      }
      edge = TileEdge.restore(hasher, size, (L) => partial.get(L));
      if (!bytesEqual(edge.root(), head.rootHash))
        throw new TlogError('STORE_CORRUPT', `stored tiles do not match the signed root at size ${size}`);
    }

    const tiles = new TileSource(store, hasher, opts.tileCacheSize ?? 4096);
    tiles.publish(edge.partialTiles(), []);
    const sequencer = new Sequencer(
      store,
      hasher,
      signCheckpoint,
      edge,
      head,
      (_head, partial, completed) => tiles.publish(partial, completed),
      { maxPending: opts.maxPending ?? 32_768, maxBatch: opts.maxBatch ?? 4096, ...(opts.indexer ? { indexer: opts.indexer } : {}) },
    );
    const log = new Log(store, opts, tiles, sequencer);
    // A clock that stepped back across a restart must not stamp below the last leaf.
    if (head.treeSize > 0) log.lastLoggedAt = (await log.entry(head.treeSize - 1)).loggedAt;
    return log;
  }

  get origin(): string {
    return this.opts.origin;
  }

  /** The latest durable, signed head. */
  get head(): StoredHead {
    return this.sequencer.treeHead;
  }

  get pending(): number {
    return this.sequencer.pending;
  }

  /** Throws OVERLOADED unless `n` more appends fit (checked before a batch starts). */
  reserve(n: number): void {
    this.sequencer.reserve(n);
  }

  /**
   * Appends one validated event for `tenant`. Resolves after the entry is
   * durable and covered by a signed checkpoint. `assignedId` says the
   * event_id was generated by this server (not sent by the client).
   *
   * Idempotency: (tenant, event_id) is registered in `inflight` *before*
   * storage is asked, and removed only after its commit is durable. So a
   * concurrent retry either finds the registration (and shares its outcome)
   * or, once it is gone, finds the durable record — never neither.
   */
  async append(tenant: string, event: AuditEvent, opts: { assignedId?: boolean } = {}): Promise<Appended> {
    const eventBytes = encodeCanonical(event);
    const eventHash = this.opts.sha256(eventBytes);
    // An id this server just generated (UUIDv7, 74 random bits) cannot have
    // been logged before: skip the lookup, the common case's only read.
    if (opts.assignedId) {
      const loggedAt = this.stamp();
      const leaf = encodeRecordFromEventBytes(eventBytes, tenant, loggedAt);
      const s = await this.sequencer.add({ tenant, eventId: event.event_id, eventHash, leaf });
      return { eventId: event.event_id, index: s.index, leaf, leafHash: s.leafHash, loggedAt, duplicate: false };
    }
    const key = `${tenant}\u0000${event.event_id}`;
    const running = this.inflight.get(key);
    if (running) {
      if (!bytesEqual(running.eventHash, eventHash)) throw conflict(event.event_id);
      return { ...(await running.done), duplicate: true };
    }
    const done = this.appendNew(tenant, event.event_id, eventHash, eventBytes);
    this.inflight.set(key, { eventHash, done });
    try {
      return await done;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * logged_at for a leaf about to join the pool. Stamped right before
   * `sequencer.add` and never below the previous stamp, so logged_at never
   * decreases in pool order (= index order): the query time index relies on
   * it to turn a time range into an index range.
   */
  private stamp(): number {
    const t = Math.max(this.now(), this.lastLoggedAt);
    this.lastLoggedAt = t;
    return t;
  }

  private async appendNew(tenant: string, eventId: string, eventHash: Uint8Array, eventBytes: Uint8Array): Promise<Appended> {
    const existing = await this.store.readIdem(tenant, eventId);
    if (existing) {
      if (!bytesEqual(existing.eventHash, eventHash)) throw conflict(eventId);
      const stored = await this.entry(existing.index);
      return { eventId, index: existing.index, leaf: stored.leaf, leafHash: stored.leafHash, loggedAt: stored.loggedAt, duplicate: true };
    }
    const loggedAt = this.stamp();
    const leaf = encodeRecordFromEventBytes(eventBytes, tenant, loggedAt);
    const s = await this.sequencer.add({ tenant, eventId, eventHash, leaf });
    return { eventId, index: s.index, leaf, leafHash: s.leafHash, loggedAt, duplicate: false };
  }

  /** Index of an event already logged for this tenant, if any. */
  async findEvent(tenant: string, eventId: string): Promise<number | undefined> {
    return (await this.store.readIdem(tenant, eventId))?.index;
  }

  /** Index of the first entry with this leaf hash, if any. */
  async findLeafHash(leafHash: Uint8Array): Promise<number | undefined> {
    const i = await this.store.readLeafIndex(leafHash);
    return i !== undefined && i < this.head.treeSize ? i : undefined;
  }

  /** RFC 6962 leaf hash of leaf bytes. */
  hashLeaf(leaf: Uint8Array): Uint8Array {
    return this.opts.hasher.hashLeaf(leaf);
  }

  /** The leaf hash at `index`, from the level-0 hash tile (no leaf read). */
  async leafHash(index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.head.treeSize)
      throw new TlogError('NOT_FOUND', `no entry at index ${index} (tree size ${this.head.treeSize})`);
    const id = { level: 0, index };
    return this.tiles.nodeSync(id) ?? (await this.tiles.nodes([id]))(id);
  }

  /** A stored entry by index (below the published size). */
  async entry(index: number): Promise<{ leaf: Uint8Array; leafHash: Uint8Array; loggedAt: number }> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.head.treeSize)
      throw new TlogError('NOT_FOUND', `no entry at index ${index} (tree size ${this.head.treeSize})`);
    const leaf = await this.store.readEntry(index);
    if (leaf === undefined) throw new TlogError('STORE_CORRUPT', `entry ${index} is missing from storage`);
    return { leaf, leafHash: this.opts.hasher.hashLeaf(leaf), loggedAt: decodeRecord(leaf).logged_at };
  }

  private async prove(plan: ProofPlan): Promise<Uint8Array[]> {
    // Fast path: every tile in memory, no awaits and no lookups table.
    const fast = this.proveSync(plan);
    if (fast) return fast;
    const node = await this.tiles.nodes(planNodes(plan));
    return proofFromPlan(this.opts.hasher, plan, node);
  }

  /**
   * MTH(D[begin:end]) for a range a proof needs, from in-memory tiles.
   * A range's hash depends only on its leaves, never on the tree size, so it
   * is memoized across proofs: neighbouring leaves share every element above
   * their own 256-leaf tile, which makes a flush's receipts mostly lookups.
   */
  private rangeHash(begin: number, end: number): Uint8Array | undefined {
    const key = `${begin},${end}`;
    const hit = this.ranges.get(key);
    if (hit) return hit;
    const hashes: Uint8Array[] = [];
    for (const id of rangeNodes(begin, end)) {
      const h = this.tiles.nodeSync(id);
      if (h === undefined) return undefined;
      hashes.push(h);
    }
    const h = foldNodes(this.opts.hasher, hashes);
    if (this.ranges.size >= 100_000) this.ranges.clear();
    this.ranges.set(key, h);
    return h;
  }

  /** RFC 6962 PATH(index, D[0:size]) from memory, or undefined if a tile must be read. */
  private inclusionFromMemory(index: number, size: number): Uint8Array[] | undefined {
    const topDown: Uint8Array[] = [];
    let a = 0;
    let b = size;
    while (b - a > 1) {
      const k = splitPoint(b - a);
      const h = index < a + k ? this.rangeHash(a + k, b) : this.rangeHash(a, a + k);
      if (h === undefined) return undefined;
      topDown.push(h);
      if (index < a + k) b = a + k;
      else a += k;
    }
    return topDown.reverse();
  }

  private proveSync(plan: ProofPlan): Uint8Array[] | undefined {
    const out: Uint8Array[] = [];
    for (const el of plan) {
      const hashes: Uint8Array[] = [];
      for (const id of el) {
        const h = this.tiles.nodeSync(id);
        if (h === undefined) return undefined;
        hashes.push(h);
      }
      out.push(foldNodes(this.opts.hasher, hashes));
    }
    return out;
  }

  /** RFC 6962 audit path for `index` in the tree of `treeSize` leaves (≤ the published size). */
  async inclusionProof(index: number, treeSize: number): Promise<Uint8Array[]> {
    this.checkSize(treeSize);
    if (index >= treeSize) throw new TlogError('INVALID_PARAMETER', `index ${index} is not below tree_size ${treeSize}`);
    return this.inclusionFromMemory(index, treeSize) ?? this.prove(inclusionProofPlan(index, treeSize));
  }

  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    this.checkSize(to);
    if (from > to) throw new TlogError('INVALID_PARAMETER', `from ${from} is above to ${to}`);
    return this.prove(consistencyProofPlan(from, to));
  }

  private checkSize(treeSize: number): void {
    if (treeSize > this.head.treeSize)
      throw new TlogError('INVALID_PARAMETER', `tree_size ${treeSize} is beyond the current tree size ${this.head.treeSize}`);
  }

  /**
   * Hash tile (level, index) of the given width, or undefined when the
   * published tree does not contain it (C2SP: never serve empty or future tiles).
   */
  async tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const have = tileWidth(level, index, this.head.treeSize);
    if (have === 0 || width > have) return undefined;
    return this.tiles.data(level, index, width);
  }

  /** Entry bundle `index` with `width` entries (u16be length ‖ leaf each). */
  async entryBundle(index: number, width: number): Promise<Uint8Array | undefined> {
    const have = tileWidth(0, index, this.head.treeSize);
    if (have === 0 || width > have) return undefined;
    const leaves = await this.store.readEntries(index * TILE_WIDTH, width);
    if (leaves.length !== width) throw new TlogError('STORE_CORRUPT', `entry bundle ${index} has holes`);
    return formatEntryBundle(leaves);
  }

  /**
   * A C2SP tlog-proof for an entry against the latest head: the leaf bytes go
   * in `extra`, so the receipt verifies offline with only the verifier key.
   */
  async receipt(a: Pick<Appended, 'eventId' | 'index' | 'leaf' | 'leafHash' | 'loggedAt'>): Promise<Receipt> {
    const head = this.head;
    const proof = this.inclusionFromMemory(a.index, head.treeSize) ?? (await this.prove(inclusionProofPlan(a.index, head.treeSize)));
    return {
      event_id: a.eventId,
      index: a.index,
      leaf_hash: a.leafHash,
      tree_size: head.treeSize,
      logged_at: a.loggedAt,
      tlog_proof: formatTlogProof({ extra: a.leaf, index: a.index, inclusionProof: proof, checkpoint: head.checkpoint }),
    };
  }

  async close(): Promise<void> {
    await this.sequencer.drain();
    await this.store.close();
  }
}

function conflict(eventId: string): TlogError {
  return new TlogError('EVENT_CONFLICT', `event_id ${eventId} was already logged with different content`);
}
