/**
 * The ingest pipeline between validation and the log: every event passes
 * here after parseEvent and before anything is stored.
 *
 *   1. secrets are scrubbed (src/scrub/) — before the vault, the leaf, a log
 *      line or an error message can see them;
 *   2. personal values (`pii`, configured paths) are collected; when there
 *      are any, the log gets a `seal` step that seals them for the vault and
 *      puts {$pii, subject, commitment} references in their place; the log
 *      writes them with the commit of the leaf (Vault.stage, Prerequisite).
 *
 * Idempotency for events with personal values is decided on an HMAC of the
 * submitted event keyed by its subjects' vault keys: a plain hash of an
 * event holding a known email would let anyone with the log database test
 * guesses, and this one becomes meaningless once a subject is erased.
 */

import { createHmac } from 'node:crypto';
import { type AuditEvent, encodeCanonical, type JsonValue } from '../events/index.js';
import { formatPath } from '../events/path.js';
import type { PiiRef } from '../events/pii.js';
import type { AppendOptions, SealedEvent } from '../log/log.js';
import type { PiiItem, Vault } from '../vault/vault.js';
import { blockedAt, deletePath, getPath, type PiiPath } from './pii-paths.js';
import { EVENT_LIMITS, isPlainObject, sanitizeJson, setOwn } from '../events/index.js';
import { jsonTextLength } from '../events/schema.js';
import { isPrintable } from '../events/strings.js';

/** Nesting allowed inside one moved value (the event allows 32 overall). */
const MAX_VALUE_DEPTH = 16;
import { TlogError } from '../errors.js';
import { marker, scrubEvent, scrubText, type CompiledRules } from '../scrub/index.js';

export interface Prepared {
  readonly event: AuditEvent;
  readonly append: AppendOptions;
}

export interface IngestOptions {
  readonly vault: Vault;
  readonly piiPaths: readonly PiiPath[];
  readonly scrub: CompiledRules;
}

interface Placed extends PiiItem {
  readonly at: readonly string[];
}

const MAX_SUBJECT = 256;

function subjectOf(p: PiiPath, input: unknown, value: JsonValue): string {
  const s = p.subject ? getPath(input, p.subject) : value;
  // Trimmed: "gina@x.org " from a form field is the same person as "gina@x.org", and an
  // audit event must not be refused for it. Control and format characters inside are refused.
  // A number only as a safe integer: JSON.parse already rounded a larger one (a 64-bit
  // Snowflake id), so two people would share one rounded id, and neither's own id would
  // reach their data. A fraction is refused for the same reason (its digits may be lost too).
  const id = typeof s === 'string' ? s.trim() : Number.isSafeInteger(s) ? String(s) : '';
  // The same rule as the `pii` field's subject and the /v1/subjects/<id> routes: an id
  // stored here must be one an erasure request can name.
  if (id.length > 0 && id.length <= MAX_SUBJECT && isPrintable(id)) return id;
  const where = p.subject ? p.subject.join('.') : p.text;
  const rule =
    typeof s === 'number'
      ? `a numeric subject id must be an integer of at most ${Number.MAX_SAFE_INTEGER} in magnitude (a larger one was rounded when the JSON was read: send it as a string)`
      : `subject id must be 1-${MAX_SUBJECT} printable characters (no control or format characters, no leading or trailing whitespace)`;
  throw new TlogError('SCHEMA_VIOLATION', `personal-data path ${p.text}: the ${rule.replace('subject id', `subject id at ${where}`)}`, {
    details: { issues: [{ path: where, message: rule }] },
  });
}

/**
 * A value from a configured path, checked like free-form JSON. Its problems
 * are reported at the configured path (`target.email`), never at a place
 * inside the value: the value is personal data, and so may be its keys (an
 * email as an object key).
 */
