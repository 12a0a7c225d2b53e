/** Fair turns: round-robin across tenants, FIFO within one, rounds bounded in time, bounded queue. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairTurns } from '../../src/limits/fair-turns.js';

/**
 * A FairTurns whose rounds run only when the test says, on a clock that
 * each step advances by `stepMs`.
 */
function manual(opts: { maxWaiting?: number; roundMs?: number; stepMs?: number } = {}) {
  const pending: Array<() => void> = [];
  let clock = 0;
  const errors: unknown[] = [];
  const turns = new FairTurns(opts.maxWaiting ?? 1000, {
    defer: (fn) => pending.push(fn),
    now: () => clock,
    roundMs: opts.roundMs ?? 1e9,
    onStepError: (e) => errors.push(e),
  });
  const order: string[] = [];
  const rounds: string[][] = [];
  const ask = (tenant: string, label: string) =>
    turns.run(tenant, () => {
      clock += opts.stepMs ?? 0;
      order.push(label);
      rounds.at(-1)!.push(label);
    });
  /** Runs one deferred round (and the microtasks it starts). */
  const round = async () => {
    rounds.push([]);
    pending.shift()!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const drain = async () => {
    while (pending.length > 0) await round();
  };
  return { turns, order, rounds, ask, round, drain, pending, errors };
}

describe('FairTurns', () => {
  it('a quiet tenant waits for one step of a flooding tenant, not for its whole queue', async () => {
    const m = manual();
    for (let i = 0; i < 32; i++) m.ask('flood', `f${i}`);
    m.ask('steady', 's0');
    await m.drain();
    expect(m.order.indexOf('s0')).toBe(1);
    expect(m.order.filter((x) => x.startsWith('f'))).toEqual(Array.from({ length: 32 }, (_, i) => `f${i}`));
    expect(m.turns.depth).toBe(0);
  });

  it('a round runs steps until roundMs has passed, then the event loop polls before the next', async () => {
    const m = manual({ roundMs: 2, stepMs: 1 });
    for (let i = 0; i < 5; i++) m.ask('a', `a${i}`);
    expect(m.pending.length).toBe(1);
    await m.round();
    expect(m.rounds[0]).toEqual(['a0', 'a1']);
    // b arrives between two rounds and joins the rotation behind a (which
    // went to the back when it had its step): it waits for one step of a.
    m.ask('b', 'b0');
    await m.drain();
    expect(m.order).toEqual(['a0', 'a1', 'a2', 'b0', 'a3', 'a4']);
    expect(m.rounds.slice(1)).toEqual([['a2', 'b0'], ['a3', 'a4']]);
  });

  it('an asynchronous turn ends its round, so its work runs before any other step', async () => {
    const m = manual();
    const seen: string[] = [];
    m.ask('a', 'a0');
    const t = m.turns.turn('b').then(() => seen.push(`b-async after ${m.order.join(',')}`));
    m.ask('a', 'a1');
    await m.round();
    expect(m.rounds[0]).toEqual(['a0']);
    await t;
    expect(seen).toEqual(['b-async after a0']);
    await m.drain();
    expect(m.order).toEqual(['a0', 'a1']);
  });

  it('a step that throws is reported and the round goes on', async () => {
    const m = manual();
    m.turns.run('a', () => {
      throw new Error('boom');
    });
    m.ask('a', 'a1');
    await m.drain();
    expect(m.order).toEqual(['a1']);
    expect(m.errors).toHaveLength(1);
  });

  it('refuses with 503 OVERLOADED past maxWaiting, and takes steps again once they have run', async () => {
    const m = manual({ maxWaiting: 3 });
    m.ask('a', 'a0');
    m.ask('a', 'a1');
    m.ask('b', 'b0');
    expect(() => m.ask('c', 'c0')).toThrow(expect.objectContaining({ code: 'OVERLOADED', status: 503, retryAfter: 1 }));
    // A started request's later step is never refused (a batch already
    // appended must get to send its receipts).
    let later = false;
    const t = m.turns.turn('a').then(() => (later = true));
    await m.drain();
    await t;
    expect(later).toBe(true);
    expect(m.order).toEqual(['a0', 'b0', 'a1']);
    m.ask('c', 'c0');
    await m.drain();
    expect(m.order.at(-1)).toBe('c0');
  });

  it('unloaded, a step runs in the first round after it is queued', async () => {
    const m = manual({ roundMs: 2, stepMs: 1 });
    m.ask('a', 'a0');
    await m.round();
    expect(m.order).toEqual(['a0']);
    expect(m.pending.length).toBe(0);
  });

  it('property: every step runs once; FIFO per tenant; round-robin across the tenants still waiting; rounds bounded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 6 }), async (tenants, roundMs) => {
        const m = manual({ roundMs, stepMs: 1 });
        tenants.forEach((t, i) => m.ask(`t${t}`, `t${t}:${i}`));
        await m.drain();
        expect(m.order.length).toBe(tenants.length);
        for (const r of m.rounds) expect(r.length).toBeLessThanOrEqual(roundMs);
        const byTenant = new Map<string, number[]>();
        for (const label of m.order) {
          const [t, i] = label.split(':') as [string, string];
          byTenant.set(t, [...(byTenant.get(t) ?? []), Number(i)]);
        }
        for (const seq of byTenant.values()) expect(seq).toEqual([...seq].sort((x, y) => x - y));
        // All queued before the first round: in any prefix of the order, two
        // tenants that both still have steps differ by at most one step.
        const total = new Map<string, number>();
        for (const t of tenants) total.set(`t${t}`, (total.get(`t${t}`) ?? 0) + 1);
        const count = new Map<string, number>();
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
