/**
 * The second-chance cache: bounded, keeps what is used, evicts what is not,
 * never evicts the entry being added.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lru } from '../../src/log/lru.js';

describe('Lru (second chance)', () => {
  it('evicts the oldest entry not used since; a used one gets a second chance', () => {
    const c = new Lru<string, number>(3);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    expect(c.get('a')).toBe(1);
    c.set('d', 4); // a was used: b, the oldest unused, goes
    expect(c.peek('b')).toBeUndefined();
    expect([c.peek('a'), c.peek('c'), c.peek('d')]).toEqual([1, 3, 4]);
    c.set('e', 5); // a lost its flag when passed over; c is older and unused
    expect(c.peek('c')).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it('peek does not count as a use; set of a present key updates it in place', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.peek('a')).toBe(1);
    c.set('c', 3);
    expect(c.peek('a')).toBeUndefined();
    c.set('b', 20);
    expect(c.get('b')).toBe(20);
    expect(c.size).toBe(2);
  });

  it('stays within capacity and keeps the entry just added', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 200 }), (cap, ops) => {
        const c = new Lru<number, number>(cap);
        for (const [k, read] of ops) {
          if (read) c.get(k);
          else {
            c.set(k, k);
            expect(c.peek(k)).toBe(k);
          }
          expect(c.size).toBeLessThanOrEqual(cap);
        }
      }),
    );
  });

  it('keys read between inserts survive any number of keys used once (a scan does not flush the cache)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 300 }), (hot, cold) => {
        const c = new Lru<string, number>(hot + 1);
        for (let h = 0; h < hot; h++) c.set(`hot-${h}`, h);
        for (let i = 0; i < cold; i++) {
          for (let h = 0; h < hot; h++) expect(c.get(`hot-${h}`)).toBe(h);
          c.set(`cold-${i}`, i);
        }
      }),
    );
  });
});