function checkedValue(p: PiiPath, raw: unknown): JsonValue {
  try {
    return sanitizeJson(raw, MAX_VALUE_DEPTH);
  } catch (e) {
    if (!(e instanceof TlogError)) throw e;
    const path = formatPath(p.path);
    if (e.code === 'NESTING_TOO_DEEP') {
      throw new TlogError('NESTING_TOO_DEEP', `nesting deeper than ${MAX_VALUE_DEPTH} levels at ${path}`, { details: { max_depth: MAX_VALUE_DEPTH, path } });
    }
    if (e.code === 'SCHEMA_VIOLATION') {
      const issues = ((e.details?.issues ?? []) as { path: string; message: string }[]).map((i) => ({ path, message: i.message }));
      throw new TlogError('SCHEMA_VIOLATION', `personal-data path ${p.text}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { details: { issues } });
    }
    throw e;
  }
}

/** Values taken out of a request at configured paths, before validation. */
export type Extracted = readonly Placed[];

/** The `pii` entries of a validated event, in name order. */
function collectPiiField(event: AuditEvent): Placed[] {
  const pii = event.pii;
  if (pii === undefined) return [];
  // Keys sorted in place (insertion sort: an event has a few), then one item each.
  const names = Object.keys(pii);
  for (let i = 1; i < names.length; i++) {
    const k = names[i]!;
    let j = i - 1;
    for (; j >= 0 && names[j]! > k; j--) names[j + 1] = names[j]!;
    names[j + 1] = k;
  }
  const out: Placed[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const entry = pii[name]!;
    const at = ['pii', name];
    out[i] = { name, path: formatPath(at), at, subject: entry.subject, value: entry.value };
  }
  return out;
}

export class Ingest {
  constructor(private readonly opts: IngestOptions) {}

  /** Secrets out of a free-text parameter that will be logged (a purpose, a reason). */
  text(s: string): string {
    return scrubText(s, this.opts.scrub);
  }

  /**
   * Step 1: secrets out of the event and of the moved values, each one
   * recorded as {path, kind} in `scrubbed` (sorted, so the stored bytes do
   * not depend on rule order). A client cannot send `scrubbed` itself: it is
   * not a schema field.
   */
  private scrub(parsed: AuditEvent, moved: Extracted): { event: AuditEvent; extracted: Extracted } {
    const r = scrubEvent(parsed, this.opts.scrub);
    // A personal value's inner paths can be personal data themselves (an email as an
    // object key): `scrubbed` is in the leaf, which erasure cannot touch, so a secret
    // found inside a personal value is reported at the value's own path.
    // (Only when something was found: this runs for every event.)
    const piiRoots = r.scrubbed.length > 0 && parsed.pii ? Object.keys(parsed.pii).map((name) => formatPath(['pii', name, 'value'])) : [];
    const atRoot = (path: string) => piiRoots.find((root) => path === root || path.startsWith(`${root}.`) || path.startsWith(`${root}[`)) ?? path;
    const found: { path: string; kind: string }[] = piiRoots.length === 0 ? [...r.scrubbed] : r.scrubbed.map((s) => ({ path: atRoot(s.path), kind: s.kind }));
    // A moved value is scrubbed where it stood in the request, so the rules that read its key
    // and its parents' keys apply as they would in place (`metadata.auth` is redacted whole).
    const extracted = moved.map((x) => {
      const v = scrubEvent(nested(x.at, x.value), this.opts.scrub);
      for (const s of v.scrubbed) found.push({ path: x.path, kind: s.kind });
      return v.scrubbed.length === 0 ? x : { ...x, value: valueAt(v.event, x.at) };
    });
    if (found.length === 0) return { event: parsed, extracted };
    const seen = new Set<string>();
    const unique = found.filter((f) => !seen.has(`${f.path}\u0000${f.kind}`) && seen.add(`${f.path}\u0000${f.kind}`));
    unique.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
    return { event: { ...(r.event as AuditEvent), scrubbed: unique }, extracted };
  }

  /**
   * Takes the values at configured paths out of a request body (mutating
   * it: it is the request's own parse) before the schema sees it. Subject
   * ids are read first, so a subject path that is itself moved still works.
   * Values are checked like free-form JSON (depth, size).
   */
  extract(input: unknown): Extracted {
    if (this.opts.piiPaths.length === 0 || !isPlainObject(input)) return [];
    for (const p of this.opts.piiPaths) {
      const blocked = blockedAt(input, p.path);
      if (blocked === undefined) continue;
      const where = p.path.slice(0, blocked.depth).join('.');
      const message = `must be an object (it is ${blocked.kind}): the personal-data path ${p.path.join('.')} goes through it`;
      throw new TlogError('SCHEMA_VIOLATION', `${where}: ${message}`, { details: { issues: [{ path: where, message }] } });
    }
    const out: Placed[] = [];
    for (const p of this.opts.piiPaths) {
      const raw = getPath(input, p.path);
      if (raw === undefined || raw === null) continue;
      const value = checkedValue(p, raw);
      if (jsonTextLength(value) > EVENT_LIMITS.freeJson)
        throw new TlogError('SCHEMA_VIOLATION', `personal-data path ${p.text}: the value must be at most ${EVENT_LIMITS.freeJson} characters of JSON text`, {
          details: { issues: [{ path: p.text, message: `at most ${EVENT_LIMITS.freeJson} characters of JSON text` }] },
        });
      out.push({ name: p.text, path: formatPath(p.path), at: p.path, subject: subjectOf(p, input, value), value });
    }
    for (const item of out) deletePath(input, item.at);
    return out;
  }

  async prepare(tenant: string, parsed: AuditEvent, assignedId: boolean, moved: Extracted = []): Promise<Prepared> {
    const { event, extracted } = this.scrub(parsed, moved);
    const items = [...collectPiiField(event), ...extracted];
    if (items.length === 0) return { event, append: { assignedId } };

    const vault = this.opts.vault;
    const subjects = items.map((i) => i.subject);
    const handles = vault.cached(tenant, subjects) ?? (await vault.resolve(tenant, subjects));
    // The stored event; if its references cannot be placed, the values are withdrawn, so the
    // subjects' locks go with them.
    const placed = (values: NonNullable<ReturnType<Vault['stageNow']>>): SealedEvent => {
      try {
        return { event: placeRefs(event, items, values.refs), values };
      } catch (e) {
        values.withdraw();
        throw e;
      }
    };
    // Without a wait (and a promise) when it can: the common case; else after the subjects' locks and checks.
    const seal = (): SealedEvent | Promise<SealedEvent> => {
      const now = vault.stageNow(event.event_id, items, handles);
      return now ? placed(now) : vault.stage(tenant, event.event_id, items, handles).then(placed);
    };
    // A server-assigned event_id cannot be a retry: the log keys idempotency
    // on the stored event (references only) and skips this extra encoding.
    if (assignedId) return { event, append: { assignedId, seal } };
    const mac = createHmac('sha256', Buffer.concat(items.map((i) => handles.get(i.subject)!.key)));
    mac.update('agent-tlog event content v1\u0000');
    mac.update(encodeCanonical(event));
    // Moved values are not in `event`; bind them (and where they came from) too.
    for (const x of extracted) mac.update(encodeCanonical([x.path, x.subject, x.value]));
    return { event, append: { assignedId, contentHash: new Uint8Array(mac.digest()), seal } };
  }
}

/** `value` at `path` in otherwise empty objects. */
function nested(path: readonly string[], value: JsonValue): Record<string, unknown> {
  let v: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const o: Record<string, unknown> = {};
    setOwn(o, path[i]!, v);
    v = o;
  }
  return v as Record<string, unknown>;
}

/**
 * The scrubbed value back from `nested`'s shape. A path segment is a plain
 * field name, which no rule renames; were one renamed, the whole value is
 * withheld rather than kept unscrubbed.
 */
function valueAt(scrubbed: unknown, path: readonly string[]): JsonValue {
  return getPath(scrubbed, path) ?? marker('authorization');
}

/** A copy of `event` with each personal value replaced by its reference. */
function placeRefs(event: AuditEvent, items: readonly Placed[], refs: readonly PiiRef[]): AuditEvent {
  // Copy only the objects on the way to each reference: the rest is shared
  // with `event`, which is never changed.
  const stored = { ...event } as AuditEvent & Record<string, unknown>;
  const copied = new Set<unknown>([stored]);
  items.forEach((item, i) => {
    let v: Record<string, unknown> = stored;
    for (const seg of item.at.slice(0, -1)) {
      const next = v[seg];
      const own = isPlainObject(next) ? (copied.has(next) ? next : { ...next }) : {};
      copied.add(own);
      v[seg] = own;
      v = own as Record<string, unknown>;
    }
    v[item.at[item.at.length - 1]!] = refs[i];
  });
  return stored;
}
