/**
 * The sequencer: group commit of appends into the Merkle tree.
 *
 * Appends wait in a bounded pool. One flush at a time takes up to `maxBatch`
 * of them and runs `commit`, the one linear function below, whose comments
 * say what a crash at each step leaves behind (spec/crash-model.md). While a
 * flush waits for fsync, new appends pile up for the next one, so throughput
 * grows with load instead of being bounded by fsync latency.
 *
 * Fairness (spec/limits.md): the pool is one FIFO queue per tenant. A flush
 * takes an equal share from every waiting tenant, and one tenant may hold at
 * most `tenantShare` of `maxPending`, so a flooding tenant can neither fill
 * the pool nor push another tenant's appends behind its own.
 */

import { turns } from '../turns.js';
import { TlogError } from '../errors.js';
import { type EdgeTile, type Hasher, TileEdge } from '../merkle/index.js';
import type { LogRecord } from '../events/index.js';
import type { CommitBatch, IdemRecord, LogStore, StoredHead } from '../storage/store.js';

export interface PendingEntry {
  readonly tenant: string;
  readonly eventId: string;
  readonly eventHash: Uint8Array;
  readonly leaf: Uint8Array;
  /** The record `leaf` encodes, when the caller has it (the indexer then need not decode the leaf). */
  readonly record?: LogRecord;
  /** A write that must be durable before this entry's commit: the vault's values its leaf points at. */
  readonly prerequisite?: Prerequisite;
}

/**
 * Something an entry's leaf depends on that is stored elsewhere (the
 * vault's sealed values). It is queued when the entry is made, and the
 * flush that takes the entry starts it and commits the entry only once it
 * is on disk: one such write per flush, shared by all its entries, instead
 * of a write (and an fsync) of its own before each entry joined the pool.
 */
export interface Prerequisite {
  /** Starts the write if it has not started; resolves once it is durable. */
  durable(): Promise<void>;
}

export interface Sequenced {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** The durable, signed head that first covered this entry. */
  readonly head: StoredHead;
}

export interface SequencerOptions {
  /** Appends waiting at most; beyond, OVERLOADED (503 + Retry-After). */
  maxPending: number;
  /** Entries per flush (one LevelDB batch, one signature). */
  maxBatch: number;
  /** Attempts at writing the same batch before the log stops taking writes. */
  commitAttempts?: number;
  /** Fraction of maxPending one tenant may hold (default 1/2). */
  tenantShare?: number;
  /**
   * Secondary index writes for each commit. They join the commit's own
   * batch, so after any crash the indexes and the log agree exactly.
   */
  indexer?: Indexer;
}

/**
 * Query index upkeep (src/query/block-indexer.ts). It may keep state across
 * commits, but `stage` must change none: `apply` runs once the batch is
 * durable, and a failed batch is retried with the same writes.
 */
export interface Indexer {
  /** Start-up, before any commit: rebuild in-memory state for a log of `size` entries. */
  resume(store: LogStore, size: number): Promise<void>;
  /** The writes indexing `entries`, at indexes start, start + 1, … */
  stage(entries: readonly PendingEntry[], start: number): StagedIndex;
  /**
   * The index changes of pruning the entries `indexes` (ascending, below the
   * durable `size`): they join the prune's batch, and `apply` runs once it is
   * durable. For indexes at or past `openStart()`, a commit may rewrite the
   * same block: the caller runs stagePrune, the batch and apply in
   * `Sequencer.exclusive`.
   */
  stagePrune(store: LogStore, indexes: readonly number[], size: number): Promise<StagedPrune>;
  /** The first index of the open block (it only grows: a block below it is never rewritten by a commit). */
  openStart(): number;
}
export interface StagedIndex {
  readonly writes: readonly IndexWrite[];
  apply(): void;
}
/** Keys to delete and keys to write (store.ts IndexChanges), and the in-memory step after. */
export interface StagedPrune {
  readonly del: readonly Uint8Array[];
  readonly put: readonly IndexWrite[];
  apply(): void;
}
export interface IndexWrite {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Signs the checkpoint note for (size, root). */
export type CheckpointSigner = (treeSize: number, rootHash: Uint8Array) => string;

/** Told about every durable commit, before any append of it is acknowledged. */
export type PublishHook = (head: StoredHead, partial: readonly EdgeTile[], completed: readonly EdgeTile[]) => void;

interface Waiter {
  entry: PendingEntry;
  resolve: (s: Sequenced) => void;
  reject: (e: unknown) => void;
}

export class Sequencer {
  /** Waiting appends, one FIFO queue per tenant; `queued` counts them all. */
  private pool = new Map<string, Waiter[]>();
  private queued = 0;
  private flushing = false;
  private failure: TlogError | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  /** Commits and `exclusive` callers take turns, in call order (one promise per flush). */
  private readonly inTurn = turns();

