/**
 * Entry retention: the leaf bytes of entries past their class's retention
 * are deleted; their hashes stay in the tiles, so every checkpoint, proof
 * and receipt issued before still verifies (spec/privacy.md §6).
 *
 * An entry is kept while a legal hold covers its run or any subject it
 * references. Entries are scanned in log order, which is also logged_at
 * order, and the scan stops at the first entry younger than the shortest
 * retention: nothing after it can have expired.
 */

import { TlogError } from '../errors.js';
import { decodeRecord, forEachPiiRef } from '../events/index.js';
import type { Log } from '../log/log.js';
import { BLOCK } from '../query/keys.js';
import { readLeaf } from '../query/leaf.js';
import { isServerEvent } from '../log/system-events.js';
import { PSEUDONYM_PATTERN } from '../vault/ids.js';
import type { Vault } from '../vault/vault.js';

export type RetentionClass = 'operational' | 'compliance';

export interface EntryRetention {
  readonly days: Record<RetentionClass, number>;
  readonly defaultClass: RetentionClass;
}

export interface PruneReport {
  readonly pruned: number;
  readonly held: number;
  /** A dry run's list of the entries it would prune, as [first, last] index ranges: at most 1,000. */
  readonly ranges?: [number, number][];
  readonly ranges_truncated?: true;
}

const RANGES_MAX = 1000;

const DAY = 86_400_000;
const BATCH = 1000;
/** Most query-index blocks one prune batch touches (see the scan). */
const SPAN = 16;

/** Runs `fn` in the turn that hold changes also take (PrivacyService). */
export type HoldTurn = <T>(fn: () => Promise<T>) => Promise<T>;

/** A retention run the server's stop cut off (PrivacyService.stop): what it did stands, the rest waits for the next run. */
export const stopped = () => new TlogError('LOG_UNAVAILABLE', 'the server is stopping: the retention run ended early (what it did stands); run it again after the restart');

export async function pruneEntries(
  log: Log,
  vault: Vault,
  policy: EntryRetention,
  opts: { dryRun: boolean; now: number; holdTurn?: HoldTurn; compactIndex?: boolean; stopping?: () => boolean },
): Promise<PruneReport> {
  const index = { index: opts.compactIndex ?? true };
  // A prune cut off before its compaction (a crash, a stop, an error) is finished first.
  if (!opts.dryRun) await log.finishPendingPurge(index);
  const oldest = opts.now - Math.min(policy.days.operational, policy.days.compliance) * DAY;
  const size = log.head.treeSize;
  const holdTurn: HoldTurn = opts.holdTurn ?? ((fn) => fn());
  let pruned = 0;
  let held = 0;
  let batch: { index: number; tenant: string; event: { run_id?: string } }[] = [];
  /** Block edges crossed by the current batch. */
  let spanned = 0;
  /** Whether a stop ended the scan early. */
  let cut = false;
  // A dry run lists what it would prune (consecutive indexes as one range).
  const ranges: [number, number][] | undefined = opts.dryRun ? [] : undefined;
  let truncated = false;
  // Whether anything was pruned: the ranges each batch recorded (`P`) are compacted once at the end, so the bytes leave the files.
  let pruning = false;
  // The scan's hold check may be stale by the time its batch is written (a
  // hold acknowledged meanwhile): each entry is checked again, in the hold
  // turn, right before the batch is pruned.
  const flush = async () => {
    const candidates = batch;
    batch = [];
    if (opts.dryRun || candidates.length === 0) return;
    await holdTurn(async () => {
      const keep: { index: number; tenant: string }[] = [];
      for (const c of candidates) {
        if (await isHeld(vault, c.tenant, c.event)) {
          pruned--;
          held++;
        } else keep.push({ index: c.index, tenant: c.tenant });
      }
      if (keep.length > 0) {
        if (!pruning) await log.beginPrune();
        pruning = true;
        await log.prune(keep, opts.now);
      }
    });
  };
  // Stored leaves only (pruned ones have none), read in chunks. The iterator's
  // snapshot does not see this scan's own deletions, and needs not to.
  for await (const [index, leaf] of log.store.scanEntries(0, size)) {
    // The fast reader (the indexer's: these leaves were encoded by this server), the strict one if it declines.
    const record = readLeaf(leaf) ?? decodeRecord(leaf);
    if (record.logged_at > oldest) break;
    if (isErasureEvidence(record.event)) continue;
    const cls: RetentionClass = record.event.retention ?? policy.defaultClass;
    if (record.logged_at + policy.days[cls] * DAY > opts.now) continue;
    if (await isHeld(vault, record.tenant, record.event)) {
      held++;
      continue;
    }
    pruned++;
    if (ranges) {
      const r = ranges[ranges.length - 1];
      if (r && r[1] === index - 1) r[1] = index;
      else if (ranges.length < RANGES_MAX) ranges.push([index, index]);
      else truncated = true;
    }
    // A batch ends at a query-index block's edge (BLOCK entries): a block touched by two
    // batches of one run would have its keys rewritten by one and deleted by the next in one
    // memtable, and a table file holding a key and its deletion can keep both (LogStore.flushMemtable).
    // A batch also ends once it spans SPAN blocks: each block touched is read and planned again
    // (block-indexer.ts stagePrune), so sparse candidates (a few operational events among
    // compliance ones) would make a 1,000-entry batch cost ~7 ms for each of up to 1,000 blocks.
    const prev = batch[batch.length - 1];
    if (prev && Math.floor(prev.index / BLOCK) !== Math.floor(index / BLOCK)) {
      if (batch.length >= BATCH || ++spanned >= SPAN) {
        await flush();
        spanned = 0;
        // A stop (PrivacyService.stop) ends the run between batches: the pruned entries' bytes
        // are still compacted away below, and the rest wait for the next run.
        if (opts.stopping?.()) {
          cut = true;
          break;
        }
      }
    }
    batch.push({ index, tenant: record.tenant, event: record.event });
  }
  await flush();
  if (pruning) await log.purgePruned(index);
  if (cut) throw stopped();
  return { pruned, held, ...(ranges ? { ranges } : {}), ...(truncated ? { ranges_truncated: true as const } : {}) };
}

/**
 * An erasure's own entry (`pii.erase`, logged by the server) is never pruned,
 * whatever its class: it is the proof that the erasure happened, and a
 * repeated erasure request answers with its receipt, which needs its leaf.
 * Entries logged before system events were compliance-class included.
 */
function isErasureEvidence(event: Parameters<typeof isServerEvent>[0] & { action?: { type?: string } }): boolean {
  return isServerEvent(event) && event.action?.type === 'pii.erase';
}

type HeldEvent = { run_id?: string; actor?: { type?: string; id?: string }; action?: { tool?: string }; target?: { system?: string; resource?: string } };

async function isHeld(vault: Vault, tenant: string, event: HeldEvent): Promise<boolean> {
  if (event.run_id !== undefined && (await vault.runHeld(tenant, event.run_id))) return true;
  const subjects: string[] = [];
  forEachPiiRef(event, (ref) => subjects.push(ref.subject));
  // The server's own events about a subject or a run (hold.set, pii.read, …) name it in
  // target.resource: a standing hold keeps them too, or its own evidence would go first.
  const about = isServerEvent(event) ? event.target?.resource : undefined;
  if (about?.startsWith('run:') && (await vault.runHeld(tenant, about.slice(4)))) return true;
  if (about !== undefined && PSEUDONYM_PATTERN.test(about)) subjects.push(about);
  for (const s of subjects) if (await vault.heldPseudonym(s)) return true;
  return false;
}
