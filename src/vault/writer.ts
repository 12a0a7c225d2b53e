/**
 * Group commit for the vault: writes queued while a flush is on disk go
 * together in the next synced LevelDB batch. A sealed value must be durable
 * before the leaf that points at it is committed to the log, and one fsync
 * per event would cap PII appends far below plain ones.
 *
 * Two ways in. `write` queues and asks for a flush at the end of this turn
 * of the event loop (erasure, holds, subjects written on their own).
 * `stage` only queues: the append path stages an event's values, and the
 * log's sequencer asks for them (`start`) when it takes the event's leaf
 * into a commit, so each log commit costs one vault write and not two or
 * three (see Sequencer, prerequisites). A flush writes only what was asked
 * for: staged ops wait, whatever else is written meanwhile, so values whose
 * entry is then refused can be withdrawn and never reach the disk.
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
  /** Asked for (`write`, `start`): the next flush takes it out of the queue. */
  requested: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Ops queued until someone asks for them. */
export interface StagedWrite {
  /** Resolves once the ops are on disk (fsynced); rejects if their batch failed. */
  readonly done: Promise<void>;
  /** Asks for the ops to be written (after the batch in flight, if there is one). */
  start(): void;
  /** Takes the ops out of the queue if nobody has asked for them yet (`done` then never settles); false once asked for. */
  withdraw(): boolean;
}

const NO_OPS: VaultOp[] = Object.freeze([]) as unknown as VaultOp[];

export class GroupWriter {
  private queue: Queued[] = [];
  /** Some queued op was asked for since the last flush took them. */
  private wanted = false;
  private running = false;

  constructor(private readonly db: Level<Bytes, Bytes>) {}

  /** Resolves once `ops` are on disk (fsynced), atomically with whatever shared their flush. */
  write(ops: VaultOp[]): Promise<void> {
    const q = this.enqueue(ops);
    // setImmediate lets every request already read off the sockets join this flush.
    this.ask(q, true);
    return q.done;
  }

  /** Queues `ops` until `start` asks for them. */
  stage(ops: VaultOp[]): StagedWrite {
    const q = this.enqueue(ops);
    return {
      done: q.done,
      start: () => this.ask(q, false),
      // Asked for means someone awaits `done` (a log flush, in step 0): it
      // goes to disk. Out of the queue means a flush took it: on its way.
      withdraw: () => {
        if (q.requested) return false;
        const i = this.queue.indexOf(q);
        if (i < 0) return false;
        this.queue.splice(i, 1);
        return true;
      },
    };
  }

  private enqueue(ops: VaultOp[]): Queued {
    const q = { ops, requested: false } as Queued;
    q.done = new Promise<void>((resolve, reject) => {
      q.resolve = resolve;
      q.reject = reject;
    });
    this.queue.push(q);
    return q;
  }

  private ask(q: Queued, atCheckPhase: boolean): void {
    // Requested already (a flush that took it had been asked for it too).
    if (q.requested) return;
    q.requested = true;
    this.wanted = true;
    // A running loop goes on while anything is wanted.
    if (this.running) return;
    this.running = true;
    // `start` waits a microtask: a log flush starts all its entries' writes in
    // one synchronous pass, and they must share one batch. Run at once, the
    // loop took only the first entry's ops, and the rest paid a second
    // synced write (two fsyncs per log flush, one of them for one entry).
    if (atCheckPhase) setImmediate(() => void this.loop());
    else queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.wanted) await this.flushWanted();
    } finally {
      this.running = false;
    }
  }

  /** One synced batch of every op asked for; the rest stay queued. */
  private async flushWanted(): Promise<void> {
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    for (const q of this.queue) (q.requested ? batch : rest).push(q);
    this.queue = rest;
    this.wanted = false;
    try {
      // Inside the try: batch() throws synchronously once the database is closed (shutdown).
      const b = this.db.batch();
      for (const q of batch) for (const op of q.ops) op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key);
      await b.write({ sync: true });
      for (const q of batch) q.resolve();
    } catch (e) {
      for (const q of batch) q.reject(e);
    }
    // Taken ops are done with, but their handles live on until the log
    // commits the entries that staged them: let the bytes go now, so young-
    // generation GCs do not copy them in the meantime.
    for (const q of batch) q.ops = NO_OPS;
  }
}