  constructor(
    private readonly store: LogStore,
    private readonly hasher: Hasher,
    private readonly signCheckpoint: CheckpointSigner,
    private edge: TileEdge,
    private head: StoredHead,
    private readonly publish: PublishHook,
    private readonly opts: SequencerOptions,
  ) {}

  get treeHead(): StoredHead {
    return this.head;
  }

  get pending(): number {
    return this.queued;
  }

  /** Appends one tenant may have waiting: its share of the pool, and so the most one reservation of a tenant can ever get. */
  get tenantShare(): number {
    return Math.max(1, Math.floor(this.opts.maxPending * (this.opts.tenantShare ?? 0.5)));
  }

  /** Throws OVERLOADED if `n` more appends (of `tenant`, if given) would not fit in the pool. */
  reserve(n: number, tenant?: string): void {
    if (this.failure) throw this.failure;
    if (this.queued + n > this.opts.maxPending)
      throw new TlogError('OVERLOADED', `the sequencer pool is full (${this.opts.maxPending} waiting appends)`, { retryAfter: 1 });
    const share = this.tenantShare;
    if (tenant !== undefined && (this.pool.get(tenant)?.length ?? 0) + n > share)
      throw new TlogError('OVERLOADED', `this tenant holds its share of the sequencer pool (${share} waiting appends)`, { retryAfter: 1 });
  }

