/**
 * Personal-data operations over the vault and the log: subject access,
 * erasure, legal holds and the retention sweep. Each one is also a logged
 * event, so reads and erasures of personal data are themselves auditable.
 *
 * Logged events name the subject only by pseudonym, never by id.
 */

import { turns } from '../turns.js';
import { TlogError } from '../errors.js';
import type { AuditEvent } from '../events/index.js';
import type { Log, Receipt } from '../log/log.js';
import { buildSystemEvent, logSystemEvent, type SystemEventInput } from '../log/system-events.js';
import type { ParseEventOptions } from '../events/index.js';
import type { StoredValue, Vault } from '../vault/vault.js';
import type { Logger } from 'pino';
import { pruneEntries, stopped, type EntryRetention, type PruneReport } from '../retention/prune.js';

export interface Caller {
  readonly keyId?: string;
  readonly tenant: string;
}

export interface AccessAnswer {
  readonly pseudonym: string;
  readonly hold?: { since: number; reason?: string };
  readonly values: (StoredValue & { index?: number; leaf_hash?: string })[];
  readonly read_receipt: Receipt;
}

export interface ErasureAnswer {
  readonly pseudonym: string;
  readonly erased_at: number;
  /** Values destroyed by this call (0 when it repeats an earlier erasure). */
  readonly values: number;
  readonly repeated: boolean;
  readonly receipt: Receipt;
}

export interface SweepReport {
  readonly subjects: number;
  readonly values: number;
  readonly held: number;
  /**
   * A dry run's list of what it would erase, and of the held subjects it
   * would skip, by pseudonym (never a subject id): at most DETAILS_MAX.
   */
  readonly details?: SweepDetail[];
  readonly details_truncated?: true;
}

export interface SweepDetail {
  readonly tenant: string;
  readonly pseudonym: string;
  /** Values past retention. */
  readonly values: number;
  readonly held?: true;
}

/** Items a dry run lists at most (subjects here, entry ranges in PruneReport). */
export const DETAILS_MAX = 1000;

type Counted = { subjects: number; values: number; held: number; details?: SweepDetail[]; details_truncated?: true };

/** Scheduled sweeps compact the query-index range after a prune at most this often. */
const INDEX_COMPACTION_EVERY = 86_400_000;

export class PrivacyService {
  /**
   * Hold changes and each batch of an entry prune take turns here: a batch
   * re-checks its entries' holds and prunes them inside one turn, and a hold
   * is written inside one, so a hold acknowledged before a batch's turn is
   * seen by it, and a batch that went first pruned before the hold existed.
   */
  private readonly inHoldTurn = turns();

  constructor(
    private readonly log: Log,
    private readonly vault: Vault,
    private readonly ids: ParseEventOptions,
    private readonly logger: Logger,
    private readonly entryRetention: EntryRetention,
    private readonly now: () => number = Date.now,
    /** Whether the tenant logged this run: a hold names a run that exists (another tenant's run is 404). */
    private readonly runExists: (tenant: string, runId: string) => Promise<boolean> = async () => true,
  ) {}

  /** The retention run in progress, if any: runs go one at a time (the timer's and requested ones). */
  private retaining: Promise<unknown> | undefined;
  private stopping = false;
  /**
   * When a retention run last compacted the query-index range (the first
   * scheduled run counts from itself: start-up finishes a pending compaction,
   * LogStore.recoverPurge). Its cost grows with the
   * index (~10 ms per MB here), so hourly sweeps would rewrite a large index
   * every hour.
   */
  private indexCompactedAt: number | undefined;

