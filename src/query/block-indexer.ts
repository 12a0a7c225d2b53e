/**
 * Block posting lists (keys.ts): one key per (posting list, block of 256
 * entry indexes), whose value is the set of the list's members in the block.
 *
 * The sequencer owns one BlockIndexer (the `Indexer` seam). Each commit
 * rewrites, in its own synced batch, the value of every list the commit
 * touched in every block it touched; so a flush of N events writes one key
 * per distinct list rather than ~27 per event, and after any crash the
 * indexes and the log still agree exactly.
 *
 * Rewriting a block value needs its current members, so the indexer keeps
 * those of the *open* block (the one the next index falls in) in memory.
 * Invariants:
 *   - `stage` computes a commit's writes on copies and changes nothing;
 *     `apply` runs only after the batch is durable. A failed write leaves the
 *     state as durable as storage, and the retried batch is the same bytes.
 *   - Start-up (`resume`) rebuilds the open block from its ≤ 255 stored
 *     leaves, never from the rest of the log.
 *   - The writes are a pure function of the leaves of the blocks touched:
 *     `deriveIndex` (reindex) computes them from leaf bytes alone, block by
 *     block, and gets the very same keys and values.
 *   - A prune keeps that true (`stagePrune`, `pruneBlock`): each block it
 *     touches is replanned from its remaining leaves in the prune's own
 *     batch, and the keys only pruned entries explained are deleted (so the
 *     values they held, which are in the keys, leave with the leaves).
 */

import { TlogError } from '../errors.js';
import type { LogRecord } from '../events/index.js';
import type { IndexWrite, Indexer, PendingEntry, StagedIndex, StagedPrune } from '../log/sequencer.js';
import { putU64, REINDEX_KEY } from '../storage/layout.js';
import type { LogStore } from '../storage/store.js';
import { eachList, latin1, SEPARATED, SLOT, SLOT_FIELD } from './indexer.js';
import { BITMAP_FROM, BLOCK, INDEX_PREFIX, INDEX_RANGE, INDEX_VERSION, VERSION_KEY } from './keys.js';
import { readLeaf } from './leaf.js';

const EMPTY = new Uint8Array(0);
export const VERSION_VALUE = new Uint8Array([INDEX_VERSION]);

/**
 * The members of one list in one block: a bitmap once it has two members.
 * Most lists of a block hold one entry (a run, a session, a target resource
 * is usually named by one entry in 256), so a lone member is kept as its
 * offset (`last`) and costs no bitmap: fewer allocations on the commit path.
 */
interface Posting {
  bits: Uint8Array | undefined;
  n: number;
  last: number;
  /** logged_at of the list's first entry in the block (the time list's key). */
  first: number;
  time: boolean;
  /** Already in storage (a time key is written once, when its block first has the tenant). */
  stored: boolean;
}

/** One block's lists: by tenant, then slot (indexer.ts), then value. */
type TenantLists = (Map<string, Posting> | undefined)[];
type Lists = Map<string, TenantLists>;
const NONE: Lists = new Map();

export interface IndexItem {
  index: number;
  leaf: Uint8Array;
  /** The record in `leaf`, when the caller has it (saves decoding the leaf again). */
  record?: LogRecord;
  /** The record's lists (eachList), when computed already (pruneBlock plans each leaf twice). */
  lists?: readonly (readonly [number, string])[];
}

interface Plan {
  writes: IndexWrite[];
  /** The lists of the last block touched, after the items. */
  last: { block: number; lists: Lists } | undefined;
}


/** 'x' tenant 0x00 F value [0x00] [u64(first) for the time list] u64(block); tenant and value as latin-1 strings of their key bytes. */
function keyOf(tenant: string, slot: number, value: string, p: Posting, block: number): Uint8Array {
  const sep = SEPARATED[slot] ? 1 : 0;
  const extra = p.time ? 8 : 0;
  const k = new Uint8Array(tenant.length + 3 + value.length + sep + extra + 8);
  k[0] = INDEX_PREFIX;
  let o = 1;
  for (let i = 0; i < tenant.length; i++) k[o++] = tenant.charCodeAt(i);
  k[o++] = 0;
  k[o++] = SLOT_FIELD[slot]!;
  for (let i = 0; i < value.length; i++) k[o++] = value.charCodeAt(i);
  if (sep) k[o++] = 0;
  if (p.time) {
    putU64(k, o, p.first);
    o += 8;
  }
  putU64(k, o, block);
  return k;
}

