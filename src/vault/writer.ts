/**
 * Group commit for the vault: writes asked for while a flush is on disk go
 * together in the next synced LevelDB batch. A sealed value must be durable
 * before the leaf that points at it is committed to the log, and one fsync
 * per event would cap PII appends far below plain ones.
 *
 * Two ways in. `write` asks for a flush at the end of this turn of the
 * event loop (erasure, holds, subjects written on their own). A staged item
 * (`WriterItem`: the append path's values of one event) is only held by its
 * owner until `start` asks for it: the log's sequencer does that when it
 * takes the event's leaf into a commit, so each log commit costs one vault
 * write and not two or three (see Sequencer, prerequisites). A flush writes
 * only what was asked for, so values whose entry is then refused can be
 * withdrawn and never reach the disk.
 *
 * Everything asked for before a flush starts shares that flush, and so one
 * promise: an item costs no promise or closure of its own. That matters
 * because the log keeps staged items until it commits them: a batch of a
 * thousand events holds a thousand of them, and each young-generation GC in
 * the meantime copies whatever they hold.
 *
 * At most one batch is in flight. LevelDB serialises writers anyway, and a
 * second concurrent write would only park a libuv thread-pool thread in
 * LevelDB's writer queue: with four such threads, parked writers starve the
 * reads (subject look-ups) and the log's own commit of threads.
 */

import { TlogError } from '../errors.js';
import type { Level } from 'level';

type Bytes = Uint8Array;
export type VaultOp = { type: 'put'; key: Bytes; value: Bytes } | { type: 'del'; key: Bytes };

/** Ops on their way to the disk, with what to do once their batch is done. */
export interface WriterItem {
  /** Emptied once a flush has written them (or withdrawn): the bytes are not kept longer than needed. */
  ops: VaultOp[];
  /**
   * One more put, written before `ops`, kept apart from them: the one
   * record of most staged events costs no op object or array. The writer
   * does not clear these; `written` does.
   */
  key?: Bytes;
  value?: Bytes;
  /** The flush that takes (or took) the item: set once it is asked for. */
  flush?: Flush;
  /** Withdrawn before it was asked for: never written, and asking for it later fails (see ask). */
  withdrawn?: true;
  /** Called once its batch is durable (`error` undefined) or failed, before the flush's promise settles. */
  written?(error: unknown): void;
}

/** One synced batch: the items asked for before it started, and the promise they all share. */
export class Flush {
  readonly items: WriterItem[] = [];
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (e: unknown) => void;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Whoever asked for an item awaits this; a rejection nobody awaits is not an unhandled one.
    this.done.catch(() => {});
  }
}

/** No ops (shared, frozen: an item that has one or more makes its own array). */
export const NO_OPS: VaultOp[] = Object.freeze([]) as unknown as VaultOp[];

export class GroupWriter {
  /** The flush that items asked for now will join: the next one to start. */
  private next: Flush | undefined;
  private running = false;

  constructor(private readonly db: Level<Bytes, Bytes>) {}

  /** Resolves once `ops` are on disk (fsynced), atomically with whatever shared their flush. */
  write(ops: VaultOp[]): Promise<void> {
    // setImmediate lets every request already read off the sockets join this flush.
    return this.ask({ ops }, true);
  }

  /**
   * Asks for `item` to be written (after the batch in flight, if there is
   * one); resolves once it is on disk. Asking again returns the same promise.
   */
  start(item: WriterItem): Promise<void> {
    return this.ask(item, false);
  }

  /** Drops `item`'s ops unless it was asked for (true); once asked for, it goes to disk (false). */
  withdraw(item: WriterItem): boolean {
    // Asked for means someone awaits its flush (a log flush, in step 0): it goes to disk.
    if (item.flush) return false;
    item.ops = NO_OPS;
    item.key = item.value = undefined;
    item.withdrawn = true;
    return true;
  }

  private ask(item: WriterItem, atCheckPhase: boolean): Promise<void> {
    // Asked for already (a flush that took it had been asked for it too).
    if (item.flush) return item.flush.done;
    // Its bytes are gone: a success here would let a log entry point at values never written.
    if (item.withdrawn) return Promise.reject(new TlogError('INTERNAL', 'vault values were withdrawn before they were written'));
    const flush = (this.next ??= new Flush());
    flush.items.push(item);
    item.flush = flush;
    // A running loop goes on while a next flush has items.
    if (!this.running) {
      this.running = true;
      // `start` waits a microtask: a log flush starts all its entries' writes in
      // one synchronous pass, and they must share one batch. Run at once, the
      // loop took only the first entry's ops, and the rest paid a second
      // synced write (two fsyncs per log flush, one of them for one entry).
      if (atCheckPhase) setImmediate(() => void this.loop());
      else queueMicrotask(() => void this.loop());
    }
    return flush.done;
  }

  private async loop(): Promise<void> {
    try {
      for (let f = this.next; f; f = this.next) {
        this.next = undefined;
        await this.flush(f);
      }
    } finally {
      this.running = false;
    }
  }

  /** One synced batch of every op `f` took. */
  private async flush(f: Flush): Promise<void> {
    let error: unknown;
    try {
      // Inside the try: batch() throws synchronously once the database is closed (shutdown).
      const b = this.db.batch();
      for (const item of f.items) {
        if (item.key !== undefined && item.value !== undefined) b.put(item.key, item.value);
        for (const op of item.ops) op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key);
      }
      await b.write({ sync: true });
    } catch (e) {
      error = e ?? new Error('vault write failed');
    }
    for (const item of f.items) {
      // Written (or failed) ops are done with, but their items live on until the log
      // commits the entries that staged them: let the bytes go now, so young-
      // generation GCs do not copy them in the meantime.
      item.ops = NO_OPS;
      item.written?.(error);
    }
    if (error === undefined) f.resolve();
    else f.reject(error);
  }
}
