/**
 * parseEvent: the one entry point that turns untrusted input (JSON.parse or
 * decodeCborBody output, or a server-built object) into an event as stored.
 *
 * Order matters:
 *  1. the input must be a JSON object;
 *  2. unknown top-level fields are named (UNKNOWN_FIELDS, 422) — this looks
 *     only at the top-level keys, so it is cheap even for hostile input;
 *  3. the iterative walk (sanitize.ts) bounds depth and keeps only JSON,
 *     copying into fresh objects — from here on nothing is deep or exotic;
 *  4. zod checks the shape and limits;
 *  5. an event_id is assigned (UUIDv7) when absent.
 */
import { TlogError } from '../errors.js';
import { schemaIssues, summarizeIssues } from './issues.js';
import { isPlainObject } from './json.js';
import { DEFAULT_MAX_DEPTH, MAX_EVENT_DEPTH } from './limits.js';
import { sanitizeJson } from './sanitize.js';
import { EVENT_FIELDS, EventSchema, type AuditEvent } from './schema.js';
import { uuidv7, type Clock, type RandomSource } from './uuidv7.js';

/** Options for {@link parseEvent}. */
export interface ParseEventOptions {
  /** Clock for the assigned event_id (Unix ms). Default: Date.now. */
  now?: Clock;
  /** Randomness for the assigned event_id. Default: globalThis.crypto. */
  random?: RandomSource;
  /**
   * Makes the event_id when absent, overriding now/random — e.g. a shared
   * createUuidV7Generator() so a server's ids are strictly increasing.
   */
  generateId?: () => string;
  /** Deepest container nesting allowed; the event object is level 1. Default 32, at most 120. */
  maxDepth?: number;
}

/** Unknown names are echoed, but bounded: at most this many, each cut to this length. */
const MAX_NAMED_FIELDS = 20;
const MAX_NAME_SHOWN = 64;

function unknownFields(keys: string[]): TlogError {
  const fields = keys.slice(0, MAX_NAMED_FIELDS).map((k) => (k.length > MAX_NAME_SHOWN ? `${k.slice(0, MAX_NAME_SHOWN)}…` : k));
  const more = keys.length > fields.length ? ` (and ${keys.length - fields.length} more)` : '';
  return new TlogError('UNKNOWN_FIELDS', `unknown top-level field${keys.length === 1 ? '' : 's'}: ${fields.map((f) => JSON.stringify(f)).join(', ')}${more}`, {
    details: { fields },
  });
}

/**
 * Validates an audit event and returns it as stored: a fresh plain JSON
 * object (never sharing objects with `input`), with `event_id` set.
 *
 * @throws TlogError `SCHEMA_VIOLATION` (with `details.issues: [{path, message}]`),
 *   `UNKNOWN_FIELDS` (with `details.fields`), or `NESTING_TOO_DEEP`.
 *   Messages name paths and rules, never values.
 * @throws RangeError for a `maxDepth` outside 1..120 (a caller bug).
 */
export function parseEvent(input: unknown, opts: ParseEventOptions = {}): AuditEvent {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_EVENT_DEPTH) {
    throw new RangeError(`maxDepth must be an integer in 1..${MAX_EVENT_DEPTH}`);
  }
  if (!isPlainObject(input)) {
    const issues = [{ path: '', message: 'must be a JSON object' }];
    throw new TlogError('SCHEMA_VIOLATION', summarizeIssues(issues), { details: { issues } });
  }

  const unknown = Object.keys(input).filter((k) => !EVENT_FIELDS.has(k));
  if (unknown.length > 0) throw unknownFields(unknown);

  const clean = sanitizeJson(input, maxDepth);
  const parsed = EventSchema.safeParse(clean);
  if (!parsed.success) {
    const issues = schemaIssues(parsed.error.issues, clean);
    throw new TlogError('SCHEMA_VIOLATION', summarizeIssues(issues), { details: { issues } });
  }

  // zod built this object from our copy, so it is ours to complete in place.
  const event = parsed.data;
  event.event_id ??= opts.generateId !== undefined ? opts.generateId() : uuidv7({ now: opts.now, random: opts.random });
  return event as AuditEvent;
}
