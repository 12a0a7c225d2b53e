/** Server-side randomness (node:crypto): a CSPRNG pool for the many small draws of the hot path. */

import { randomFillSync } from 'node:crypto';

/**
 * CSPRNG bytes drawn from a refilled 64 KiB pool: one syscall per ~4,000
 * ids instead of one each. Bytes handed out are zeroed in the pool, so the
 * same bytes are never handed out twice.
 */
export class RandomPool {
  private readonly pool = new Uint8Array(65536);
  private at = this.pool.length;

  /** `n` fresh bytes, in an array of their own. */
  take(n: number): Uint8Array {
    if (n > this.pool.length) return new Uint8Array(randomFillSync(new Uint8Array(n)));
    const from = this.reserve(n);
    const out = this.pool.slice(from, from + n);
    this.pool.fill(0, from, from + n);
    return out;
  }

  /**
   * `n` fresh bytes written into `dst` at `offset`: for bytes that go
   * straight into a larger buffer (a salt into a sealed plaintext, a nonce
   * into a record), without an array of their own on the way.
   */
  fill(dst: Uint8Array, offset: number, n: number): void {
    if (n > this.pool.length) {
      randomFillSync(dst, offset, n);
      return;
    }
    const from = this.reserve(n);
    const pool = this.pool;
    // A loop, not set(subarray()): these are a few dozen bytes, and a view costs more than the copy.
    for (let k = 0; k < n; k++) {
      dst[offset + k] = pool[from + k]!;
      pool[from + k] = 0;
    }
  }

  private reserve(n: number): number {
    if (this.at + n > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const from = this.at;
    this.at += n;
    return from;
  }
}

/** A pool's `take`, for callers that want a function (`(n) => bytes`). */
export function pooledRandom(): (n: number) => Uint8Array {
  const pool = new RandomPool();
  return (n) => pool.take(n);
}
