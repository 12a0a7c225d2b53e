/**
 * Group commit for the vault: writes queued while a flush is on disk go
 * together in the next synced LevelDB batch. A sealed value must be durable
 * before the leaf that points at it is committed to the log, and one fsync
 * per event would cap PII appends far below plain ones.
 *
 * Two ways in. `write` queues and flushes at the end of this turn of the
 * event loop (erasure, holds, subjects written on their own). `stage`
 * only queues: the append path stages an event's values and the log's
 * sequencer starts the flush (`start`) when it takes the event's leaf into
 * a commit, so each log commit costs one vault write and not two or three
 * (see Sequencer, prerequisites). A staged write may be withdrawn until a
 * flush takes it.
 *
 * At most one batch is in flight. LevelDB serialises writers anyway, and a
 * second concurrent write would only park a libuv thread-pool thread in
 * LevelDB's writer queue: with four such threads, parked writers starve the
 * reads (subject look-ups) and the log's own commit of threads.
 */

import type { Level } from 'level';

type Bytes = Uint8Array;
export type VaultOp = { type: 'put'; key: Bytes; value: Bytes } | { type: 'del'; key: Bytes };

interface Queued {
  ops: VaultOp[];
  /** A flush took it: it is on its way to disk and can neither be withdrawn nor needs asking for. */
  taken?: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Ops queued for the next flush. */
export interface StagedWrite {
  /** Resolves once the ops are on disk (fsynced); rejects if their batch failed. */
  readonly done: Promise<void>;
  /** Asks for a flush if no flush has taken the ops yet (the one in flight, if any, goes first). */
  start(): void;
  /** Takes the ops out of the queue if no flush has taken them yet (`done` then never settles). */
  withdraw(): boolean;
}

export class GroupWriter {
  private queue: Queued[] = [];
  private running = false;
  /** A write was asked for while one was in flight: write the queue once more after it. */
  private again = false;

  constructor(private readonly db: Level<Bytes, Bytes>) {}

  /** Resolves once `ops` are on disk (fsynced), atomically with whatever shared their flush. */
  write(ops: VaultOp[]): Promise<void> {
    const staged = this.stage(ops);
    // setImmediate lets every request already read off the sockets join this flush.
    this.request(true);
    return staged.done;
  }

  /** Queues `ops` for the next flush, which `start` (or any `write`) asks for. */
  stage(ops: VaultOp[]): StagedWrite {
    let q!: Queued;
    const done = new Promise<void>((resolve, reject) => (q = { ops, resolve, reject }));
    this.queue.push(q);
    return {
      done,
      // Only while still queued: a batch of entries whose ops one flush took asks for nothing more.
      start: () => {
        if (!q.taken) this.request(false);
      },
      withdraw: () => {
        if (q.taken) return false;
        const i = this.queue.indexOf(q);
        if (i < 0) return false;
        this.queue.splice(i, 1);
        return true;
      },
    };
  }

  /**
   * Staged ops are written only when someone asks: after a batch, the loop
   * goes on only if a write or flush came in meanwhile. Draining whatever
   * was staged during the fsync would write once per turn of the event
   * loop again, twice as often as the log commits that wait for it.
   */
  private request(atCheckPhase: boolean): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.queue.length === 0) return;
    this.running = true;
    if (atCheckPhase) setImmediate(() => void this.loop());
    else void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.flushQueued();
      } while (this.again && this.queue.length > 0);
    } finally {
      this.running = false;
    }
  }

  private async flushQueued(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    for (const q of batch) q.taken = true;
    try {
      // Inside the try: batch() throws synchronously once the database is closed (shutdown).
      const b = this.db.batch();
      for (const q of batch) for (const op of q.ops) op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key);
      await b.write({ sync: true });
      for (const q of batch) q.resolve();
    } catch (e) {
      for (const q of batch) q.reject(e);
    }
  }
}
