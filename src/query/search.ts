/**
 * Index search: every filter is a posting list ordered by entry index
 * (keys.ts: one key per block of 256 indexes); the lists are intersected by leapfrogging (each list seeks to
 * the largest candidate seen so far, until all agree), then each candidate's
 * leaf is read and, unless the lists decide the filter alone (indexExact),
 * checked against the exact filter (filter.ts).
 *
 * Results are in log order (ascending or descending index). A position is
 * an index, so paging resumes from the last index returned: entries
 * appended meanwhile get larger indexes and never shift a page.
 */

import { decodeRecord, type LogRecord } from '../events/index.js';
import { readLeaf } from './leaf.js';
import { entryKey } from '../storage/layout.js';
import type { LogStore } from '../storage/store.js';
import { recordFields } from './fields.js';
import { type EventFilter, matches } from './filter.js';
import { BLOCK, keyBlock, LIST, listPrefix, nextMember, prevMember, riskBucket, riskPrefix, tenantPrefix, timeKey, VALUE_BYTES, valueBytes, withBlock } from './keys.js';

type Bytes = Uint8Array;

export interface Hit {
  index: number;
  leaf: Bytes;
  record: LogRecord;
}

export interface SearchOptions {
  order: 'asc' | 'desc';
  /** Resume strictly after this index (in `order`). */
  after?: number;
  /** Entries below this are visible (the published tree size). */
  treeSize: number;
  /** Stop after this many hits. */
  limit?: number;
  /** Stop after examining this many candidate leaves (bounds one page's work). */
  budget?: number;
}

/**
 * A hit whose record is decoded only when asked for. Used when the lists
 * are the whole answer (indexExact: the tenant alone, or equality filters
 * with values their keys hold whole; tenant names never contain the 0x00
 * that ends them in a key), so a page or an export that only copies leaves
 * never decodes one.
 */
class LeafHit implements Hit {
  private decoded: LogRecord | undefined;
  constructor(
    readonly index: number,
    readonly leaf: Bytes,
  ) {}

  get record(): LogRecord {
    return (this.decoded ??= readLeaf(this.leaf) ?? decodeRecord(this.leaf));
  }
}

/** Filters whose posting lists hold exactly the entries with that value (filter.ts `matches`, indexer.ts `eachList`). */
const EQUALITY = new Set<string>(['run_id', 'session_id', 'actor', 'action', 'decision', 'approval', 'approver', 'target']);

/** A lone UTF-16 surrogate (in u-mode a valid pair is one code point and does not match). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * A value its list key holds whole and alone: shorter than VALUE_BYTES (no
 * longer value truncates to the same key), without NUL (the separator
 * before the block number), and well-formed UTF-16 (UTF-8 encodes every
 * lone surrogate as U+FFFD, so two different words cut mid-pair by the
 * tokenizer share a key).
 */
const whole = (v: string): boolean => !v.includes('\u0000') && !LONE_SURROGATE.test(v) && valueBytes(v).length < VALUE_BYTES;

/**
 * True when the lists alone decide `f`, so a hit is yielded without
 * decoding its leaf: only equality filters (a time window or a risk range
 * is read at block or bucket granularity and needs the check), each with a
 * value its key holds whole. A tenant-only filter is the empty case.
 */
export function indexExact(f: EventFilter): boolean {
  for (const [k, v] of Object.entries(f) as [string, unknown][]) {
    if (v === undefined) continue;
    if (k === 'words') {
      if (!(v as string[]).every(whole)) return false;
    } else if (!EQUALITY.has(k) || typeof v !== 'string' || !whole(v)) return false;
  }
  return true;
}

/** Where a search stopped: the last position examined, when more may follow. */
export interface SearchEnd {
  resumeAfter: number | undefined;
}

interface Stream {
  /** The first index at or beyond `target` in scan order, or undefined. */
  seek(target: number): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Block keys fetched by a stream's first native call; each later call fetches twice as many, up to MAX_BATCH. */
const BATCH = 64;
const MAX_BATCH = 1024;
/**
 * The iterator's byte budget per native call. classic-level ends a nextv
 * early once the keys and values it read pass this (16 KiB by default), so
 * a short batch means the end of the range only when its bytes are within
 * the budget. A batch of MAX_BATCH keys of the longest kind (~300 bytes
 * with a 200-byte value) fits in it.
 */
const BATCH_BYTES = 1 << 20;

/**
 * One posting list, read a batch of block keys at a time: every native call
 * (a libuv round trip) fetches a batch of blocks (each up to 256 indexes),
 * BATCH at first and doubling, so a long scan costs few round trips and a
 * short one reads little,
 * and a seek beyond the batch in hand repositions the iterator and reads the
 * next batch in that same call. Members are found in the block values in
 * place (nextMember/prevMember), without decoding whole blocks. Answers
 * outside [lo, hi] are never returned, though the first and last blocks
 * reach beyond them.
 */
class BlockStream implements Stream {
  private readonly it;
  private blocks: number[] = [];
  private values: Bytes[] = [];
  private pos = 0;
  private done = false;
  private batch = BATCH;

