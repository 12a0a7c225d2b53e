/** The server's random pool: bytes handed out (taken or filled into a buffer) are never handed out again. */

import { describe, expect, it } from 'vitest';
import { RandomPool } from '../src/random.js';

describe('random pool', () => {
  it('fill writes fresh bytes at the offset and leaves the rest alone; no draw repeats another', () => {
    const pool = new RandomPool();
    const dst = new Uint8Array(40).fill(0xaa);
    pool.fill(dst, 4, 32);
    expect([...dst.subarray(0, 4), ...dst.subarray(36)]).toEqual(new Array(8).fill(0xaa));
    const seen = new Set<string>([Buffer.from(dst.subarray(4, 36)).toString('hex')]);
    // Across a refill of the 64 KiB pool too.
    for (let i = 0; i < 3000; i++) {
      const b = i % 2 === 0 ? pool.take(32) : (pool.fill(dst, 4, 32), dst.subarray(4, 36));
      const hex = Buffer.from(b).toString('hex');
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
    }
  });

  it('a draw larger than the pool still comes from the CSPRNG', () => {
    const pool = new RandomPool();
    const big = new Uint8Array(70_000);
    pool.fill(big, 0, big.length);
    expect(big.some((x) => x !== 0)).toBe(true);
    expect(pool.take(70_000).length).toBe(70_000);
  });
});
