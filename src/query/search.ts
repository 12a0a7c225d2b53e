/**
 * Index search: every filter is a posting list ordered by entry index
 * (keys.ts); the lists are intersected by leapfrogging (each list seeks to
 * the largest candidate seen so far, until all agree), then each candidate's
 * leaf is read and checked against the exact filter (filter.ts).
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
import { keyIndex, LIST, listPrefix, riskBucket, riskPrefix, tenantPrefix, timeKey, valueBytes, withIndex } from './keys.js';

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

/** Where a search stopped: the last position examined, when more may follow. */
export interface SearchEnd {
  resumeAfter: number | undefined;
}

interface Stream {
  /** The first index at or beyond `target` in scan order, or undefined. */
  seek(target: number): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Keys fetched per native call. */
const BATCH = 128;

/**
 * One posting list, read in batches: every native call (a libuv round trip)
 * fetches up to BATCH keys, and a seek beyond the batch in hand repositions
 * the iterator and reads the next batch in that same call. A leapfrog join
 * then costs a few calls per page instead of one per step.
 */
class ListStream implements Stream {
  private readonly it;
  private buf: number[] = [];
  private pos = 0;
  private done = false;

  constructor(
    store: LogStore,
    private readonly prefix: Bytes,
    lo: number,
    hi: number,
    private readonly desc: boolean,
  ) {
    this.it = store.db.keys({ gte: withIndex(prefix, lo), lt: withIndex(prefix, hi + 1), reverse: desc });
  }

  async seek(target: number): Promise<number | undefined> {
    for (;;) {
      const buf = this.buf;
      let p = this.pos;
      if (this.desc) while (p < buf.length && buf[p]! > target) p++;
      else while (p < buf.length && buf[p]! < target) p++;
      this.pos = p;
      if (p < buf.length) return buf[p];
      if (this.done) return undefined;
      // seek() only sets the position; the nextv below does the reading.
      this.it.seek(withIndex(this.prefix, target));
      const keys = await this.it.nextv(BATCH);
      if (keys.length === 0) {
        this.done = true;
        return undefined;
      }
      this.buf = keys.map(keyIndex);
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

/** Index bounds of the tenant's entries logged in [from, to] (logged_at never decreases with index). */
async function timeWindow(store: LogStore, t: Bytes, from: number | undefined, to: number | undefined): Promise<[number, number] | undefined> {
  const range = { gte: timeKey(t, from ?? 0, 0), lte: timeKey(t, to ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) };
  const [first] = await store.db.keys({ ...range, limit: 1 }).all();
  const [last] = await store.db.keys({ ...range, limit: 1, reverse: true }).all();
  if (first === undefined || last === undefined) return undefined;
  return [keyIndex(first), keyIndex(last)];
}

function streamsFor(store: LogStore, t: Bytes, f: EventFilter, lo: number, hi: number, desc: boolean): Stream[] {
  const out: Stream[] = [];
  const list = (field: number, value: string | undefined) => {
    if (value !== undefined) out.push(new ListStream(store, listPrefix(t, field, valueBytes(value)), lo, hi, desc));
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
    for (let k = a; k <= b; k++) parts.push(new ListStream(store, riskPrefix(t, k), lo, hi, desc));
    out.push(new UnionStream(parts, desc));
  }
  if (out.length === 0) out.push(new ListStream(store, listPrefix(t, LIST.all), lo, hi, desc));
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
      const leaves = await store.db.getMany(chunk.map(entryKey));
      for (let i = 0; i < chunk.length; i++) {
        const index = chunk[i]!;
        const leaf = leaves[i];
        examined++;
        if (leaf !== undefined) {
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