  constructor(
    store: LogStore,
    private readonly prefix: Bytes,
    private readonly lo: number,
    private readonly hi: number,
    private readonly desc: boolean,
  ) {
    this.it = store.db.iterator({
      gte: withBlock(prefix, Math.floor(lo / BLOCK)),
      lte: withBlock(prefix, Math.floor(hi / BLOCK)),
      reverse: desc,
      highWaterMarkBytes: BATCH_BYTES,
    });
  }

  /**
   * Targets only move forward in scan order (the leapfrog never goes back),
   * so the blocks in hand cover every block from the last seek to the last
   * one fetched, and the next fetch starts past them.
   */
  async seek(target: number): Promise<number | undefined> {
    const desc = this.desc;
    if (desc ? target < this.lo : target > this.hi) return undefined;
    const tb = Math.floor(target / BLOCK);
    for (;;) {
      const blocks = this.blocks;
      let p = this.pos;
      if (desc) while (p < blocks.length && blocks[p]! > tb) p++;
      else while (p < blocks.length && blocks[p]! < tb) p++;
      for (; p < blocks.length; p++) {
        const b = blocks[p]!;
        const v = this.values[p]!;
        // In the target's block, the nearest member at or beyond it; in a later block (scan order), its first.
        const m = desc ? prevMember(v, b === tb ? target - b * BLOCK : BLOCK - 1) : nextMember(v, b === tb ? target - b * BLOCK : 0);
        if (m === -1) continue;
        this.pos = p;
        const at = b * BLOCK + m;
        return (desc ? at < this.lo : at > this.hi) ? undefined : at;
      }
      this.pos = p;
      if (this.done) return undefined;
      let from = tb;
      if (blocks.length > 0) {
        const next = desc ? blocks[blocks.length - 1]! - 1 : blocks[blocks.length - 1]! + 1;
        from = desc ? Math.min(tb, next) : Math.max(tb, next);
        // A jump past the blocks right after these (another list's member lies
        // further on) starts small again: a big batch there would mostly be skipped.
        if (from !== next) this.batch = BATCH;
      }
      if (from < 0) {
        this.done = true;
        return undefined;
      }
      // seek() only sets the position; the nextv below does the reading.
      this.it.seek(withBlock(this.prefix, from));
      const want = this.batch;
      this.batch = Math.min(MAX_BATCH, want * 2);
      const entries = await this.it.nextv(want);
      // A short batch within the byte budget reached the end of the range
      // (later targets lie further on); one over it was cut by the budget.
      if (entries.length < want) {
        let bytes = 0;
        for (const [k, v] of entries) bytes += k.length + v.length;
        if (bytes <= BATCH_BYTES) this.done = true;
      }
      this.blocks = entries.map(([k]) => keyBlock(k));
      this.values = entries.map(([, v]) => v);
      this.pos = 0;
    }
  }

  close(): Promise<void> {
    return this.it.close();
  }
}

/** Any of several lists (risk buckets): the nearest of their answers. */
class UnionStream implements Stream {
  constructor(
    private readonly parts: Stream[],
    private readonly desc: boolean,
  ) {}

  async seek(target: number): Promise<number | undefined> {
    let best: number | undefined;
    for (const p of this.parts) {
      const v = await p.seek(target);
      if (v !== undefined && (best === undefined || (this.desc ? v > best : v < best))) best = v;
    }
    return best;
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.close()));
  }
}

/**
 * Index bounds, to the block, holding every entry of the tenant logged in
 * [from, to]; the time list keys are ordered by each block's first logged_at
 * (keys.ts). Per tenant, logged_at never decreases with index (Log.stamp), so
 * entries before the last block that starts strictly before `from` are all
 * earlier than `from`, and entries after the last block that starts at or
 * before `to` are all later than `to`. Only the two edge blocks hold entries
 * outside the window; `matches` re-checks every candidate's logged_at.
 */
async function timeWindow(store: LogStore, t: Bytes, from: number | undefined, to: number | undefined): Promise<[number, number] | undefined> {
  const last = async (upTo: { lt: Bytes } | { lte: Bytes }) => (await store.db.keys({ gte: timeKey(t, 0, 0), ...upTo, limit: 1, reverse: true }).all())[0];
  const end = await last({ lte: timeKey(t, to ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) });
  if (end === undefined) return undefined;
  const start = from === undefined ? undefined : await last({ lt: timeKey(t, from, 0) });
  return [start === undefined ? 0 : keyBlock(start) * BLOCK, keyBlock(end) * BLOCK + BLOCK - 1];
}

