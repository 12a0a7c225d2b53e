/** Fair turns: round-robin across tenants, FIFO within one, bounded, one grant per deferral. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairTurns } from '../../src/limits/fair-turns.js';

/** A FairTurns whose deferred grants run only when the test says. */
function manual(maxWaiting = 100) {
  const pending: Array<() => void> = [];
  const turns = new FairTurns(maxWaiting, (fn) => pending.push(fn));
  const order: string[] = [];
  const ask = (tenant: string, label: string) => void turns.turn(tenant).then(() => order.push(label));
  /** Runs deferred grants one at a time (with their microtasks) until none are left. */
  const drain = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await Promise.resolve();
      await Promise.resolve();
    }
  };
  return { turns, order, ask, drain, pending };
}

describe('FairTurns', () => {
  it('a quiet tenant waits for one step of a flooding tenant, not for its whole queue', async () => {
    const m = manual();
    for (let i = 0; i < 32; i++) m.ask('flood', `f${i}`);
    m.ask('steady', 's0');
    await m.drain();
    expect(m.order.indexOf('s0')).toBe(1);
    expect(m.order.filter((x) => x.startsWith('f'))).toEqual(Array.from({ length: 32 }, (_, i) => `f${i}`));
  });

  it('grants one turn per deferral, so new arrivals can join between grants', async () => {
    const m = manual();
    m.ask('a', 'a0');
    m.ask('a', 'a1');
    m.ask('a', 'a2');
    expect(m.pending.length).toBe(1);
    m.pending.shift()!();
    await Promise.resolve();
    expect(m.order).toEqual(['a0']);
    // b arrives between two grants and joins the rotation behind a (which
    // went to the back when it had its turn): it waits for one step of a, not
    // for a's whole queue. Putting newcomers first would let a tenant whose
    // requests arrive one per poll take every turn.
    m.ask('b', 'b0');
    await m.drain();
    expect(m.order).toEqual(['a0', 'a1', 'b0', 'a2']);
    expect(m.turns.depth).toBe(0);
  });

  it('refuses with 503 OVERLOADED past maxWaiting, and takes requests again once turns are granted', async () => {
    const m = manual(3);
    m.ask('a', 'a0');
    m.ask('a', 'a1');
    m.ask('b', 'b0');
    expect(() => m.turns.turn('c')).toThrow(expect.objectContaining({ code: 'OVERLOADED', status: 503, retryAfter: 1 }));
    await m.drain();
    expect(m.order).toEqual(['a0', 'b0', 'a1']);
    m.ask('c', 'c0');
    await m.drain();
    expect(m.order.at(-1)).toBe('c0');
  });

  it('property: every turn is granted once; FIFO per tenant; between two grants of one tenant, every other tenant waiting throughout gets one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 60 }), async (tenants) => {
        const m = manual(1000);
        tenants.forEach((t, i) => m.ask(`t${t}`, `t${t}:${i}`));
        await m.drain();
        expect(m.order.length).toBe(tenants.length);
        const byTenant = new Map<string, number[]>();
        for (const label of m.order) {
          const [t, i] = label.split(':') as [string, string];
          byTenant.set(t, [...(byTenant.get(t) ?? []), Number(i)]);
        }
        for (const seq of byTenant.values()) expect(seq).toEqual([...seq].sort((x, y) => x - y));
        // All asked before the first grant: the grants go round-robin, so in any
        // prefix two tenants' counts differ by at most one while both still wait.
        const count = new Map<string, number>();
        const total = new Map<string, number>();
        for (const t of tenants) total.set(`t${t}`, (total.get(`t${t}`) ?? 0) + 1);
        for (const label of m.order) {
          const t = label.split(':')[0]!;
          count.set(t, (count.get(t) ?? 0) + 1);
          for (const [u, n] of total) {
            const c = count.get(u) ?? 0;
            if (c < n) expect(count.get(t)! - c).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });
});
