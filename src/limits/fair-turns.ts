/**
 * Fair turns on the event loop: the CPU work of requests is taken in turns,
 * round-robin across tenants, one request's step per turn of the loop.
 *
 * Why: rate limits bound a tenant's *rate*, not how much of its work lands
 * in one turn of the event loop. After any stall, a tenant with many
 * connections has many requests ready at once; without turns, node runs
 * every one of their handlers back to back (parse, validate, scrub, encode:
 * 100–300 µs each), ahead of a quieter tenant's request that arrived in the
 * same poll. With turns, that request waits for at most one step of each
 * other tenant with work waiting (spec/limits.md §2).
 *
 * Invariants:
 * - Within a tenant, turns are granted first come, first served.
 * - Across tenants, round-robin: a tenant that has just had a turn goes to
 *   the back of the rotation, so with k tenants waiting each gets a turn in
 *   every k grants, whatever their queue lengths.
 * - One grant per `defer` (setImmediate): the granted step runs right after
 *   the grant (a microtask), and the next grant waits for the next check
 *   phase, so the poll phase between them lets new requests join the queues.
 *   Unloaded, a turn is granted in the same loop iteration it is asked for.
 * - Work-conserving: a lone tenant is never held back, only ordered.
 * - Bounded: at most `maxWaiting` requests wait; past that `turn` throws
 *   503 OVERLOADED (the request's body is already in memory, so waiting
 *   requests are what this bounds).
 */

import { TlogError } from '../errors.js';

/** Requests that may wait for a turn at once (each holds its read body); past it, 503. */
export const MAX_WAITING_TURNS = 4096;

export type Defer = (fn: () => void) => void;

export class FairTurns {
  /** Tenants with waiting requests, in rotation order (Map keeps insertion order). */
  private readonly queues = new Map<string, Array<() => void>>();
  private waiting = 0;
  private scheduled = false;

  constructor(
    readonly maxWaiting: number,
    private readonly defer: Defer = setImmediate,
  ) {}

  /** Requests waiting for a turn (for /healthz and metrics). */
  get depth(): number {
    return this.waiting;
  }

  /** Resolves when `tenant` may run its next step; throws OVERLOADED when the queues are full. */
  turn(tenant: string): Promise<void> {
    if (this.waiting >= this.maxWaiting)
      throw new TlogError('OVERLOADED', 'too many requests are waiting for a turn', { retryAfter: 1 });
    return new Promise<void>((resolve) => {
      const q = this.queues.get(tenant);
      if (q) q.push(resolve);
      else this.queues.set(tenant, [resolve]);
      this.waiting++;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(this.grant);
  }

  private readonly grant = (): void => {
    this.scheduled = false;
    const first = this.queues.entries().next();
    if (first.done) return;
    const [tenant, q] = first.value;
    const resolve = q.shift()!;
    // To the back of the rotation (or out of it when it has nothing left).
    this.queues.delete(tenant);
    if (q.length > 0) this.queues.set(tenant, q);
    this.waiting--;
    resolve();
    if (this.waiting > 0) this.schedule();
  };
}
