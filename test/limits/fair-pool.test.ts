/**
 * The sequencer pool is shared fairly: per-tenant queues drained in equal
 * shares, and one tenant holds at most half of maxPending. Real LevelDB.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/index.js';
import type { Log } from '../../src/log/log.js';
import { sampleEvent } from '../helpers.js';
import { openTestLog } from '../log/open-log.js';

const ORIGIN = 'test.example/fair';
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function openLog(maxPending: number, maxBatch: number): Promise<Log> {
  const t = await openTestLog(ORIGIN, maxPending, maxBatch);
  cleanup = t.close;
  return t.log;
}

const ev = (i: number) => parseEvent(sampleEvent(i));

describe('fair sequencer pool', () => {
  it('a flush takes an equal share from each waiting tenant, FIFO within each', async () => {
    const log = await openLog(100, 4);
    // All queued before the first flush runs: 6 of A, then 2 of B.
    const a = Array.from({ length: 6 }, (_, i) => log.append('a', ev(i), { assignedId: true }));
    const b = Array.from({ length: 2 }, (_, i) => log.append('b', ev(10 + i), { assignedId: true }));
    const ia = (await Promise.all(a)).map((x) => x.index);
    const ib = (await Promise.all(b)).map((x) => x.index);
    // First flush of 4: two of A and both of B. A FIFO pool would put B at 6, 7.
    expect(ib.every((i) => i < 4)).toBe(true);
    expect(ia).toEqual([...ia].sort((x, y) => x - y));
    expect(new Set([...ia, ...ib]).size).toBe(8);
    expect(Math.max(...ia, ...ib)).toBe(7);
  });

  it('a flush interleaves the tenants (its waiters are resolved, and answered, in that order), FIFO within each', async () => {
    const log = await openLog(100, 100);
    const a = Array.from({ length: 5 }, (_, i) => log.append('a', ev(i), { assignedId: true }));
    const b = Array.from({ length: 2 }, (_, i) => log.append('b', ev(10 + i), { assignedId: true }));
    const resolved: string[] = [];
    a.forEach((p, i) => void p.then(() => resolved.push(`a${i}`)));
    b.forEach((p, i) => void p.then(() => resolved.push(`b${i}`)));
    const ia = (await Promise.all(a)).map((x) => x.index);
    const ib = (await Promise.all(b)).map((x) => x.index);
    expect(ia).toEqual([0, 2, 4, 5, 6]);
    expect(ib).toEqual([1, 3]);
    expect(resolved).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4']);
  });

  it('a share one tenant cannot fill goes to the others', async () => {
    const log = await openLog(100, 6);
    const a = Array.from({ length: 1 }, (_, i) => log.append('a', ev(i), { assignedId: true }));
    const b = Array.from({ length: 8 }, (_, i) => log.append('b', ev(10 + i), { assignedId: true }));
    const c = Array.from({ length: 8 }, (_, i) => log.append('c', ev(20 + i), { assignedId: true }));
    const [ia, ib, ic] = await Promise.all([a, b, c].map(async (p) => (await Promise.all(p)).map((x) => x.index)));
    expect(ia![0]).toBeLessThan(6);
    // The first flush (6) is A's 1 plus B's and C's shares: B and C both start in it.
    expect(ib!.filter((i) => i < 6).length).toBeGreaterThanOrEqual(2);
    expect(ic!.filter((i) => i < 6).length).toBeGreaterThanOrEqual(2);
  });

  it('one tenant holds at most half of maxPending; the others still get in', async () => {
    const log = await openLog(8, 8);
    const a = Array.from({ length: 6 }, (_, i) => log.append('a', ev(i), { assignedId: true }));
    const b = Array.from({ length: 4 }, (_, i) => log.append('b', ev(10 + i), { assignedId: true }));
    const ra = await Promise.allSettled(a);
    const rb = await Promise.allSettled(b);
    expect(ra.filter((r) => r.status === 'fulfilled').length).toBe(4);
    for (const r of ra.slice(4)) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.code).toBe('OVERLOADED');
      expect((r as PromiseRejectedResult).reason.message).toContain('share');
    }
    expect(rb.every((r) => r.status === 'fulfilled')).toBe(true);
    // A batch reservation is checked against the tenant's share too.
    expect(() => log.reserve(5, 'a')).toThrow(/share/);
    expect(() => log.reserve(4, 'a')).not.toThrow();
    expect(() => log.reserve(9)).toThrow(/pool is full/);
  });
});
