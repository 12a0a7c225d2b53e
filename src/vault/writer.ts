/**
 * Group commit for the vault: writes queued in the same tick go to disk as
 * one synced LevelDB batch. A sealed value must be durable before the leaf
 * that points at it is committed to the log, and one fsync per event would
 * cap PII appends far below plain ones.
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
  private scheduled = false;

  constructor(private readonly db: Level<Bytes, Bytes>) {}

  /** Resolves once `ops` are on disk (fsynced), atomically with whatever shared their flush. */
  write(ops: VaultOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const b = this.db.batch();
    for (const q of batch) for (const op of q.ops) op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key);
    try {
      await b.write({ sync: true });
      for (const q of batch) q.resolve();
    } catch (e) {
      for (const q of batch) q.reject(e);
    }
  }
}
