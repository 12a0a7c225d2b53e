/**
 * The ingest pipeline between validation and the log: every event passes
 * here after parseEvent and before anything is stored.
 *
 *   1. secrets are scrubbed (src/scrub/) — before the vault, the leaf, a log
 *      line or an error message can see them;
 *   2. personal values (`pii`, configured paths) are collected; when there
 *      are any, the log gets a `seal` step that writes them to the vault and
 *      puts {$pii, subject, commitment} references in their place.
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
import type { AppendOptions } from '../log/log.js';
import type { PiiItem, Vault } from '../vault/vault.js';
import { getPath, setPath, type PiiPath } from './pii-paths.js';
import { TlogError } from '../errors.js';

export interface Prepared {
  readonly event: AuditEvent;
  readonly append: AppendOptions;
}

export interface IngestOptions {
  readonly vault: Vault;
  readonly piiPaths: readonly PiiPath[];
}

interface Placed extends PiiItem {
  readonly at: readonly string[];
}

function subjectOf(p: PiiPath, event: AuditEvent, value: JsonValue): string {
  const s = p.subject ? getPath(event, p.subject) : value;
  if (typeof s === 'string' && s.length > 0) return s;
  if (typeof s === 'number' && Number.isFinite(s)) return String(s);
  throw new TlogError('SCHEMA_VIOLATION', `personal-data path ${p.text}: the subject id must be a non-empty string`, {
    details: { issues: [{ path: p.subject ? p.subject.join('.') : p.text, message: 'subject id must be a non-empty string' }] },
  });
}

/** The event's personal values, in a fixed order (pii names, then configured paths). */
export function collectPii(event: AuditEvent, paths: readonly PiiPath[]): Placed[] {
  const out: Placed[] = [];
  for (const [name, entry] of Object.entries(event.pii ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.push({ name, path: formatPath(['pii', name]), at: ['pii', name], subject: entry.subject, value: entry.value });
  }
  for (const p of paths) {
    const value = getPath(event, p.path);
    if (value === undefined || value === null) continue;
    out.push({ name: p.text, path: formatPath(p.path), at: p.path, subject: subjectOf(p, event, value), value });
  }
  return out;
}

export class Ingest {
  constructor(private readonly opts: IngestOptions) {}

  async prepare(tenant: string, event: AuditEvent, assignedId: boolean): Promise<Prepared> {
    const items = collectPii(event, this.opts.piiPaths);
    if (items.length === 0) return { event, append: { assignedId } };

    const vault = this.opts.vault;
    const handles = await vault.resolve(
      tenant,
      items.map((i) => i.subject),
    );
    const mac = createHmac('sha256', Buffer.concat(items.map((i) => handles.get(i.subject)!.key)));
    mac.update('agent-tlog event content v1\u0000');
    mac.update(encodeCanonical(event));
    const contentHash = new Uint8Array(mac.digest());

    const seal = async (): Promise<AuditEvent> => {
      const refs = await vault.seal(tenant, event.event_id, items, handles);
      return placeRefs(event, items, refs);
    };
    return { event, append: { assignedId, contentHash, seal } };
  }
}

/** A copy of `event` with each personal value replaced by its reference. */
function placeRefs(event: AuditEvent, items: readonly Placed[], refs: readonly PiiRef[]): AuditEvent {
  const stored = structuredClone(event) as AuditEvent & Record<string, unknown>;
  items.forEach((item, i) => setPath(stored, item.at, refs[i]));
  return stored;
}