  /**
   * For a graceful stop: the run in progress ends at its next subject or prune batch (what it did
   * stays done, its compaction included), runs waiting behind it do not start, and this resolves
   * once none runs, so the databases can close under no run. A run cut off so is simply run again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.retaining) await this.retaining.catch(() => {});
  }

  get retentionRunning(): boolean {
    return this.retaining !== undefined;
  }

  /**
   * One retention run: personal values past retention, then (when asked)
   * entries past retention. `scheduled` (the timer's runs) compacts the
   * query-index range at most once a day (INDEX_COMPACTION_EVERY); a
   * requested run always does.
   */
  async retention(opts: { dryRun: boolean; entries: boolean; scheduled?: boolean }): Promise<{ pii: SweepReport; entries?: PruneReport }> {
    // One at a time: two prunes of one range would read and write the same entries twice.
    while (this.retaining) await this.retaining.catch(() => {});
    if (this.stopping) throw stopped();
    const run = this.retentionNow(opts);
    this.retaining = run;
    try {
      return await run;
    } finally {
      this.retaining = undefined;
    }
  }

  private async retentionNow(opts: { dryRun: boolean; entries: boolean; scheduled?: boolean }): Promise<{ pii: SweepReport; entries?: PruneReport }> {
    const now = this.now();
    const pii = await this.sweep({ dryRun: opts.dryRun, now });
    if (!opts.entries) return { pii };
    const compactIndex = !opts.scheduled || now - (this.indexCompactedAt ??= now) >= INDEX_COMPACTION_EVERY;
    const entries = await pruneEntries(this.log, this.vault, this.entryRetention, { dryRun: opts.dryRun, now, holdTurn: this.inHoldTurn, compactIndex, stopping: () => this.stopping });
    if (!opts.dryRun && compactIndex) this.indexCompactedAt = now;
    if (!opts.dryRun && entries.pruned > 0) this.logger.info({ pruned: entries.pruned, held: entries.held }, 'pruned entries past retention');
    return { pii, entries };
  }

  /** Sets or lifts a legal hold on a run; logged like subject holds. */
  async runHold(caller: Caller, runId: string, set: boolean, reason: string | undefined): Promise<{ changed: boolean; receipt?: Receipt }> {
    if (set && !(await this.runExists(caller.tenant, runId))) throw new TlogError('NOT_FOUND', 'no events of this run are logged');
    await this.relogOutbox();
    const event = this.eventJson({ action: set ? 'hold.set' : 'hold.clear', ...(caller.keyId ? { keyId: caller.keyId } : {}), resource: `run:${runId}`, ...(reason ? { reason } : {}) });
    const changed = await this.inHoldTurn(() => this.vault.setRunHold(caller.tenant, runId, set ? { ...(reason ? { reason } : {}) } : undefined, event));
    if (!changed) return { changed };
    return { changed, receipt: await this.logOutboxEvent(caller.tenant, event) };
  }

  /** GDPR Art. 15: the values and the events that point at them. The read is logged before anything is returned. */
  async access(caller: Caller, subject: string, purpose: string): Promise<AccessAnswer | { erased: true; erased_at: number; receipt: Receipt }> {
    const view = await this.vault.view(caller.tenant, subject);
    if (view.state === 'unknown') throw new TlogError('NOT_FOUND', 'no personal data is stored for this subject');
    if (view.state === 'erased') {
      const receipt = await this.logOutboxEvent(caller.tenant, view.tombstone.event);
      return { erased: true, erased_at: view.tombstone.erased_at, receipt };
    }
    const read = await logSystemEvent(this.log, this.ids, caller.tenant, {
      action: 'pii.read',
      ...(caller.keyId ? { keyId: caller.keyId } : {}),
      resource: view.pseudonym,
      reason: purpose,
      metadata: { values: view.values.length },
    });
    const values = await Promise.all(
      view.values.map(async (v) => {
        const index = await this.log.findEvent(caller.tenant, v.event_id);
        if (index === undefined) return v; // sealed, but its event never committed (a crash between the two)
        // From the hash tiles, not the entry: an entry pruned after its retention keeps its hash,
        // and its values (kept longer in the vault) must still be answerable.
        const leafHash = await this.log.leafHash(index);
        return { ...v, index, leaf_hash: Buffer.from(leafHash).toString('base64') };
      }),
    );
    return { pseudonym: view.pseudonym, ...(view.hold ? { hold: view.hold } : {}), values, read_receipt: read.receipt };
  }