/** The value of a one-member list: one offset byte (shared, never written to). */
const ONE = Array.from({ length: BLOCK }, (_, off) => new Uint8Array([off]));

/** keys.ts encodePostings, from the bitmap (or the lone member). */
function valueOf(p: Posting): Uint8Array {
  if (p.bits === undefined) return ONE[p.last]!;
  if (p.n >= BITMAP_FROM) return p.bits.slice();
  const out = new Uint8Array(p.n);
  let j = 0;
  for (let byte = 0; byte < p.bits.length; byte++) {
    let bits = p.bits[byte]!;
    while (bits !== 0) {
      const low = bits & -bits;
      out[j++] = byte * 8 + (31 - Math.clz32(low));
      bits ^= low;
    }
  }
  return out;
}

/**
 * The writes for `items` (ascending indexes), on top of `base`: the lists of
 * block `base.block` before the first item. Mutates nothing it was given.
 */
function plan(items: Iterable<IndexItem>, base: { block: number; lists: Lists }): Plan {
  const touched = gather(items, base);
  const writes: IndexWrite[] = [];
  for (const { block: b, lists } of touched)
    for (const [tenant, slots] of lists)
      slots.forEach((m, slot) => {
        for (const [value, p] of m!) {
          if (p.time) {
            if (!p.stored) writes.push({ key: keyOf(tenant, slot, value, p, b), value: EMPTY });
          } else writes.push({ key: keyOf(tenant, slot, value, p, b), value: valueOf(p) });
        }
      });
  return { writes, last: touched[touched.length - 1] };
}

/** The lists of each block `items` touch, on top of `base` (see plan). */
function gather(items: Iterable<IndexItem>, base: { block: number; lists: Lists }): { block: number; lists: Lists }[] {
  const touched: { block: number; lists: Lists }[] = [];
  let block = -1;
  let work: Lists = NONE;
  let prior: Lists = NONE;
  for (const item of items) {
    const b = Math.floor(item.index / BLOCK);
    if (b !== block) {
      block = b;
      work = new Map();
      prior = b === base.block ? base.lists : NONE;
      touched.push({ block: b, lists: work });
    }
    // A leaf that does not decode (it cannot happen for a leaf the log just built) is not indexed.
    const record = item.record ?? readLeaf(item.leaf);
    if (!record) continue;
    const off = item.index - b * BLOCK;
    const tenant = latin1(record.tenant, Infinity);
    let mine = work.get(tenant);
    if (mine === undefined) work.set(tenant, (mine = []));
    const before = prior.get(tenant);
    const add = (slot: number, value: string) => {
      const m = (mine[slot] ??= new Map());
      let p = m.get(value);
      if (p === undefined) {
        const old = before?.[slot]?.get(value);
        p = old
          ? { bits: old.bits?.slice(), n: old.n, last: old.last, first: old.first, time: old.time, stored: old.stored }
          : { bits: undefined, n: 0, last: -1, first: record.logged_at, time: slot === SLOT.time, stored: false };
        m.set(value, p);
      }
      if (p.last === off) return; // one list named twice by one entry
      if (p.n === 1) {
        // A second member: the lone one moves into a bitmap.
        p.bits = new Uint8Array(BLOCK / 8);
        p.bits[p.last >> 3]! |= 1 << (p.last & 7);
      }
      if (p.bits !== undefined) p.bits[off >> 3]! |= 1 << (off & 7);
      p.n++;
      p.last = off;
    };
    add(SLOT.time, '');
    if (item.lists) for (const [slot, value] of item.lists) add(slot, value);
    else eachList(record, add);
  }
  return touched;
}

export class BlockIndexer implements Indexer {
  /** The open block and its lists; `size` is the next index to be indexed. */
  private block = 0;
  private lists: Lists = new Map();
  private size = 0;

  async resume(store: LogStore, size: number): Promise<void> {
    await checkFormat(store, size);
    const from = size - (size % BLOCK);
    // Pruned leaves are absent: like reindex, they no longer count.
    this.reopen(await storedLeaves(store, from, size), size);
  }

  /** The open block's lists rebuilt from its stored leaves `items` (all of [floor(size/256)·256, size) that are stored). */
  private reopen(items: readonly IndexItem[], size: number): void {
    const from = size - (size % BLOCK);
    this.block = from / BLOCK;
    this.lists = new Map();
    this.size = from;
    this.commit(plan(items, { block: this.block, lists: this.lists }), size);
  }

