/**
 * Per-key and per-tenant rate limits on appends and on reads (spec/limits.md).
 *
 * Every authenticated request is charged to two buckets of its class: its
 * key's and its tenant's (a `*` key's tenant bucket is shared by all `*`
 * keys). Both must have room, or nothing is taken and the caller gets 429
 * RATE_LIMITED with Retry-After. Appends weigh one per event, so a batch of
 * 500 costs as much as 500 single appends; reads weigh one per request.
 */

import { TlogError } from '../errors.js';
import { BucketMap, type BucketLimit } from './token-bucket.js';

export type RateClass = 'append' | 'read';
export type RateScope = 'key' | 'tenant';

/** A limit per class and scope; `undefined` means unlimited. */
export type RateLimitConfig = Record<RateClass, Record<RateScope, BucketLimit | undefined>>;

const UNITS: Record<RateClass, string> = { append: 'events', read: 'requests' };

export class RateLimits {
  private readonly maps: Record<RateClass, Record<RateScope, BucketMap | undefined>>;

  constructor(
    readonly config: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {
    const m = (l: BucketLimit | undefined) => (l ? new BucketMap(l) : undefined);
    this.maps = {
      append: { key: m(config.append.key), tenant: m(config.append.tenant) },
      read: { key: m(config.read.key), tenant: m(config.read.tenant) },
    };
  }

  /**
   * Charges `weight` to the key's and the tenant's bucket of `cls`, or
   * throws RATE_LIMITED (taking nothing) if either lacks room.
   */
  charge(cls: RateClass, key: { readonly id: string; readonly tenant: string }, weight = 1): void {
    this.admit(cls, key, weight, true);
  }

  /** Throws RATE_LIMITED as `charge` would for `weight`, but takes nothing. */
  check(cls: RateClass, key: { readonly id: string; readonly tenant: string }, weight = 1): void {
    this.admit(cls, key, weight, false);
  }

  /**
   * Gives back `weight` that `charge` took from both buckets, for a request
   * refused after it was charged (a batch the sequencer pool cannot take now).
   */
  refund(cls: RateClass, key: { readonly id: string; readonly tenant: string }, weight: number): void {
    if (weight <= 0) return;
    const now = this.now();
    const maps = this.maps[cls];
    maps.key?.get(key.id, now).refund(weight, now);
    maps.tenant?.get(key.tenant, now).refund(weight, now);
  }

  private admit(cls: RateClass, key: { readonly id: string; readonly tenant: string }, weight: number, take: boolean): void {
    const now = this.now();
    const maps = this.maps[cls];
    const kb = maps.key?.get(key.id, now);
    const tb = maps.tenant?.get(key.tenant, now);
    const kWait = kb?.wait(weight, now) ?? 0;
    const tWait = tb?.wait(weight, now) ?? 0;
    if (kWait > 0 || tWait > 0) {
      const scope: RateScope = kWait >= tWait ? 'key' : 'tenant';
      const limit = (scope === 'key' ? kb : tb)!.limit;
      throw new TlogError('RATE_LIMITED', `the ${scope}'s ${cls} limit (${limit.rate} ${UNITS[cls]}/s, burst ${limit.burst}) is used up`, {
        details: { scope, limit: limit.rate, burst: limit.burst },
        retryAfter: Math.max(1, Math.ceil(Math.max(kWait, tWait) / 1000)),
      });
    }
    if (take) {
      kb?.take(weight, now);
      tb?.take(weight, now);
    }
  }
}

/** Parses a config value "<rate>[,<burst>]" | "0" | "off" (validated by src/config.ts). */
export function parseRate(value: string): BucketLimit | undefined {
  if (value === '0' || value === 'off') return undefined;
  const [r, b] = value.split(',');
  const rate = Number(r);
  return { rate, burst: b !== undefined ? Number(b) : Math.max(1, Math.ceil(rate * 2)) };
}

export function rateLimitConfig(c: { rateAppendKey: string; rateAppendTenant: string; rateReadKey: string; rateReadTenant: string }): RateLimitConfig {
  return {
    append: { key: parseRate(c.rateAppendKey), tenant: parseRate(c.rateAppendTenant) },
    read: { key: parseRate(c.rateReadKey), tenant: parseRate(c.rateReadTenant) },
  };
}
