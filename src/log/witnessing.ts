/**
 * Collecting witness cosignatures for the log's checkpoints (spec/witness.md).
 *
 * Runs strictly AFTER the commit path: a head reaches this module only once
 * it is durable, so witnesses never see a checkpoint a crash could take back,
 * and nothing here can break crash-safety (spec/crash-model.md).
 *
 * A round sends the newest durable head to every witness in parallel and ends
 * as soon as `quorum` valid cosignatures are in, every witness has answered,
 * or the deadline (`timeoutMs` after the round started) passes. With a quorum,
 * the head plus the cosignature lines collected so far becomes the *cosigned
 * checkpoint*: what `/checkpoint` serves and what receipts carry. Without one,
 * the previous cosigned checkpoint stays. Rounds run one at a time; heads
 * committed meanwhile are coalesced into the next round (its newest head).
 *
 * Appends wait (`cover`) for the first round that includes their head, so a
 * receipt carries cosignatures whenever the witnesses are up, and an append
 * never waits more than about `timeoutMs` for them when they are not.
 */

import type { StoredHead } from '../storage/store.js';
import type { SubmitOutcome, WitnessClient } from '../witness/client.js';

export interface CosignedCheckpoint {
  treeSize: number;
  /** The log's signed checkpoint followed by at least `quorum` cosignature lines. */
  checkpoint: string;
}

export interface WitnessingOptions {
  clients: readonly WitnessClient[];
  quorum: number;
  timeoutMs: number;
  /** The latest cosigned checkpoint from a previous run, if any. */
  initial?: CosignedCheckpoint;
  /** Persists a new cosigned checkpoint (best effort: a lost one is re-collected). */
  save(c: CosignedCheckpoint): Promise<void>;
  /**
   * After a round without a quorum, the same head is sent again this long
   * after (doubling per failed round, up to a minute), even when no append
   * comes: an idle log gets its cosigned checkpoint once the witnesses are
   * back. Default 1,000 ms.
   */
  retryMs?: number;
  /** Told about every witness that did not cosign, and every round without a quorum. */
  onProblem?(p: { witness?: string; url?: string; treeSize: number; outcome?: SubmitOutcome; message: string }): void;
}

interface Waiter {
  treeSize: number;
  done: () => void;
}

export class Witnessing {
  private current: CosignedCheckpoint | undefined;
  /** The newest durable head not yet sent in a round. */
  private next: StoredHead | undefined;
  private waiters: Waiter[] = [];
  private loop: Promise<void> | undefined;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay: number;

  constructor(private readonly opts: WitnessingOptions) {
    if (!Number.isInteger(opts.quorum) || opts.quorum < 1 || opts.quorum > opts.clients.length)
      throw new RangeError(`witness quorum must be in [1, ${opts.clients.length}], got ${opts.quorum}`);
    this.current = opts.initial;
    this.retryDelay = opts.retryMs ?? 1000;
  }

  /** The latest checkpoint with a quorum of cosignatures, if any. */
  get cosigned(): CosignedCheckpoint | undefined {
    return this.current;
  }

  /**
   * Resolves once a round that included `head` (or a newer head) has ended,
   * with or without a quorum. Never rejects. `refresh` runs a round even if
   * the cosigned checkpoint already covers `head` (start-up: new timestamps,
   * and cosignatures from the witnesses configured now).
   */
  cover(head: StoredHead, opts: { refresh?: boolean } = {}): Promise<void> {
    if (this.closed || (!opts.refresh && this.current !== undefined && this.current.treeSize >= head.treeSize)) return Promise.resolve();
    const p = new Promise<void>((done) => this.waiters.push({ treeSize: head.treeSize, done }));
    this.queue(head);
    return p;
  }

  /** `head` goes into the next round (unless a newer head is queued); a round loop runs. */
  private queue(head: StoredHead): void {
    if (this.next === undefined || head.treeSize > this.next.treeSize) this.next = head;
    this.loop ??= this.run();
  }

  /** Stops starting rounds and waits for the running one (bounded by its deadline). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.loop;
    for (const w of this.waiters.splice(0)) w.done();
  }

  private async run(): Promise<void> {
    try {
      while (this.next !== undefined && !this.closed) {
        const head = this.next;
        this.next = undefined;
        try {
          await this.round(head);
        } catch (e) {
          this.opts.onProblem?.({ treeSize: head.treeSize, message: `witness round failed: ${(e as Error).message}` });
        }
        this.afterRound(head);
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) {
          if (w.treeSize <= head.treeSize) w.done();
          else this.waiters.push(w);
        }
      }
    } finally {
      this.loop = undefined;
    }
  }

  /**
   * A head left without a quorum is retried by a timer when nothing newer is
   * queued (a newer head's round covers it). The timer holds no append: the
   * waiters of the failed round are answered as before, with log-only receipts.
   */
  private afterRound(head: StoredHead): void {
    if (this.current !== undefined && this.current.treeSize >= head.treeSize) {
      this.retryDelay = this.opts.retryMs ?? 1000;
      return;
    }
    if (this.next !== undefined || this.retryTimer !== undefined || this.closed) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 60_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || (this.current !== undefined && this.current.treeSize >= head.treeSize)) return;
      this.queue(head);
    }, delay);
    // A pending retry never keeps the process alive.
    this.retryTimer.unref?.();
  }

  private async round(head: StoredHead): Promise<void> {
    const { clients, quorum, timeoutMs } = this.opts;
    const deadline = Date.now() + timeoutMs;
    const lines: (string | undefined)[] = clients.map(() => undefined);
    await new Promise<void>((end) => {
      let answered = 0;
      let valid = 0;
      const timer = setTimeout(end, timeoutMs);
      clients.forEach((c, i) => {
        void c.submit(head.checkpoint, head.treeSize, deadline).then((outcome) => {
          answered++;
          if (outcome.ok) {
            lines[i] = outcome.line;
            valid++;
          } else {
            this.opts.onProblem?.({ witness: c.name, url: c.url, treeSize: head.treeSize, outcome, message: outcome.message });
          }
          if (valid >= quorum || answered === clients.length) {
            clearTimeout(timer);
            end();
          }
        });
      });
    });
    // Snapshot at the moment the round ended: later answers belong to no checkpoint we serve.
    const got = lines.filter((l): l is string => l !== undefined);
    if (got.length < quorum) {
      this.opts.onProblem?.({ treeSize: head.treeSize, message: `only ${got.length} of the ${quorum} cosignatures the policy needs; serving the previous cosigned checkpoint` });
      return;
    }
    const cosigned = { treeSize: head.treeSize, checkpoint: head.checkpoint + got.join('') };
    if (this.current === undefined || cosigned.treeSize >= this.current.treeSize) this.current = cosigned;
    await this.opts.save(cosigned).catch((e: unknown) => this.opts.onProblem?.({ treeSize: head.treeSize, message: `couldn't persist the cosigned checkpoint: ${(e as Error).message}` }));
  }
}
