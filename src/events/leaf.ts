/**
 * The leaf side of the log record: its shape and its decoder. Pure and
 * dependency-free (no cbor-x), so the browser verifier can import it; the
 * encoders live in record.ts.
 */
import { TlogError } from '../errors.js';
import { checkCanonical, decodeCanonicalStrict } from './cbor-canonical.js';
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

const utf8 = new TextEncoder();
/** The record's keys as their canonical CBOR text, in canonical order (shorter first). */
const KEY_V = utf8.encode('v');
const KEY_EVENT = utf8.encode('event');
const KEY_TENANT = utf8.encode('tenant');
const KEY_LOGGED_AT = utf8.encode('logged_at');
const KEY_EVENT_ID = utf8.encode('event_id');

/**
 * What {@link decodeRecord} checks, without building the record: for a
 * monitor checking every leaf of a log. Accepts and refuses exactly the
 * same bytes, with the same codes (a property test holds the two together).
 *
 * @throws TlogError `MALFORMED` or `NOT_CANONICAL`.
 */
export function checkRecordLeaf(leaf: Uint8Array): void {
  if (!(leaf instanceof Uint8Array)) throw new TlogError('MALFORMED', 'a leaf must be bytes');
  if (leaf.length > MAX_LEAF_BYTES) throw new TlogError('MALFORMED', `a leaf is at most ${MAX_LEAF_BYTES} bytes`);
  const r = checkCanonical(leaf);
  const problem = (why: string) => new TlogError('MALFORMED', `the leaf is not a v1 log record: ${why}`);
  const [major, , count] = r.head();
  if (major !== 5) throw problem('not a map');
  // Canonical key order is fixed by the keys' encodings: v, event, tenant, logged_at.
  const keyIs = (want: Uint8Array): boolean => {
    const [m, , len] = r.head();
    const ok = m === 3 && len === want.length && want.every((c, i) => r.b[r.p + i] === c);
    r.p += len;
    return ok;
  };
  if (count !== 4 || !keyIs(KEY_V)) throw problem('keys must be exactly v, tenant, logged_at, event');
  if (r.item() !== 1) {
    // Report in recordProblem's order: the keys first, then the values.
    if (!(keyIs(KEY_EVENT) && (r.skip(), keyIs(KEY_TENANT)) && (r.skip(), keyIs(KEY_LOGGED_AT)))) throw problem('keys must be exactly v, tenant, logged_at, event');
    throw problem('unsupported version');
  }
  if (!keyIs(KEY_EVENT)) throw problem('keys must be exactly v, tenant, logged_at, event');
  const eventAt = r.p;
  r.skip();
  if (!keyIs(KEY_TENANT)) throw problem('keys must be exactly v, tenant, logged_at, event');
  const tenantAt = r.p;
  r.skip();
  if (!keyIs(KEY_LOGGED_AT)) throw problem('keys must be exactly v, tenant, logged_at, event');
  const [lm] = r.head();
  r.p = tenantAt;
  const [tm, , tlen] = r.head();
  if (tm !== 3 || tlen === 0) throw problem('tenant must be a non-empty string');
  if (lm !== 0) throw problem('logged_at must be a non-negative integer');
  r.p = eventAt;
  const [em, , entries] = r.head();
  if (em !== 5) throw problem('event must be a map');
  for (let i = 0; i < entries; i++) {
    if (keyIs(KEY_EVENT_ID)) {
      if (r.head()[0] !== 3) throw problem('event.event_id must be a string');
      return;
    }
    r.skip();
  }
  throw problem('event.event_id must be a string');
}