  /** Erasure: shred in the vault, then log `pii.erase`. Repeating it returns the original receipt. */
  async erase(caller: Caller, subject: string, reason: string): Promise<ErasureAnswer> {
    const make = (pseudonym: string, values: number) =>
      this.eventJson({ action: 'pii.erase', ...(caller.keyId ? { keyId: caller.keyId } : {}), resource: pseudonym, reason, metadata: { values, scope: 'subject' } });
    const out = await this.vault.erase(caller.tenant, subject, make);
    if (out.state === 'unknown') throw new TlogError('NOT_FOUND', 'no personal data is stored for this subject');
    if (out.state === 'partial' || out.state === 'nothing') throw new Error(`unreachable: a whole-subject erasure came back ${out.state}`);
    // Also for a repeated request: an earlier attempt's append may have failed after the shred.
    const receipt = await this.logOutboxEvent(caller.tenant, out.tombstone.event);
    // Step timings only (no pseudonym, no subject): what an operator needs when erasure is slow.
    if (out.state === 'erased') this.logger.info({ values: out.values, ms: out.steps }, 'subject erased');
    return {
      pseudonym: out.tombstone.pseudonym,
      erased_at: out.tombstone.erased_at,
      values: out.state === 'erased' ? out.values : 0,
      repeated: out.state === 'already',
      receipt,
    };
  }

  /** Sets (`reason` given) or lifts (undefined) a legal hold; each change is logged. */
  async hold(caller: Caller, subject: string, set: boolean, reason: string | undefined): Promise<{ pseudonym: string; changed: boolean; receipt?: Receipt }> {
    await this.relogOutbox();
    const make = (pseudonym: string) =>
      this.eventJson({ action: set ? 'hold.set' : 'hold.clear', ...(caller.keyId ? { keyId: caller.keyId } : {}), resource: pseudonym, ...(reason ? { reason } : {}) });
    const r = await this.inHoldTurn(() => this.vault.setHold(caller.tenant, subject, set ? { ...(reason ? { reason } : {}) } : undefined, make));
    if (!r) throw new TlogError('NOT_FOUND', 'no personal data is stored for this subject');
    if (!r.changed || !r.event) return { pseudonym: r.pseudonym, changed: false };
    return { pseudonym: r.pseudonym, changed: true, receipt: await this.logOutboxEvent(caller.tenant, r.event) };
  }

  /**
   * Erases every value past its retention, through the same path as a
   * requested erasure (and logged the same way), skipping held subjects.
   * `dryRun` only counts.
   */
  async sweep(opts: { dryRun: boolean; now?: number }): Promise<SweepReport> {
    const now = opts.now ?? this.now();
    // Subjects that may hold expired values: the retention index lists a
    // subject by the hour its values expire, so some have none yet.
    const groups = await this.vault.expired(now);
    const report: Counted = { subjects: 0, values: 0, held: 0, ...(opts.dryRun ? { details: [] } : {}) };
    const erasing = !opts.dryRun;
    // A partial erasure of an earlier sweep whose event was cut off is logged first.
    if (erasing) await this.relogOutbox();
    // One memtable flush before and one compaction after the whole sweep, not one each per
    // subject (Vault.beginSweep, RetentionScope.deferPurge). The compaction runs even if the
    // sweep stops half-way; a crash leaves purge-pending marks that start-up finishes, and a
    // purge that failed (a full disk) is retried by the next sweep, even one with nothing to erase.
    if (erasing && groups.length > 0) await this.vault.beginSweep();
    try {
      for (const g of groups) {
        if (this.stopping) throw stopped();
        await this.sweepOne(g, now, opts.dryRun, report);
      }
    } finally {
      if (erasing) await this.vault.finishPendingPurges();
    }
    if (!opts.dryRun && report.values > 0) this.logger.info(report, 'retention sweep erased personal data');
    return report;
  }

