/**
 * The leaf side of the log record: its shape and its decoder. Pure and
 * dependency-free (no cbor-x), so the browser verifier can import it; the
 * encoders live in record.ts.
 */
import { TlogError } from '../errors.js';
import { decodeCanonicalStrict } from './cbor-canonical.js';
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
export function recordProblem(r: unknown): string | undefined {
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
  const value = decodeCanonicalStrict(leaf);
  const problem = recordProblem(value);
  if (problem !== undefined) throw new TlogError('MALFORMED', `the leaf is not a v1 log record: ${problem}`);
  return value as unknown as LogRecord;
}
