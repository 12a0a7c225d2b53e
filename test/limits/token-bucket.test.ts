/** Token buckets and the per-key/per-tenant limiter, driven by an injected clock. */

import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { parseRate, RateLimits, rateLimitConfig } from '../../src/limits/rate-limits.js';
import { BucketMap, TokenBucket } from '../../src/limits/token-bucket.js';
import { loadConfig } from '../../src/config.js';

describe('TokenBucket', () => {
  it('starts full, refills at its rate and never beyond its burst', () => {
    const b = new TokenBucket({ rate: 10, burst: 5 }, 0);
    expect(b.wait(5, 0)).toBe(0);
    b.take(5, 0);
    expect(b.wait(1, 0)).toBeCloseTo(100);
    expect(b.wait(1, 100)).toBe(0);
    expect(b.isFull(10_000)).toBe(true);
    expect(b.wait(5, 10_000)).toBe(0);
    expect(b.wait(6, 10_000)).toBe(0); // heavier than the burst: a full bucket admits it
  });

  it('a weight above the burst goes into debt, so the long-run rate holds', () => {
    const b = new TokenBucket({ rate: 10, burst: 5 }, 0);
    b.take(25, 0); // tokens: -20
    expect(b.wait(1, 0)).toBeCloseTo(2100);
    expect(b.wait(1, 2000)).toBeCloseTo(100);
    expect(b.wait(1, 2100)).toBe(0);
  });

  it('BucketMap forgets only full buckets when it grows past its bound', () => {
    const m = new BucketMap({ rate: 1, burst: 2 }, 3);
    m.get('a', 0).take(2, 0);
    m.get('b', 0);
    m.get('c', 0);
    m.get('d', 0); // over the bound: b and c are full and go, a is kept
    expect(m.size).toBe(2);
    expect(m.get('a', 0).wait(1, 0)).toBeGreaterThan(0);
  });
});

describe('RateLimits', () => {
  const key = (id: string, tenant: string) => ({ id, tenant });
  const limited = (f: () => void): TlogError => {
    try {
      f();
    } catch (e) {
      if (e instanceof TlogError) return e;
      throw e;
    }
    throw new Error('expected RATE_LIMITED');
  };

  it('charges the key and the tenant; the tighter one answers, with Retry-After and scope', () => {
    let now = 0;
    const rl = new RateLimits({ append: { key: { rate: 1, burst: 3 }, tenant: { rate: 2, burst: 4 } }, read: { key: undefined, tenant: undefined } }, () => now);
    rl.charge('append', key('k1', 'acme'), 3);
    const e = limited(() => rl.charge('append', key('k1', 'acme')));
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.status).toBe(429);
    expect(e.details).toMatchObject({ scope: 'key', limit: 1, burst: 3 });
    expect(e.retryAfter).toBe(1);
    // Another key of the same tenant: the tenant has 1 token left.
    rl.charge('append', key('k2', 'acme'));
    const t = limited(() => rl.charge('append', key('k2', 'acme')));
    expect(t.details).toMatchObject({ scope: 'tenant' });
    // Another tenant is untouched; reads are unlimited here.
    rl.charge('append', key('k3', 'globex'), 3);
    for (let i = 0; i < 1000; i++) rl.charge('read', key('k1', 'acme'));
    now = 1000;
    rl.charge('append', key('k1', 'acme'));
  });

  it('a refused charge takes nothing from either bucket; check takes nothing at all', () => {
    const rl = new RateLimits({ append: { key: { rate: 1, burst: 5 }, tenant: { rate: 1, burst: 2 } }, read: { key: undefined, tenant: undefined } }, () => 0);
    rl.charge('append', key('k', 't'), 2); // key 3 left, tenant 0
    expect(limited(() => rl.charge('append', key('k', 't'))).details).toMatchObject({ scope: 'tenant' });
    // The key bucket still holds 3 (seen through a fresh tenant bucket).
    rl.charge('append', key('k', 'u'), 1);
    rl.charge('append', key('k', 'v'), 1);
    rl.charge('append', key('k', 'w'), 1);
    expect(limited(() => rl.charge('append', key('k', 'x'))).details).toMatchObject({ scope: 'key' });
    for (let i = 0; i < 100; i++) rl.check('append', key('k2', 'y'));
    rl.charge('append', key('k2', 'y'), 2);
  });

  it('retry-after rounds up to whole seconds', () => {
    const rl = new RateLimits({ append: { key: { rate: 0.5, burst: 1 }, tenant: undefined }, read: { key: undefined, tenant: undefined } }, () => 0);
    rl.charge('append', key('k', 't'));
    expect(limited(() => rl.charge('append', key('k', 't'))).retryAfter).toBe(2);
  });

  it('parses the config strings, with "off" and a default burst of twice the rate', () => {
    expect(parseRate('off')).toBeUndefined();
    expect(parseRate('0')).toBeUndefined();
    expect(parseRate('10')).toEqual({ rate: 10, burst: 20 });
    expect(parseRate('0.2')).toEqual({ rate: 0.2, burst: 1 });
    expect(parseRate('100,5')).toEqual({ rate: 100, burst: 5 });
    const c = rateLimitConfig(loadConfig({}));
    expect(c.append.key).toEqual({ rate: 200, burst: 1000 });
    expect(c.read.tenant).toEqual({ rate: 500, burst: 1000 });
    expect(rateLimitConfig(loadConfig({ TLOG_RATE_READ_KEY: 'OFF' })).read.key).toBeUndefined();
    for (const bad of ['-1', '1,0', 'x', '1,2,3', '0.0', '1e3', ' ,5'])
      expect(() => loadConfig({ TLOG_RATE_APPEND_KEY: bad }), bad).toThrow(/TLOG_RATE_APPEND_KEY/);
  });
});
