/**
 * Token buckets for rate limits: a bucket holds up to `burst` tokens and
 * refills at `rate` tokens per second. A request of weight w (a batch weighs
 * its event count) needs min(w, burst) tokens on hand and then takes all w,
 * so the bucket may go negative: a batch larger than the burst is admitted
 * from a full bucket but is paid for in full before the next request, and the
 * long-run rate stays `rate` whatever the weights.
 *
 * Pure and synchronous, with the clock passed in, so tests drive time.
 */

export interface BucketLimit {
  /** Tokens per second; > 0. */
  readonly rate: number;
  /** Bucket size; ≥ 1. */
  readonly burst: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly limit: BucketLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) / 1000) * this.limit.rate);
      this.at = now;
    }
  }

  /** Milliseconds until `weight` may be taken; 0 if it may be taken now. */
  wait(weight: number, now: number): number {
    this.refill(now);
    const need = Math.min(weight, this.limit.burst);
    return this.tokens >= need ? 0 : ((need - this.tokens) / this.limit.rate) * 1000;
  }

  /** Takes `weight` tokens (call after `wait` said 0). */
  take(weight: number, now: number): void {
    this.refill(now);
    this.tokens -= weight;
  }

  /** Gives back `weight` tokens taken for a request that was then refused (never above the burst). */
  refund(weight: number, now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.limit.burst, this.tokens + weight);
  }

  /** True when the bucket is full again, i.e. forgetting it changes nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.limit.burst;
  }
}

/**
 * One bucket per id (a key id or a tenant). Ids come only from authenticated
 * keys, so the map is bounded by the key ring; past `maxIds` full buckets
 * are forgotten anyway, which is exact (a new bucket starts full).
 */
export class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly limit: BucketLimit,
    private readonly maxIds = 10_000,
  ) {}

  get(id: string, now: number): TokenBucket {
    let b = this.buckets.get(id);
    if (b === undefined) {
      if (this.buckets.size >= this.maxIds) for (const [k, v] of this.buckets) if (v.isFull(now)) this.buckets.delete(k);
      b = new TokenBucket(this.limit, now);
      this.buckets.set(id, b);
    }
    return b;
  }

  get size(): number {
    return this.buckets.size;
  }
}
