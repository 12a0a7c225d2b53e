/**
 * Group commit for the vault: writes queued while a flush is on disk go
 * together in the next synced LevelDB batch. A sealed value must be durable
 * before the leaf that points at it is committed to the log, and one fsync
 * per event would cap PII appends far below plain ones.
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
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class GroupWriter {
  private queue: Queued[] = [];
  private running = false;

  constructor(private readonly db: Level<Bytes, Bytes>) {}

  /** Resolves once `ops` are on disk (fsynced), atomically with whatever shared their flush. */
  write(ops: VaultOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.running) {
        this.running = true;
        // setImmediate lets every request already read off the sockets join this flush.
        setImmediate(() => void this.loop());
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flush();
    } finally {
      this.running = false;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
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
