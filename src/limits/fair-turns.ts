/**
 * Fair turns on the event loop: the CPU work of requests is taken in turns,
 * round-robin across tenants, in rounds of bounded length.
 *
 * Why: rate limits bound a tenant's *rate*, not how much of its work lands
 * in one turn of the event loop. After any stall, a tenant with many
 * connections has many requests ready at once; without turns, node runs
 * every one of their handlers back to back (parse, validate, scrub, encode:
 * 100–300 µs each), ahead of a quieter tenant's request that arrived in the
 * same poll. With turns, that request waits for at most the rest of one
 * round plus one step of each other tenant with work waiting
 * (spec/limits.md §2).
 *
 * Invariants:
 * - Within a tenant, steps run first come, first served.
 * - Across tenants, round-robin: a tenant that has just had a step goes to
 *   the back of the rotation, so with k tenants waiting each gets a step in
 *   every k, whatever their queue lengths. A tenant that arrives joins the
 *   back, behind the one that just ran: putting newcomers first would let a
 *   tenant whose requests arrive one per poll take every step.
 * - Rounds: one round per check phase (`setImmediate`), so the poll phase
 *   between two rounds lets new requests join the queues. A round runs
 *   synchronous steps until the queues are empty or `roundMs` has passed;
 *   a round also ends after it grants an asynchronous turn (`turn()`),
 *   whose work runs right after the round and cannot be timed by it.
 *   Rounds of many steps keep group commit working: the sequencer flushes
 *   in the next check phase, with every append its round queued.
 * - Unloaded, a step runs in the same loop iteration it was queued in.
 *   A lone tenant is never held back, only ordered.
 * - Bounded: at most `maxWaiting` requests wait to start (`run`); past
 *   that 503 OVERLOADED (each holds its read body: the body budget,
 *   src/limits/body-budget.ts, bounds their bytes, this their number).
 *   A started request's later steps (`turn`) are never refused: a batch
 *   whose events are already appended must get to answer with their
 *   receipts, and each started request waits for one step at a time.
 */

import { TlogError } from '../errors.js';

/** Steps that may wait at once (each holds its read body); past it, 503. */
export const MAX_WAITING_TURNS = 4096;
/** Longest a round of synchronous steps runs before the event loop polls again. */
export const ROUND_MS = 2;

type Defer = (fn: () => void) => void;

interface Waiter {
  readonly step: () => void;
  /** A promise's resolve: its work runs after the round, so the round ends. */
  readonly async: boolean;
}

export class FairTurns {
  /** Tenants with waiting steps, in rotation order (a Map keeps insertion order). */
  private readonly queues = new Map<string, Waiter[]>();
  private waiting = 0;
  private scheduled = false;
  private readonly now: () => number;

  constructor(
    readonly maxWaiting: number = MAX_WAITING_TURNS,
    private readonly opts: { defer?: Defer; now?: () => number; roundMs?: number; onStepError?: (e: unknown) => void } = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Steps waiting for a turn (for /healthz and metrics). */
  get depth(): number {
    return this.waiting;
  }

  /**
   * Runs `step` synchronously on `tenant`'s turn: the start of a request.
   * The step must not throw (a throw is passed to `onStepError`, and the
   * round goes on). Throws OVERLOADED at once when `maxWaiting` steps wait.
   */
  run(tenant: string, step: () => void): void {
    this.enqueue(tenant, { step, async: false });
  }

  /**
   * Resolves on `tenant`'s turn, for a later step of a request that has
   * started (work that is not one synchronous call). Never refused.
   */
  turn(tenant: string): Promise<void> {
    let resolve!: () => void;
    const p = new Promise<void>((r) => (resolve = r));
    this.enqueue(tenant, { step: resolve, async: true });
    return p;
  }

  private enqueue(tenant: string, w: Waiter): void {
    if (!w.async && this.waiting >= this.maxWaiting)
      throw new TlogError('OVERLOADED', 'too many requests are waiting for a turn', { retryAfter: 1 });
    const q = this.queues.get(tenant);
    if (q) q.push(w);
    else this.queues.set(tenant, [w]);
    this.waiting++;
    if (!this.scheduled) {
      this.scheduled = true;
      (this.opts.defer ?? setImmediate)(this.round);
    }
  }

  private readonly round = (): void => {
    this.scheduled = false;
    const end = this.now() + (this.opts.roundMs ?? ROUND_MS);
    for (;;) {
      const first = this.queues.entries().next();
      if (first.done) return;
      const [tenant, q] = first.value;
      const w = q.shift()!;
      // To the back of the rotation, or out of it when it has nothing left.
      this.queues.delete(tenant);
      if (q.length > 0) this.queues.set(tenant, q);
      this.waiting--;
      try {
        w.step();
      } catch (e) {
        try {
          this.opts.onStepError?.(e);
        } catch {
          // A failing report must not end the rounds: the steps behind would wait for a new request.
        }
      }
      if (w.async || this.waiting === 0 || this.now() >= end) break;
    }
    if (this.waiting > 0 && !this.scheduled) {
      this.scheduled = true;
      (this.opts.defer ?? setImmediate)(this.round);
    }
  };
}