  /** One subject of a sweep: counted (dry run, held) or erased as far as expired, and logged. */
  private async sweepOne(g: { tag: Uint8Array; buckets: number[] }, now: number, dryRun: boolean, report: Counted): Promise<void> {
    if (await this.vault.heldTag(g.tag)) {
      const n = await this.vault.expiredValues(g.tag, now);
      if (n > 0) {
        report.held++;
        await this.detail(report, g.tag, n, true);
      }
      return;
    }
    if (dryRun) {
      const n = await this.vault.expiredValues(g.tag, now);
      if (n > 0) {
        report.subjects++;
        report.values += n;
        await this.detail(report, g.tag, n, false);
      }
      return;
    }
    const make = (pseudonym: string, n: number, whole: boolean) =>
      this.eventJson({ action: 'pii.erase', resource: pseudonym, reason: 'retention period ended', metadata: { values: n, scope: whole ? 'subject' : 'values' } });
    let out: Awaited<ReturnType<Vault['erase']>>;
    try {
      out = await this.vault.erase('', { tag: g.tag }, make, { now, buckets: g.buckets, deferPurge: true });
    } catch (e) {
      // A hold set between the check and the erasure: skip, like any held subject.
      if (e instanceof TlogError && e.code === 'LEGAL_HOLD') {
        report.held++;
        return;
      }
      throw e;
    }
    if (out.state === 'erased') await this.logOutboxEvent(out.tombstone.tenant, out.tombstone.event);
    else if (out.state === 'partial') await this.logOutboxEvent(out.tenant, out.event);
    else return;
    report.subjects++;
    report.values += out.values;
  }

  /** A dry run's line for the subject `tag` (its tenant and pseudonym; no subject id is stored to show). */
  private async detail(report: Counted, tag: Uint8Array, values: number, held: boolean): Promise<void> {
    if (!report.details) return;
    if (report.details.length >= DETAILS_MAX) {
      report.details_truncated = true;
      return;
    }
    const who = await this.vault.describe(tag);
    if (who) report.details.push({ tenant: who.tenant, pseudonym: who.pseudonym, values, ...(held ? { held: true as const } : {}) });
  }

  /**
   * Logs a system event that waits in the vault's outbox (its change is in
   * the vault already), then takes it out. The append is idempotent by
   * event_id, so an event logged by an earlier attempt is not logged twice.
   */
  private async logOutboxEvent(tenant: string, event: Record<string, unknown>): Promise<Receipt> {
    const receipt = await this.appendEvent(tenant, event);
    await this.vault.logged(String(event.event_id));
    return receipt;
  }

  /**
   * Logs what the outbox still holds: events whose change reached the vault
   * and whose append failed or was cut off (a full queue, a crash, a stop).
   * Runs at start-up, and before hold changes and sweeps, so a retried
   * request finds its event logged.
   */
  private async relogOutbox(): Promise<number> {
    const pending = await this.vault.outbox();
    for (const { tenant, event } of pending) {
      // Logged already (its removal from the outbox was lost): done. Looked up rather than
      // re-appended, so an entry pruned since cannot block every later change.
      if ((await this.log.findEvent(tenant, String(event.event_id))) !== undefined) await this.vault.logged(String(event.event_id));
      else await this.logOutboxEvent(tenant, event);
    }
    return pending.length;
  }

  /** Start-up: re-log erasure, hold and partial-erasure events a crash cut off between the vault commit and the log append. */
  async recover(): Promise<number> {
    let n = await this.relogOutbox();
    for (const t of await this.vault.tombstones()) {
      const tenant = t.tenant;
      const id = String(t.event.event_id);
      if ((await this.log.findEvent(tenant, id)) === undefined) {
        await this.appendEvent(tenant, t.event);
        n++;
      }
    }
    return n;
  }

  private eventJson(input: SystemEventInput): Record<string, unknown> {
    return buildSystemEvent(input, this.ids) as unknown as Record<string, unknown>;
  }

  private async appendEvent(tenant: string, event: Record<string, unknown>) {
    // Client-style append (event_id given): a re-append of the same bytes is idempotent.
    const a = await this.log.append(tenant, event as unknown as AuditEvent, { assignedId: false });
    return this.log.receipt(a);
  }
}