function streamsFor(store: LogStore, t: Bytes, f: EventFilter, lo: number, hi: number, desc: boolean): Stream[] {
  const out: Stream[] = [];
  const list = (field: number, value: string | undefined) => {
    if (value !== undefined) out.push(new BlockStream(store, listPrefix(t, field, valueBytes(value)), lo, hi, desc));
  };
  // Most selective lists first: the leapfrog converges faster.
  list(LIST.run, f.run_id);
  list(LIST.session, f.session_id);
  list(LIST.approver, f.approver);
  list(LIST.target, f.target);
  list(LIST.actor, f.actor);
  for (const w of f.words ?? []) list(LIST.word, w);
  list(LIST.action, f.action);
  list(LIST.approval, f.approval);
  list(LIST.decision, f.decision);
  if (f.risk_min !== undefined || f.risk_max !== undefined) {
    const a = riskBucket(f.risk_min ?? 0);
    const b = riskBucket(f.risk_max ?? 100);
    const parts: Stream[] = [];
    for (let k = a; k <= b; k++) parts.push(new BlockStream(store, riskPrefix(t, k), lo, hi, desc));
    out.push(new UnionStream(parts, desc));
  }
  if (out.length === 0) out.push(new BlockStream(store, listPrefix(t, LIST.all), lo, hi, desc));
  return out;
}

/** Candidate indexes in scan order: the intersection of every filter's list. */
async function* candidates(streams: Stream[], start: number, lo: number, hi: number, desc: boolean): AsyncGenerator<number> {
  let cur = start;
  while (desc ? cur >= lo : cur <= hi) {
    let agreed = 0;
    for (let i = 0; agreed < streams.length; i = (i + 1) % streams.length) {
      const v = await streams[i]!.seek(cur);
      if (v === undefined) return;
      if (v === cur) agreed++;
      else {
        cur = v;
        agreed = 1;
      }
    }
    yield cur;
    cur += desc ? -1 : 1;
  }
}

const CHUNK = 128;

/**
 * The leaves at `indexes`, in order: a large chunk as two getMany calls that
 * the thread pool runs at once on the two cores (a page's 100 random reads
 * took ~1.3 ms on one thread, ~0.95 ms on two).
 */
async function readLeaves(store: LogStore, indexes: readonly number[]): Promise<(Bytes | undefined)[]> {
  const keys = indexes.map(entryKey);
  if (keys.length < 32) return store.db.getMany(keys);
  const half = keys.length >>> 1;
  const [a, b] = await Promise.all([store.db.getMany(keys.slice(0, half)), store.db.getMany(keys.slice(half))]);
  return a.concat(b);
}

/**
 * Hits for `tenant` matching `f`, in order. Returns (as the generator's
 * result) where it stopped, so the caller can hand out a cursor.
 */
export async function* search(store: LogStore, tenant: string, f: EventFilter, o: SearchOptions): AsyncGenerator<Hit, SearchEnd> {
  const desc = o.order === 'desc';
  const t = tenantPrefix(tenant);
  let lo = 0;
  let hi = o.treeSize - 1;
  if (f.from !== undefined || f.to !== undefined) {
    const w = await timeWindow(store, t, f.from, f.to);
    if (!w) return { resumeAfter: undefined };
    lo = Math.max(lo, w[0]);
    hi = Math.min(hi, w[1]);
  }
  if (o.after !== undefined) {
    if (desc) hi = Math.min(hi, o.after - 1);
    else lo = Math.max(lo, o.after + 1);
  }
  if (lo > hi) return { resumeAfter: undefined };
  const streams = streamsFor(store, t, f, lo, hi, desc);
  const limit = o.limit ?? Infinity;
  const budget = o.budget ?? Infinity;
  const exact = indexExact(f);
  let hits = 0;
  let examined = 0;
  try {
    const gen = candidates(streams, desc ? hi : lo, lo, hi, desc);
    let chunk: number[] = [];
    let exhausted = false;
    while (!exhausted) {
      // Read leaves a chunk at a time: one getMany instead of a get per hit.
      const want = Math.min(CHUNK, limit - hits, budget - examined);
      while (chunk.length < want) {
        const n = await gen.next();
        if (n.done) {
          exhausted = true;
          break;
        }
        chunk.push(n.value);
      }
      if (chunk.length === 0) break;
      const leaves = await readLeaves(store, chunk);
      for (let i = 0; i < chunk.length; i++) {
        const index = chunk[i]!;
        const leaf = leaves[i];
        examined++;
        if (leaf !== undefined && exact) {
          hits++;
          yield new LeafHit(index, leaf);
        } else if (leaf !== undefined) {
          // Fast path for leaves this server wrote; the strict decoder reports a damaged one.
          const record = readLeaf(leaf) ?? decodeRecord(leaf);
          if (matches(f, tenant, record, recordFields(record, f.words !== undefined))) {
            hits++;
            yield { index, leaf, record };
          }
        }
        if (hits >= limit || examined >= budget) {
          const more = i < chunk.length - 1 || !exhausted;
          return { resumeAfter: more ? index : undefined };
        }
      }
      chunk = [];
    }
    return { resumeAfter: undefined };
  } finally {
    await Promise.all(streams.map((s) => s.close()));
  }
}
