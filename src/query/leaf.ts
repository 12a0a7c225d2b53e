/**
 * A fast leaf reader for the indexer and for query results. Every leaf in
 * the store was encoded by this server (canonical by construction, and
 * checked by verify-store), so the strict decoder's canonical re-encoding
 * check is skipped: it cost more than all the rest of indexing.
 *
 * Two things the strict decoder handles are kept: integers of 2^32 and above
 * come back from cbor-x as bigint and are turned into numbers (stored
 * integers are safe integers), and a leaf holding the text `__proto__` (a
 * legal JSON key that a plain-object decoder would turn into a prototype) is
 * decoded by the strict decoder instead.
 */

import { Decoder } from 'cbor-x';
import { decodeRecord, type LogRecord } from '../events/index.js';

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true } as ConstructorParameters<typeof Decoder>[0]);
const PROTO = new TextEncoder().encode('__proto__');

function hasProto(b: Uint8Array): boolean {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(PROTO) !== -1;
}

/** Replaces bigints by numbers in place (iteratively: no recursion on nesting depth). */
function numbers(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    const o = v as Record<string, unknown>;
    for (const k of Array.isArray(o) ? o.keys() : Object.keys(o)) {
      const x = o[k as string];
      if (typeof x === 'bigint') {
        if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) return false;
        o[k as string] = Number(x);
      } else if (typeof x === 'object' && x !== null) stack.push(x);
    }
  }
  return true;
}

/** The record in `leaf`, or undefined if it is not a v1 record. */
export function readLeaf(leaf: Uint8Array): LogRecord | undefined {
  if (hasProto(leaf)) {
    try {
      return decodeRecord(leaf);
    } catch {
      return undefined;
    }
  }
  let r: unknown;
  try {
    // subarray(0): cbor-x caches a DataView on the array it decodes.
    r = decoder.decode(leaf.subarray(0));
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r) || !numbers(r)) return undefined;
  const x = r as Record<string, unknown>;
  if (x.v !== 1 || typeof x.tenant !== 'string' || typeof x.logged_at !== 'number' || !Number.isSafeInteger(x.logged_at) || x.logged_at < 0) return undefined;
  if (typeof x.event !== 'object' || x.event === null || Array.isArray(x.event) || typeof (x.event as { event_id?: unknown }).event_id !== 'string') return undefined;
  return x as unknown as LogRecord;
}
