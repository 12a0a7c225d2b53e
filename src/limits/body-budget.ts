/**
 * The memory budget of request bodies (spec/limits.md §3): how many bytes of
 * bodies the server holds at once, over all requests in progress, and how
 * many of them one tenant may hold (half, like the sequencer pool, so one
 * tenant's keys cannot take it all). A body takes its bytes before it is read
 * (its Content-Length) or while it is read (a chunked or compressed body,
 * whose size is known only as it arrives), and gives them back when its
 * request ends, answered or aborted. A body that does not fit is refused
 * with 503 OVERLOADED and never read.
 *
 * Pure and synchronous: the HTTP layer (src/http/body.ts) calls it.
 */

export class BodyBudget {
  private used = 0;
  private readonly byTenant = new Map<string, number>();
  /** Bytes one tenant may hold. */
  readonly perTenant: number;

  constructor(readonly total: number, tenantShare = 0.5) {
    this.perTenant = Math.max(1, Math.floor(total * tenantShare));
  }

  /** Takes `n` bytes for `tenant` and returns true, or returns false and takes nothing. */
  take(tenant: string, n: number): boolean {
    if (n <= 0) return true;
    const held = this.byTenant.get(tenant) ?? 0;
    if (this.used + n > this.total || held + n > this.perTenant) return false;
    this.used += n;
    this.byTenant.set(tenant, held + n);
    return true;
  }

  /** Gives back `n` bytes `tenant` took. */
  give(tenant: string, n: number): void {
    if (n <= 0) return;
    const held = (this.byTenant.get(tenant) ?? 0) - n;
    if (held > 0) this.byTenant.set(tenant, held);
    else this.byTenant.delete(tenant);
    this.used = Math.max(0, this.used - n);
  }

  /** Bytes held by all requests (for /healthz). */
  get inUse(): number {
    return this.used;
  }

  /** Bytes held by one tenant's requests. */
  heldBy(tenant: string): number {
    return this.byTenant.get(tenant) ?? 0;
  }
}
