/**
 * One page of GET /v1/events as JSON bytes: search, then each hit's index,
 * leaf hash and record. The record's JSON is transcoded straight from the
 * leaf's CBOR (cbor-json.ts), so a hit the indexes answered exactly is never
 * decoded at all. bench/query.mjs times this same function as the query's
 * server-side cost.
 *
 * Erased references are marked (spec/privacy.md §2): per chunk of hits,
 * one vault read for the references its leaves name, none for a chunk
 * that names none (erasure-marks.ts).
 */

import type { ErasureReader } from '../privacy/annotate.js';
import type { LogStore } from '../storage/store.js';
import { ByteSink } from './cbor-json.js';
import { erasureMarks } from './erasure-marks.js';
import type { EventFilter } from './filter.js';
import { writeHitOpen } from './rows.js';
import { type Hit, searchChunks, type SearchEnd, type SearchOptions } from './search.js';

/** The leaf hash of entry `index` (its bytes are `leaf`): from a cached tile, or hashed. */
export type LeafHasher = (index: number, leaf: Uint8Array) => Uint8Array;

/**
 * Writes `{"events":[…]` to `out` (the caller closes the object with its
 * own fields) and returns where the search stopped and how many hits it wrote.
 */
export async function writeEventsPage(
  out: ByteSink,
  store: LogStore,
  leafHash: LeafHasher,
  tenant: string,
  filter: EventFilter,
  o: SearchOptions,
  vault: ErasureReader,
): Promise<SearchEnd & { hits: number }> {
  const gen = searchChunks(store, tenant, filter, o);
  // The page's hits are gathered first and their erasure state read once, so
  // one answer never shows a subject both bare and marked (an erasure landing
  // between two chunks' reads did). A page holds at most MAX_LIMIT hits.
  const all: Hit[] = [];
  let n = await gen.next();
  try {
    for (; !n.done; n = await gen.next()) for (const h of n.value) all.push(h);
  } finally {
    // A throw mid-page (a leaf that does not decode) must still close the
    // search's iterators, which its own finally does once it is returned.
    if (!n.done) await gen.return({ resumeAfter: undefined });
  }
  const marks = await erasureMarks(all, vault);
  out.text('{"events":[');
  for (let k = 0; k < all.length; k++) {
    const h = all[k]!;
    if (k > 0) out.byte(0x2c);
    writeHitOpen(out, h, leafHash(h.index, h.leaf), 0, marks?.[k]);
    out.byte(0x7d);
  }
  out.byte(0x5d);
  return { ...n.value, hits: all.length };
}

/**
 * Closes the page object and returns its bytes: a view of `out`'s buffer,
 * valid until `out` is written again or returned to the pool.
 */
export function finishPage(out: ByteSink, nextCursor: string | null, treeSize: number): Uint8Array {
  out.text(`,"next_cursor":${JSON.stringify(nextCursor)},"tree_size":${treeSize}}`);
  return out.buf.subarray(0, out.p);
}

/**
 * Sinks for pages, reused. A page is ~100 KB of JSON; a fresh 64 KB buffer
 * grown to 128 KB and copied out per request is external memory that V8
 * answers with full GCs (measured: one every ~200 pages, each a 10-20 ms
 * stall of the query tail). Only sinks of at most 1 MiB return to the pool.
 */
const FREE: ByteSink[] = [];
const POOLED = 8;

export function borrowSink(): ByteSink {
  const s = FREE.pop() ?? new ByteSink();
  s.p = 0;
  return s;
}

export function returnSink(s: ByteSink): void {
  if (FREE.length < POOLED && s.buf.length <= 1 << 20 && !FREE.includes(s)) FREE.push(s);
}