  openStart(): number {
    return this.block * BLOCK;
  }

  /**
   * The index changes of pruning `indexes` (ascending, all below `size`, the
   * durable tree size), staged like a commit's: nothing changes until
   * `apply`, which runs once the prune's batch is durable. Each block touched
   * is replanned from its stored leaves (pruneBlock). A closed block is
   * never rewritten by a commit, so its leaves and lists cannot change under
   * this; if the open block is touched, the caller must run this, its batch
   * and `apply` exclusive of commits (Sequencer.exclusive), and `apply` then
   * rebuilds the in-memory lists from the block's survivors, as a restart
   * would: the next commit into the block rewrites its lists from those, and
   * without the rebuild would put the pruned members (and keys) back.
   */
  async stagePrune(store: LogStore, indexes: readonly number[], size: number): Promise<StagedPrune> {
    if (this.size !== size) throw new Error(`indexer at index ${this.size}, the prune at size ${size}`);
    const del: Uint8Array[] = [];
    const put: IndexWrite[] = [];
    const gone = new Set(indexes);
    let open: IndexItem[] | undefined;
    // One block's leaves at a time: a batch of sparse candidates spans many blocks, and
    // holding all their leaves at once cost hundreds of MB (the caller also caps the span).
    for (const b of new Set(indexes.map((i) => Math.floor(i / BLOCK)))) {
      const leaves = await storedLeaves(store, b * BLOCK, Math.min((b + 1) * BLOCK, size));
      const change = pruneBlock(leaves, (i) => gone.has(i));
      for (const d of change.del) del.push(d);
      for (const w of change.put) put.push(w);
      if (b === this.block) open = leaves.filter((l) => !gone.has(l.index));
    }
    return {
      del,
      put,
      apply: () => {
        if (open === undefined) return;
        // Exclusive of commits (see above): nothing moved the indexer since stagePrune.
        if (this.size !== size) throw new Error(`indexer moved to ${this.size} during a prune at size ${size}`);
        this.reopen(open, size);
      },
    };
  }

  stage(entries: readonly PendingEntry[], start: number): StagedIndex {
    // Indexing out of step would silently write wrong blocks: fail the commit instead.
    if (start !== this.size) throw new Error(`indexer expected index ${this.size}, got ${start}`);
    const p = plan(
      entries.map((e, i) => ({ index: start + i, leaf: e.leaf, ...(e.record ? { record: e.record } : {}) })),
      { block: this.block, lists: this.lists },
    );
    const end = start + entries.length;
    return { writes: p.writes, apply: () => this.commit(p, end) };
  }

  private commit(p: Plan, end: number): void {
    const next = Math.floor(end / BLOCK);
    const lists: Lists = next === this.block ? this.lists : new Map();
    if (p.last && p.last.block === next)
      for (const [tenant, slots] of p.last.lists) {
        let mine = lists.get(tenant);
        if (mine === undefined) lists.set(tenant, (mine = []));
        slots.forEach((m, slot) => {
          const into = (mine[slot] ??= new Map());
          for (const [value, posting] of m!) {
            posting.stored = true;
            into.set(value, posting);
          }
        });
      }
    this.block = next;
    this.lists = lists;
    this.size = end;
  }
}

/** The stored leaves of [from, to) with their indexes (pruned ones are absent). */
async function storedLeaves(store: LogStore, from: number, to: number): Promise<IndexItem[]> {
  return (await store.readStoredEntries(from, to)).map(([index, leaf]) => ({ index, leaf }));
}

/**
 * What pruning some leaves of one block changes in its index: `leaves` are
 * the block's stored leaves before the prune (ascending), `pruned` says
 * which of them go. The block's lists are gathered as the commit path does
 * from all of them (what storage holds now: the block-indexer invariant)
 * and from the survivors (what `deriveIndex` computes once they are gone).
 * A list only the first has is deleted; a list whose members changed gets
 * its new value; a time key moves when the tenant's first entry in the
 * block went (its key holds that entry's logged_at). Afterwards the block's
 * stored keys are exactly what reindex would write for it; a block left
 * with no leaf loses every key. Pure: reads nothing, changes nothing.
 */
