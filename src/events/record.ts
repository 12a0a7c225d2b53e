/**
 * The log record: what one leaf of the Merkle tree holds.
 *
 *   { "v": 1, "tenant": <string>, "logged_at": <unix ms integer>, "event": <the event as stored> }
 *
 * encoded as deterministic CBOR (cbor.ts). A leaf is at most 65,535 bytes
 * because tlog-tiles entry bundles prefix each leaf with a 16-bit length.
 */
import { TlogError } from '../errors.js';
import { encodeCanonical } from './cbor.js';
import { MAX_LEAF_BYTES, recordProblem, type LogRecord } from './leaf.js';

export { MAX_LEAF_BYTES, decodeRecord, type LogRecord } from './leaf.js';

/**
 * Encodes a record as its leaf bytes. Only the four record fields are
 * encoded, whatever else `r` carries.
 *
 * @throws TlogError `LEAF_TOO_LARGE` (413) when the leaf would exceed
 *   {@link MAX_LEAF_BYTES}.
 * @throws TypeError for a record that is not v1-shaped, or an event outside
 *   the JSON data model (caller bugs: events come from parseEvent).
 */
export function encodeRecord(r: LogRecord): Uint8Array {
  const record = { v: r.v, tenant: r.tenant, logged_at: r.logged_at, event: r.event };
  const problem = recordProblem(record);
  if (problem !== undefined) throw new TypeError(`encodeRecord: ${problem}`);
  const leaf = encodeCanonical(record);
  if (leaf.length > MAX_LEAF_BYTES) {
    throw new TlogError('LEAF_TOO_LARGE', `the stored record would be ${leaf.length} bytes; the limit is ${MAX_LEAF_BYTES}`, {
      details: { size: leaf.length, max: MAX_LEAF_BYTES },
    });
  }
  return leaf;
}

// The record's keys in canonical order (shortest encoding first):
// "v" (1 byte), "event" (5), "tenant" (6), "logged_at" (9). The map header
// and the fixed parts around the event are precomputed.
const HEAD = encodeCanonical({ v: 1, event: 0 }).slice(0, -1); // then A2 → A4: the record has four keys
HEAD[0] = 0xa4;
const TENANT_KEY = encodeCanonical('tenant');
const LOGGED_AT_KEY = encodeCanonical('logged_at');

/**
 * The same bytes as `encodeRecord({ v: 1, tenant, logged_at, event })`, but
 * from the event's canonical encoding, which the server has already computed
 * for its idempotency hash: one CBOR encode per append instead of two.
 *
 * @throws TlogError `LEAF_TOO_LARGE`.
 */
export function encodeRecordFromEventBytes(eventBytes: Uint8Array, tenant: string, loggedAt: number): Uint8Array {
  if (typeof tenant !== 'string' || tenant.length === 0) throw new TypeError('encodeRecordFromEventBytes: tenant must be a non-empty string');
  if (!Number.isSafeInteger(loggedAt) || loggedAt < 0) throw new TypeError('encodeRecordFromEventBytes: logged_at must be a non-negative integer');
  const t = encodeCanonical(tenant);
  const l = encodeCanonical(loggedAt);
  const size = HEAD.length + eventBytes.length + TENANT_KEY.length + t.length + LOGGED_AT_KEY.length + l.length;
  if (size > MAX_LEAF_BYTES) {
    throw new TlogError('LEAF_TOO_LARGE', `the stored record would be ${size} bytes; the limit is ${MAX_LEAF_BYTES}`, {
      details: { size, max: MAX_LEAF_BYTES },
    });
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const part of [HEAD, eventBytes, TENANT_KEY, t, LOGGED_AT_KEY, l]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
