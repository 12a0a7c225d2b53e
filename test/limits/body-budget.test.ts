/** The body budget's arithmetic (src/limits/body-budget.ts); over HTTP in bodies.test.ts. */

import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/limits/body-budget.js';
import { TokenBucket } from '../../src/limits/token-bucket.js';

describe('BodyBudget', () => {
  it('gives each tenant at most half, and all of them together at most the total; all or nothing', () => {
    const b = new BodyBudget(100);
    expect(b.perTenant).toBe(50);
    expect(b.take('a', 30)).toBe(true);
    expect(b.take('a', 21)).toBe(false); // 51 > 50
    expect(b.heldBy('a')).toBe(30);
    expect(b.take('a', 20)).toBe(true);
    expect(b.take('b', 45)).toBe(true);
    expect(b.take('c', 6)).toBe(false); // 101 > 100
    expect(b.take('c', 5)).toBe(true);
    expect(b.inUse).toBe(100);
    b.give('a', 50);
    expect(b.heldBy('a')).toBe(0);
    expect(b.inUse).toBe(50);
    expect(b.take('c', 45)).toBe(true);
    expect(b.take('c', 1)).toBe(false);
    b.give('b', 45);
    b.give('c', 50);
    expect(b.inUse).toBe(0);
  });

  it('takes nothing for an empty body', () => {
    const b = new BodyBudget(10);
    expect(b.take('a', 5)).toBe(true);
    expect(b.take('a', 0)).toBe(true);
    expect(b.inUse).toBe(5);
  });
});

describe('TokenBucket.refund', () => {
  it('gives tokens back, never above the burst', () => {
    const t = new TokenBucket({ rate: 1, burst: 10 }, 0);
    t.take(8, 0);
    expect(t.wait(3, 0)).toBeGreaterThan(0);
    t.refund(7, 0);
    expect(t.wait(9, 0)).toBe(0);
    t.refund(100, 0);
    expect(t.isFull(0)).toBe(true);
    t.take(10, 0);
    expect(t.wait(1, 0)).toBeGreaterThan(0);
  });
});
