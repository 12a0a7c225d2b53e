/** Server-side randomness (node:crypto): a CSPRNG pool for the many small draws of the hot path. */

import { randomFillSync } from 'node:crypto';

/**
 * CSPRNG bytes drawn from a refilled 64 KiB pool: one syscall per ~4,000
 * ids instead of one each. Bytes handed out are zeroed in the pool, so the
 * same bytes are never handed out twice.
 */
export function pooledRandom(): (n: number) => Uint8Array {
  const pool = new Uint8Array(65536);
  let at = pool.length;
  return (n) => {
    if (n > pool.length) return new Uint8Array(randomFillSync(new Uint8Array(n)));
    if (at + n > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const out = pool.slice(at, at + n);
    pool.fill(0, at, at + n);
    at += n;
    return out;
  };
}
