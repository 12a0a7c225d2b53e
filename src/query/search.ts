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

/** Stream.find's answers besides an index. */
const END = -1;
const NEED_IO = -2;

interface Stream {
  /**
   * The first index at or beyond `target` in scan order, END when there is
   * none, or NEED_IO when the blocks in hand cannot tell: then `fetch`
   * reads on. Synchronous, so the leapfrog runs without a promise per
   * candidate and awaits only real reads. Targets never move back.
   */
  find(target: number): number;
  /** Reads the blocks that `find(target)` lacks (a native call per list; concurrent calls share one read). */
  fetch(target: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Block keys fetched by a list's first native call: enough for a page of
 * 100 to come from one read of each list even where two lists intersect
 * sparsely (one hit in ~350 entries is 137 blocks); a round trip costs more
 * than reading the keys. Each later call fetches twice as many, up to
 * MAX_BATCH; a read after a jump starts again at BATCH.
 */
const FIRST_BATCH = 256;
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

const noop = (): void => {};

/**
 * One posting list, read a batch of block keys at a time: every native call
 * (a libuv round trip) fetches a batch of blocks (each up to 256 indexes),
 * BATCH at first and doubling, so a long scan costs few round trips and a
 * short one reads little, and a target beyond the batch in hand repositions
 * the iterator and reads the next batch in that same call. Members are
 * found in the block values in place (nextMember/prevMember), without
 * decoding whole blocks. Answers outside [lo, hi] are never returned,
 * though the first and last blocks reach beyond them.
 */
class BlockStream implements Stream {
  private readonly it;
  private blocks: number[] = [];
  private values: Bytes[] = [];
  private pos = 0;
  private done = false;
  private batch: number;
  private pending: Promise<void> | undefined;
  /** The block the iterator reads from next without a seek: where its range starts, then past the last block read. */
  private at: number;

  constructor(
    store: LogStore,
    private readonly prefix: Bytes,
    private readonly lo: number,
    private readonly hi: number,
    private readonly desc: boolean,
    first = FIRST_BATCH,
  ) {
    this.batch = first;
    this.it = store.db.iterator({
      gte: withBlock(prefix, Math.floor(lo / BLOCK)),
      lte: withBlock(prefix, Math.floor(hi / BLOCK)),
      reverse: desc,
      highWaterMarkBytes: BATCH_BYTES,
    });
    this.at = Math.floor((desc ? hi : lo) / BLOCK);
  }

  /**
   * Targets only move forward in scan order (the leapfrog never goes back),
   * so the blocks in hand cover every block from the last target to the
   * last one fetched, and the next fetch starts past them.
   */
  find(target: number): number {
    const desc = this.desc;
    if (desc ? target < this.lo : target > this.hi) return END;
    if (this.pending !== undefined) return NEED_IO;
    const tb = Math.floor(target / BLOCK);
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
      return (desc ? at < this.lo : at > this.hi) ? END : at;
    }
    this.pos = p;
    return this.done ? END : NEED_IO;
  }

  fetch(target: number): Promise<void> {
    if (this.pending === undefined) {
      const p = this.read(target);
      this.pending = p;
      // Handled here too, so a read nobody waits for any more (the search ended) never goes unhandled.
      const clear = (): void => {
        if (this.pending === p) this.pending = undefined;
      };
      p.then(clear, clear);
    }
    return this.pending;
  }

  private async read(target: number): Promise<void> {
    const desc = this.desc;
    const tb = Math.floor(target / BLOCK);
    const blocks = this.blocks;
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
      return;
    }
    // classic-level's seek() runs LevelDB's seek on the main thread, one block
    // read per level: only a jump needs it; the iterator starts, and goes on
    // after each batch, where the next read begins anyway.
    if (from !== this.at) this.it.seek(withBlock(this.prefix, from));
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
    if (this.blocks.length > 0) this.at = desc ? this.blocks[this.blocks.length - 1]! - 1 : this.blocks[this.blocks.length - 1]! + 1;
    else this.at = -1; // the range is read to its end (done)
  }

  async close(): Promise<void> {
    await this.pending?.catch(noop);
    await this.it.close();
  }
}

/** Any of several lists (risk buckets): the nearest of their answers. */
class UnionStream implements Stream {
  constructor(
    private readonly parts: Stream[],
    private readonly desc: boolean,
  ) {}

