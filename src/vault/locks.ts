/**
 * Per-subject reader/writer locks. Sealing values takes the shared side, so
 * many events about one subject still share a group commit; erasure and
 * holds take the exclusive side, so no value can be written under a
 * subject while it is being shredded (which would leave an orphan).
 */

interface LockState {
  readers: number;
  writer: boolean;
  queue: { exclusive: boolean; grant: () => void }[];
}

export class RwLocks {
  private readonly locks = new Map<string, LockState>();

  /** Runs `fn` holding the shared side of every name in `names` (taken in sorted order: no deadlock). */
  async shared<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
    const release = await this.holdShared(names);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Takes the shared side of every name in `names` (sorted order) and
   * resolves to the function that gives them back; calling it again does
   * nothing. For a hold that outlives one function call (values staged for
   * a later write keep their subjects' locks until it is done).
   */
  async holdShared(names: readonly string[]): Promise<() => void> {
    const sorted = names.length === 1 ? names : [...new Set(names)].sort();
    for (const n of sorted) if (!this.tryAcquire(n, false)) await this.acquire(n, false);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      for (const n of sorted) this.release(n, false);
    };
  }

  /**
   * Takes the shared side of every name in `names` (one name, or several) now if all are free, and
   * returns true; otherwise takes none and returns false (no promise: the
   * append path's common case). Nothing waits, so the order does not matter.
   */
  tryHoldShared(names: string | readonly string[]): boolean {
    if (typeof names === 'string') return this.tryAcquire(names, false);
    for (let i = 0; i < names.length; i++) {
      if (this.tryAcquire(names[i]!, false)) continue;
      for (let j = 0; j < i; j++) this.release(names[j]!, false);
      return false;
    }
    return true;
  }

  /** Gives back the shared sides tryHoldShared took (one name, or several). */
  releaseShared(names: string | readonly string[]): void {
    if (typeof names === 'string') this.release(names, false);
    else for (const n of names) this.release(n, false);
  }

  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(name, true);
    try {
      return await fn();
    } finally {
      this.release(name, true);
    }
  }

  /** Takes the lock now if it is free (no promise, no await: the common case on the append path). */
  private tryAcquire(name: string, exclusive: boolean): boolean {
    let s = this.locks.get(name);
    if (!s) this.locks.set(name, (s = { readers: 0, writer: false, queue: [] }));
    // Waiting writers block new readers, so a busy subject cannot starve erasure.
    const free = exclusive ? !s.writer && s.readers === 0 && s.queue.length === 0 : !s.writer && s.queue.length === 0;
    if (!free) return false;
    if (exclusive) s.writer = true;
    else s.readers++;
    return true;
  }

  private acquire(name: string, exclusive: boolean): Promise<void> {
    if (this.tryAcquire(name, exclusive)) return Promise.resolve();
    const state = this.locks.get(name)!;
    return new Promise((grant) => state.queue.push({ exclusive, grant }));
  }

  private release(name: string, exclusive: boolean): void {
    const s = this.locks.get(name)!;
    if (exclusive) s.writer = false;
    else s.readers--;
    while (s.queue.length > 0 && !s.writer) {
      const next = s.queue[0]!;
      if (next.exclusive) {
        if (s.readers > 0) break;
        s.queue.shift();
        s.writer = true;
        next.grant();
        break;
      }
      s.queue.shift();
      s.readers++;
      next.grant();
    }
    if (!s.writer && s.readers === 0 && s.queue.length === 0) this.locks.delete(name);
  }
}