export function pruneBlock(leaves: readonly IndexItem[], pruned: (index: number) => boolean): { del: Uint8Array[]; put: IndexWrite[] } {
  const del: Uint8Array[] = [];
  const put: IndexWrite[] = [];
  if (leaves.length === 0) return { del, put };
  const block = Math.floor(leaves[0]!.index / BLOCK);
  // Each leaf decoded, and its lists named, once for both.
  const items = leaves.map((l): IndexItem => {
    const record = l.record ?? readLeaf(l.leaf);
    if (!record) return l;
    const lists: [number, string][] = [];
    eachList(record, (slot, value) => lists.push([slot, value]));
    return { index: l.index, leaf: l.leaf, record, lists };
  });
  const before = gather(items, { block: -1, lists: NONE })[0]?.lists ?? NONE;
  const after = gather(items.filter((l) => !pruned(l.index)), { block: -1, lists: NONE })[0]?.lists ?? NONE;
  // The survivors' members of a list are a subset of its members before: equal counts, equal sets.
  const same = (p: Posting, q: Posting | undefined) => q !== undefined && (p.time ? q.first === p.first : q.n === p.n);
  for (const [tenant, slots] of before)
    slots.forEach((m, slot) => {
      for (const [value, p] of m!) {
        const q = after.get(tenant)?.[slot]?.get(value);
        if (q === undefined || (p.time && q.first !== p.first)) del.push(keyOf(tenant, slot, value, p, block));
      }
    });
  for (const [tenant, slots] of after)
    slots.forEach((m, slot) => {
      for (const [value, q] of m!) {
        if (same(q, before.get(tenant)?.[slot]?.get(value))) continue;
        put.push({ key: keyOf(tenant, slot, value, q, block), value: q.time ? EMPTY : valueOf(q) });
      }
    });
  return { del, put };
}

/**
 * Every index write the leaves call for, a block at a time (reindex): each
 * block's lists computed from its own leaves alone, which is what the
 * sequencer's last commit into that block wrote. Then the version key.
 */
export async function* deriveIndex(leaves: AsyncIterable<[number, Uint8Array]>, onLeaf?: () => void): AsyncGenerator<IndexWrite[]> {
  let items: IndexItem[] = [];
  let block = -1;
  for await (const [index, leaf] of leaves) {
    const b = Math.floor(index / BLOCK);
    if (b !== block && items.length > 0) {
      yield plan(items, { block: -1, lists: NONE }).writes;
      items = [];
    }
    block = b;
    items.push({ index, leaf });
    onLeaf?.();
  }
  if (items.length > 0) yield plan(items, { block: -1, lists: NONE }).writes;
  yield [{ key: VERSION_KEY, value: VERSION_VALUE }];
}

/**
 * Start-up check that the stored indexes are complete and in this format
 * (`size`: the durable tree size). Refused with QUERY_INDEX_STALE, saying how
 * to rebuild:
 *   - the `R` marker is there (a reindex cut off by a crash left the indexes
 *     anywhere between cleared and rebuilt, or a server ran with query indexes
 *     off). `agent-tlog serve` rebuilds them before it opens the log
 *     (server.ts), so it never gets here;
 *   - no index key at all under a log that has entries (written with query
 *     indexes off, or the keys lost): serving them would answer every query
 *     with nothing. Only an empty log gets a fresh index (the version key);
 *   - index keys but no (or another) version: the older one-key-per-entry
 *     format, which this code would misread as blocks.
 */
export async function checkFormat(store: LogStore, size: number): Promise<void> {
  if ((await store.db.get(REINDEX_KEY)) !== undefined)
    throw new TlogError(
      'QUERY_INDEX_STALE',
      'the query indexes of this data folder are incomplete (a reindex was cut off, or the server ran with query indexes off): run `agent-tlog reindex --data DIR` (`agent-tlog serve` rebuilds them by itself at start-up), or start with --query-index off',
    );
  const v = await store.db.get(VERSION_KEY);
  if (v !== undefined && v.length === 1 && v[0] === INDEX_VERSION) return;
  if (v === undefined) {
    const [k] = await store.db.keys({ ...INDEX_RANGE, limit: 1 }).all();
    if (k === undefined && size === 0) {
      await store.db.put(VERSION_KEY, VERSION_VALUE, { sync: true });
      return;
    }
    if (k === undefined)
      throw new TlogError(
        'QUERY_INDEX_STALE',
        `this data folder has no query indexes but its log has ${size} entries (written with query indexes off?): stop the server and run \`agent-tlog reindex --data DIR\`, or start with --query-index off`,
      );
  }
  throw new TlogError(
    'QUERY_INDEX_STALE',
    'the query indexes in this data folder are in an older format: stop the server and run `agent-tlog reindex --data DIR`, or start with --query-index off',
  );
}