  find(target: number): number {
    let best = END;
    let io = false;
    for (const p of this.parts) {
      const v = p.find(target);
      if (v === target) return v; // nothing is nearer
      if (v === NEED_IO) io = true;
      else if (v !== END && (best === END || (this.desc ? v > best : v < best))) best = v;
    }
    return io ? NEED_IO : best;
  }

  async fetch(target: number): Promise<void> {
    await Promise.all(this.parts.filter((p) => p.find(target) === NEED_IO).map((p) => p.fetch(target)));
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
    // Up to 101 lists read at once: each starts small.
    for (let k = a; k <= b; k++) parts.push(new BlockStream(store, riskPrefix(t, k), lo, hi, desc, BATCH));
    out.push(new UnionStream(parts, desc));
  }
  if (out.length === 0) out.push(new BlockStream(store, listPrefix(t, LIST.all), lo, hi, desc));
  return out;
}

/**
 * Candidate indexes in scan order, the intersection of every filter's list
 * by leapfrogging: each list in turn finds its first member at or beyond
 * the current candidate, until all agree. `next` is synchronous and answers
 * NEED_IO (with the list to fetch in `blocked`) when a list must read on;
 * called again after that fetch, it resumes where it stopped.
 */
class Leapfrog {
  /** The list whose read `next` waits for after answering NEED_IO. */
  blocked: Stream | undefined;
  private i = 0;
  private agreed = 0;

  constructor(
    private readonly streams: Stream[],
    public cur: number,
    private readonly lo: number,
    private readonly hi: number,
    private readonly desc: boolean,
  ) {}

  next(): number {
    const s = this.streams;
    const desc = this.desc;
    if (desc ? this.cur < this.lo : this.cur > this.hi) return END;
    while (this.agreed < s.length) {
      const v = s[this.i]!.find(this.cur);
      if (v === NEED_IO) {
        this.blocked = s[this.i];
        return NEED_IO;
      }
      if (v === END) {
        this.cur = desc ? this.lo - 1 : this.hi + 1;
        return END;
      }
      if (v === this.cur) this.agreed++;
      else {
        this.cur = v;
        this.agreed = 1;
      }
      this.i = (this.i + 1) % s.length;
    }
    const hit = this.cur;
    this.cur += desc ? -1 : 1;
    this.agreed = 0;
    this.i = 0;
    return hit;
  }
}

/** Candidates whose leaves are read per getMany (or two). */
const CHUNK = 128;

/**
 * The leaves at `indexes`, in order: a large chunk as two getMany calls that
 * the thread pool runs at once on the two cores (a page's 100 random reads
 * took ~1.3 ms on one thread, ~0.95 ms on two).
 */
async function readLeaves(store: LogStore, indexes: readonly number[], fillCache: boolean): Promise<(Bytes | undefined)[]> {
  const keys = indexes.map(entryKey);
  const opts = { fillCache };
  if (keys.length < 32) return store.db.getMany(keys, opts);
  const half = keys.length >>> 1;
  const [a, b] = await Promise.all([store.db.getMany(keys.slice(0, half), opts), store.db.getMany(keys.slice(half), opts)]);
  return a.concat(b);
}

/** Options of a search that streams (export): how far its reads run ahead of the consumer. */
export interface StreamOptions {
  /** Candidates per leaf read (default CHUNK). */
  chunk?: number;
  /**
   * Candidates whose leaves may be read beyond the chunk being handed out
   * (default 0): the next chunk's read runs on the thread pool while the
   * consumer works on this one.
   */
  readAhead?: number;
  /**
   * Whether the leaves read go into LevelDB's block cache (default true). A
   * scan of the whole log (export) reads each block once, and would only
   * push out what pages read again.
   */
  fillCache?: boolean;
  /** Started with each chunk's leaf read and awaited with it (the export reads its hash tiles so). */
  alongside?: (indexes: readonly number[]) => Promise<unknown>;
}

interface InFlight {
  indexes: number[];
  read: Promise<[(Bytes | undefined)[], unknown]>;
}

/**
 * Hits for `tenant` matching `f`, in order, a chunk at a time. Returns (as
 * the generator's result) where it stopped, so the caller can hand out a
 * cursor.
 *
 * Round trips are what a page costs on this storage (each native call is a
 * thread-pool hop), so the search overlaps them: every list's first read is
 * started at once; a chunk's leaf read starts as soon as a list must read
 * on (the two run together) or the chunk is full; and with `readAhead` the
 * next chunk's leaves are read while the consumer handles this one.
 */
