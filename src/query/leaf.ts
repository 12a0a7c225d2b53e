/**
 * A fast leaf reader for the indexer. The commit path and reindex only ever
 * index leaves this server encoded (canonical by construction, and checked
 * by verify-store), so the strict decoder's canonical re-encoding check is
 * skipped here: it cost more than the whole rest of indexing.
 */

import { Decoder } from 'cbor-x';
import type { LogRecord } from '../events/index.js';

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true } as ConstructorParameters<typeof Decoder>[0]);

/** The record in `leaf`, or undefined if it is not a v1 record. */
export function readLeaf(leaf: Uint8Array): LogRecord | undefined {
  let r: unknown;
  try {
    // subarray(0): cbor-x caches a DataView on the array it decodes.
    r = decoder.decode(leaf.subarray(0));
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null) return undefined;
  const x = r as Record<string, unknown>;
  // cbor-x gives integers of 2^32 and above as bigint.
  if (typeof x.logged_at === 'bigint' && x.logged_at <= BigInt(Number.MAX_SAFE_INTEGER)) x.logged_at = Number(x.logged_at);
  if (x.v !== 1 || typeof x.tenant !== 'string' || typeof x.logged_at !== 'number' || !Number.isSafeInteger(x.logged_at) || x.logged_at < 0) return undefined;
  if (typeof x.event !== 'object' || x.event === null || Array.isArray(x.event)) return undefined;
  return x as unknown as LogRecord;
}
