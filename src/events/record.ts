/**
 * The log record: what one leaf of the Merkle tree holds.
 *
 *   { "v": 1, "tenant": <string>, "logged_at": <unix ms integer>, "event": <the event as stored> }
 *
 * encoded as deterministic CBOR (cbor.ts). A leaf is at most 65,535 bytes
 * because tlog-tiles entry bundles prefix each leaf with a 16-bit length.
 */
import { TlogError } from '../errors.js';
import { decodeCanonical, encodeCanonical } from './cbor.js';
import { isPlainObject } from './json.js';
import type { AuditEvent } from './schema.js';

/** Largest leaf in bytes (tlog-tiles entry bundles use a u16 length). */
export const MAX_LEAF_BYTES = 65535;

/** One stored record, version 1. */
export interface LogRecord {
  /** Record format version; always 1. */
  v: 1;
  /** The tenant whose key appended the event. */
  tenant: string;
  /** When the log accepted the event: Unix milliseconds, an integer. */
  logged_at: number;
  /** The event as stored (after secrets scrubbing and moving personal data to the vault). */
  event: AuditEvent;
}

const RECORD_KEYS = ['event', 'logged_at', 'tenant', 'v'];

/** Why `r` is not a v1 record, or undefined when it is. */
function recordProblem(r: unknown): string | undefined {
  if (!isPlainObject(r)) return 'not a map';
  const keys = Object.keys(r).sort();
  if (keys.length !== RECORD_KEYS.length || keys.some((k, i) => k !== RECORD_KEYS[i])) return 'keys must be exactly v, tenant, logged_at, event';
  if (r.v !== 1) return 'unsupported version';
  if (typeof r.tenant !== 'string' || r.tenant.length === 0) return 'tenant must be a non-empty string';
  if (typeof r.logged_at !== 'number' || !Number.isSafeInteger(r.logged_at) || r.logged_at < 0) return 'logged_at must be a non-negative integer';
  if (!isPlainObject(r.event)) return 'event must be a map';
  if (typeof r.event.event_id !== 'string') return 'event.event_id must be a string';
  return undefined;
}

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

/**
 * Decodes leaf bytes into a record: deterministic-CBOR check, then the
 * record shape. The event inside is not re-validated against the input
 * schema, because the stored form legitimately differs from it (scrubbed
 * secrets, vault pointers in place of personal data); it must only be a map
 * with a string event_id.
 *
 * @throws TlogError `MALFORMED` (not CBOR, not a v1 record, or larger than
 *   {@link MAX_LEAF_BYTES}) or `NOT_CANONICAL`. Never throws anything else;
 *   safe on hostile input (the browser verifier calls it).
 */
export function decodeRecord(leaf: Uint8Array): LogRecord {
  if (!(leaf instanceof Uint8Array)) throw new TlogError('MALFORMED', 'a leaf must be bytes');
  if (leaf.length > MAX_LEAF_BYTES) throw new TlogError('MALFORMED', `a leaf is at most ${MAX_LEAF_BYTES} bytes`);
  const value = decodeCanonical(leaf);
  const problem = recordProblem(value);
  if (problem !== undefined) throw new TlogError('MALFORMED', `the leaf is not a v1 log record: ${problem}`);
  return value as unknown as LogRecord;
}