export async function* searchChunks(store: LogStore, tenant: string, f: EventFilter, o: SearchOptions & StreamOptions): AsyncGenerator<Hit[], SearchEnd> {
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
  const chunkSize = o.chunk ?? CHUNK;
  const exact = indexExact(f);
  // Candidates whose leaves may be in flight at once: a chunk and the
  // read-ahead; where every candidate is a hit (exact lists), a whole page,
  // so a page of 1,000 is read in parallel chunks, not one after another.
  const ahead = o.readAhead ?? 0;
  const cap = exact && Number.isFinite(limit) ? Math.max(chunkSize + ahead, limit) : chunkSize + ahead;
  const start = desc ? hi : lo;
  const lf = new Leapfrog(streams, start, lo, hi, desc);
  const queue: InFlight[] = [];
  let inFlight = 0;
  let exhausted = false;
  let fetching: Promise<void> | undefined;
  let fetched = false;
  let hits = 0;
  let examined = 0;
  const startRead = (indexes: number[]): void => {
    const read = Promise.all([readLeaves(store, indexes, o.fillCache ?? true), o.alongside?.(indexes)]);
    read.catch(noop); // awaited below, unless the search ends first
    queue.push({ indexes, read });
  };
  try {
    // Every list starts at `start`: their first reads go out together.
    for (const s of streams) if (s.find(start) === NEED_IO) void s.fetch(start).catch(noop);
    for (;;) {
      if (fetching !== undefined && fetched) {
        await fetching; // settled: rethrows a failed read
        fetching = undefined;
      }
      // Candidates, while the lists in hand give them and the page has room.
      let chunk: number[] = [];
      while (!exhausted && fetching === undefined) {
        const room = Math.min(limit - hits, budget - examined) - inFlight;
        if (room <= 0 || inFlight >= cap) break;
        const c = lf.next();
        if (c === NEED_IO) {
          const p = lf.blocked!.fetch(lf.cur);
          fetching = p;
          fetched = false;
          p.then(
            () => (fetched = true),
            () => (fetched = true),
          );
          break;
        }
        if (c === END) {
          exhausted = true;
          break;
        }
        chunk.push(c);
        inFlight++;
        if (chunk.length === chunkSize) {
          startRead(chunk);
          chunk = [];
        }
      }
      // The leaves of what is in hand are read while a list reads on.
      if (chunk.length > 0) startRead(chunk);
      const head = queue.shift();
      if (head === undefined) {
        if (fetching === undefined) break; // exhausted, or no room left
        await fetching;
        fetching = undefined;
        continue;
      }
      const [leaves] = await head.read;
      inFlight -= head.indexes.length;
      const out: Hit[] = [];
      const idx = head.indexes;
      for (let i = 0; i < idx.length; i++) {
        const index = idx[i]!;
        const leaf = leaves[i];
        examined++;
        if (leaf !== undefined && exact) {
          hits++;
          out.push(new LeafHit(index, leaf));
        } else if (leaf !== undefined) {
          // Fast path for leaves this server wrote; the strict decoder reports a damaged one.
          const record = readLeaf(leaf) ?? decodeRecord(leaf);
          if (matches(f, tenant, record, recordFields(record, f.words !== undefined))) {
            hits++;
            out.push({ index, leaf, record });
          }
        }
        if (hits >= limit || examined >= budget) {
          const more = i < idx.length - 1 || queue.length > 0 || !exhausted;
          if (out.length > 0) yield out;
          return { resumeAfter: more ? index : undefined };
        }
      }
      if (out.length > 0) yield out;
    }
    return { resumeAfter: undefined };
  } finally {
    await Promise.all(streams.map((s) => s.close()));
  }
}

/** Hits for `tenant` matching `f`, in order, one at a time (searchChunks). */
export async function* search(store: LogStore, tenant: string, f: EventFilter, o: SearchOptions & StreamOptions): AsyncGenerator<Hit, SearchEnd> {
  const gen = searchChunks(store, tenant, f, o);
  let n = await gen.next();
  try {
    for (; !n.done; n = await gen.next()) for (const h of n.value) yield h;
    return n.value;
  } finally {
    // A consumer that stops early still closes the lists.
    if (!n.done) await gen.return({ resumeAfter: undefined });
  }
}
