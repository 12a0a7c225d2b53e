/**
 * The erased marks of a chunk of hits (a page, an export chunk, a run),
 * prepared before its rows are written: which references its leaves name,
 * then their erasure state in one vault read, then, per hit, the RefMark
 * to write it with (cbor-json.ts, privacy/annotate.ts markErased).
 *
 * Invariant: a chunk whose leaves hold no reference makes no vault read
 * and allocates nothing per hit; a byte search per leaf is all it costs.
 */

import { forEachPiiRef } from '../events/pii.js';
import { type ErasureReader, lookupMarks, type RefMark } from '../privacy/annotate.js';
import { eachRef, mayHoldRef } from './cbor-refs.js';
import type { Hit } from './search.js';

/**
 * Per hit, the mark to write it with: undefined for a hit with no erased
 * reference (written as it always was). The whole answer is undefined
 * when no hit has one.
 */
export async function erasureMarks(hits: readonly Pick<Hit, 'leaf' | 'record'>[], vault: ErasureReader): Promise<(RefMark | undefined)[] | undefined> {
  let perHit: ([string, string][] | undefined)[] | undefined;
  const all: [string, string][] = [];
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i]!;
    if (!mayHoldRef(h.leaf)) continue;
    const refs: [string, string][] = [];
    const visit = (pointer: string, subject: string) => void refs.push([pointer, subject]);
    // A leaf outside the scanner's subset is decoded (the transcoder falls back to the record too).
    if (!eachRef(h.leaf, visit)) {
      refs.length = 0;
      forEachPiiRef(h.record, (r) => visit(r.$pii, r.subject));
    }
    if (refs.length === 0) continue;
    (perHit ??= new Array(hits.length))[i] = refs;
    all.push(...refs);
  }
  if (perHit === undefined) return undefined;
  const mark = await lookupMarks(all, vault);
  if (mark === undefined) return undefined;
  // Only hits with an erased reference take the transcoder's slower map path.
  return Array.from(perHit, (refs) => (refs?.some(([p, s]) => mark(p, s) !== undefined) ? mark : undefined));
}