  /** Resolves once the entry is durable and covered by a signed checkpoint. */
  add(entry: PendingEntry): Promise<Sequenced> {
    this.reserve(1, entry.tenant);
    return new Promise<Sequenced>((resolve, reject) => {
      const q = this.pool.get(entry.tenant);
      if (q) q.push({ entry, resolve, reject });
      else this.pool.set(entry.tenant, [{ entry, resolve, reject }]);
      this.queued++;
      if (!this.flushing) {
        this.flushing = true;
        this.idle = new Promise((r) => (this.markIdle = r));
        // setImmediate lets every request already read off the sockets join this flush.
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  /**
   * Runs `fn` with no commit in progress, and none starting until it ends.
   * A prune that touches the open query-index block uses it: the block's
   * lists live in the indexer's memory and each commit into the block
   * rewrites them, so the prune's read of the block's leaves, its batch and
   * the indexer's rebuild must not interleave with a commit (block-indexer.ts
   * stagePrune). Appends wait in the pool meanwhile, as during a commit.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.inTurn(fn);
  }

  /** Waits for the pool to drain (used on shutdown). */
  async drain(): Promise<void> {
    await this.idle;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queued > 0) {
        const batch = await this.ready(this.take(this.opts.maxBatch));
        if (batch.length === 0) continue;
        try {
          const results = await this.inTurn(() => this.commit(batch.map((w) => w.entry)));
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (e) {
          batch.forEach((w) => w.reject(e));
          if (this.failure) {
            for (const w of this.take(this.queued)) w.reject(this.failure);
          }
        }
      }
    } finally {
      this.flushing = false;
      this.markIdle();
    }
  }

  /**
   * Step 0 of a flush: the entries' prerequisites. All are started before
   * any is awaited, so they share one write. An entry whose prerequisite
   * failed is answered with that error and left out of the commit; the
   * others go on. Nothing of the log has been written yet.
   */
  private async ready(batch: Waiter[]): Promise<Waiter[]> {
    let waits: (Promise<void> | undefined)[] | undefined;
    // Entries whose writes share one batch share its promise (the vault's are
    // one per write): each distinct one is awaited once, not once per entry.
    let distinct: Set<Promise<void>> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!.entry.prerequisite;
      if (!p) continue;
      const wait = started(p);
      (waits ??= new Array<Promise<void> | undefined>(batch.length))[i] = wait;
      (distinct ??= new Set()).add(wait);
    }
    if (!waits || !distinct) return batch;
    const list = [...distinct];
    const outcomes = await Promise.allSettled(list);
    if (outcomes.every((o) => o.status === 'fulfilled')) return batch;
    const failed = new Map<Promise<void>, unknown>();
    outcomes.forEach((o, k) => o.status === 'rejected' && failed.set(list[k]!, o.reason));
    const ok: Waiter[] = [];
    batch.forEach((w, i) => {
      const wait = waits[i];
      if (wait !== undefined && failed.has(wait)) w.reject(failed.get(wait));
      else ok.push(w);
    });
    return ok;
  }

  /**
   * Up to `max` waiters, an equal share from each tenant's queue (FIFO
   * within a tenant); a share a tenant cannot fill goes to the others.
   * The shares are interleaved (one of each tenant in turn): the flush's
   * waiters are resolved in this order, and each resolution runs its
   * request's receipt and answer, so no tenant's answers all wait behind
   * another's after a commit.
   */
  private take(max: number): Waiter[] {
    const shares = new Map<string, Waiter[]>();
    let n = 0;
    while (n < max && this.queued > n) {
      const share = Math.max(1, Math.floor((max - n) / this.pool.size));
      for (const [tenant, q] of this.pool) {
        const part = q.splice(0, Math.min(share, max - n));
        const had = shares.get(tenant);
        shares.set(tenant, had ? had.concat(part) : part);
        n += part.length;
        if (q.length === 0) this.pool.delete(tenant);
        if (n >= max) break;
      }
    }
    this.queued -= n;
    const parts = [...shares.values()];
    if (parts.length === 1) return parts[0]!;
    const out: Waiter[] = [];
    for (let k = 0; out.length < n; k++) for (const part of parts) if (k < part.length) out.push(part[k]!);
    return out;
  }

  /**
   * The commit path. Nothing here is visible to any reader or client until
   * step 5, and step 5 happens only after step 4 is durable.
   */
  private async commit(entries: readonly PendingEntry[]): Promise<Sequenced[]> {
    // 1. Sequence: indexes continue from the durable tree size, in pool order.
    //    Work on a copy of the right edge, so a failed write leaves the
    //    in-memory tree exactly as durable as storage.
    const edge = this.edge.clone();
    const start = edge.size;
    const leafHashes = entries.map((e) => {
      const h = this.hasher.hashLeaf(e.leaf);
      edge.append(h);
      return h;
    });
    const size = edge.size;

    // 2. Tiles: every tile this batch completed, and the partial tile of every
    //    level that changed. Root from the new right edge.
    const { completed, dirtyLevels } = edge.takeChanges();
    const partial = edge.partialTiles();
    const rootHash = edge.root(partial);

    // 3. Sign once per flush. size > this.head.treeSize always holds here
    //    (the batch is non-empty), and this is the only place a checkpoint is
    //    signed, so one size never gets two roots from one running process.
    //    If step 4 fails we retry the same bytes, never re-sign. A crash
    //    between 3 and 4 loses an unpublished signature that nobody saw.
    const head: StoredHead = { origin: this.head.origin, treeSize: size, rootHash, checkpoint: this.signCheckpoint(size, rootHash) };

    // 4. One atomic, synced LevelDB batch: leaves, idempotency records, index
    //    writes, tiles and the signed head. The indexer's state, like the
    //    edge, moves on only in step 5. A crash before it returns leaves the previous
    //    head and its tiles intact (the batch is all-or-nothing in the WAL);
    //    after it returns, start-up finds the new head and the tiles it needs.
    const idem: { tenant: string; eventId: string; record: IdemRecord }[] = entries.map((e, i) => ({
      tenant: e.tenant,
      eventId: e.eventId,
      record: { index: start + i, eventHash: e.eventHash },
    }));
    const staged = this.opts.indexer?.stage(entries, start);
    const batch: CommitBatch = {
      entries: entries.map((e, i) => ({ index: start + i, leaf: e.leaf, leafHash: leafHashes[i]! })),
      tiles: [
        ...completed.map((t) => ({ level: t.level, index: t.index, data: t.data })),
        ...partial.filter((t) => dirtyLevels.has(t.level)).map((t) => ({ level: t.level, index: t.index, data: t.data })),
      ],
      idem,
      index: staged?.writes ?? [],
      head,
    };
    await this.writeDurably(batch);

    // 5. Publish: readers now see the new head and tiles; only after this are
    //    receipts released (by our caller), so every acknowledged entry is
    //    durable and provable against a checkpoint that is also durable.
    this.edge = edge;
    this.head = head;
    staged?.apply();
    this.publish(head, partial, completed);
    return leafHashes.map((leafHash, i) => ({ index: start + i, leafHash, head }));
  }

  /**
   * Retries the identical batch (same entries, same signature) on failure:
   * rewriting the same keys is idempotent, and never signing a second root
   * for this size is the point. If storage stays broken, the log stops taking
   * writes (reads go on) until an operator restarts it.
   */
  private async writeDurably(batch: CommitBatch): Promise<void> {
    const attempts = this.opts.commitAttempts ?? 3;
    for (let i = 1; ; i++) {
      try {
        await this.store.commit(batch);
        return;
      } catch (e) {
        if (i >= attempts) {
          this.failure = new TlogError('LOG_UNAVAILABLE', 'storage failed to persist a commit; the log is read-only until restarted', {
            retryAfter: 30,
            cause: e,
          });
          throw this.failure;
        }
        await new Promise((r) => setTimeout(r, 50 * 4 ** i));
      }
    }
  }
}

/** A prerequisite's write, started; a synchronous throw becomes its rejection (it fails its entry, not the flush loop). */
function started(p: Prerequisite): Promise<void> {
  try {
    return p.durable();
  } catch (e) {
    return Promise.reject(e);
  }
}
