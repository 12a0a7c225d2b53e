/**
 * LevelDB key layout of the vault database (`<data>/vault`), separate from
 * the log's. spec/privacy.md is the contract.
 *
 * Invariant: no key holds personal data. Subjects are keyed by their tag,
 * HMAC-SHA-256(master key, tenant ‖ 0x00 ‖ subject id); pointers and
 * pseudonyms are random. So LevelDB metadata that outlives a deletion
 * until the next manifest (smallest/largest keys of table files) never
 * names a person, and erasure only has to purge values.
 *
 *   'v' tag(32)                 → subject: pseudonym, wrapped key, hold (binary, records.ts)
 *   'v' tag(32) id              → the values of one event about the subject: pointers, event_id,
 *                                 times, one seal of their {salt, value}s (value-record.ts);
 *                                 id = the first value's pointer
 *   'p' pseudonym               → tag (the pseudonym mapping)
 *   'r' u64(bucket_end) tag     → empty: the subject has values expiring in the hour that ends
 *                                 at bucket_end (retention order; written once per subject and
 *                                 hour, not per record: see RETENTION_BUCKET_MS)
 *   'r' u64(expires_at) tag id  → the record's pointers (the retention key of one record, as
 *                                 vaults written before the buckets have them; still read)
 *   't' tag(32)                 → tombstone: the erasure event (idempotent erasure)
 *   'z' pseudonym               → erased_at, and the subject's tag (hex): reads annotate erased
 *                                 subjects, and a later hold on the subject still covers the
 *                                 entries that name this pseudonym (the tombstone links the two too)
 *   'y' pointer                 → erased_at (a single value erased by retention)
 *   'h' tenant 0x00 run_id      → legal hold on a run (no personal data: run ids are operational)
 *   'u' tag(32)                 → 8 random bytes: an erasure of this subject is shredded and not yet
 *                                 purged (written with the shred, deleted after the compaction;
 *                                 start-up and a repeated erasure finish what a crash cut off)
 *   'g' tag(32)                 → {since, reason}: a legal hold placed on a subject after its erasure
 *                                 (its entries still name its old pseudonyms; 'z' maps them to the tag)
 *   'o' event_id                → {tenant, event}: a system event whose change is in the vault and
 *                                 that is not yet known to be logged (a partial retention erasure, a
 *                                 hold set or lifted): written in the change's batch, deleted once
 *                                 the event is in the log; start-up and later changes re-log it
 * A subject's record and its value records share the prefix 'v' ‖ tag (the
 * subject record sorts first: its key is the prefix itself), so erasure
 * purges one contiguous range with one compaction.
 */

import { concatBytes, utf8 } from '../bytes/index.js';
import { keyBytes } from '../storage/key-bytes.js';
import { writeU64 } from '../storage/layout.js';

export const VP = {
  /** A subject's record ('v' ‖ tag) and its value records ('v' ‖ tag ‖ id). */
  value: 0x76, // 'v'
  pseudonym: 0x70, // 'p'
  retention: 0x72, // 'r'
  tombstone: 0x74, // 't'
  erasedSubject: 0x7a, // 'z'
  erasedValue: 0x79, // 'y'
  runHold: 0x68, // 'h'
  purgePending: 0x75, // 'u'
  outbox: 0x6f, // 'o'
  erasedHold: 0x67, // 'g'
} as const;

/** A subject tag: HMAC-SHA-256. */
const TAG_BYTES = 32;
const one = (p: number) => new Uint8Array([p]);

export const subjectKey = (tag: Uint8Array) => concatBytes(one(VP.value), tag);
/** An erasure of the subject `tag` waits for its purge (the compaction that drops the shredded bytes). */
export const purgePendingKey = (tag: Uint8Array) => concatBytes(one(VP.purgePending), tag);
/** The tag of a purge-pending key. */
export const tagOfPurgePending = (key: Uint8Array): Uint8Array => key.slice(1);
/** `p` ‖ tag ‖ `rest`, in one off-heap allocation (these keys are built per event on the append path: key-bytes.ts). */
function tagged(p: number, tag: Uint8Array, rest: Uint8Array): Uint8Array {
  const k = keyBytes(1 + tag.length + rest.length);
  k[0] = p;
  k.set(tag, 1);
  k.set(rest, 1 + tag.length);
  return k;
}
/** A record id (a pointer) as key bytes; ids are ASCII. */
export const idBytes = (id: string | Uint8Array): Uint8Array => (typeof id === 'string' ? utf8(id) : id);
/** The value record `id` of a subject. */
export const recordKey = (tag: Uint8Array, id: string | Uint8Array) => tagged(VP.value, tag, idBytes(id));
/** The id in a value record's key (what follows 'v' ‖ tag). */
export const recordIdOf = (key: Uint8Array): Uint8Array => key.subarray(1 + TAG_BYTES);
/** One subject's value records, without its subject record (which is the range's own prefix). */
export function valueRange(tag: Uint8Array): { gt: Uint8Array; lt: Uint8Array } {
  return { gt: concatBytes(one(VP.value), tag), lt: concatBytes(one(VP.value), tag, new Uint8Array([0xff])) };
}
/** [start, end) of everything of one subject: its record and its values (what erasure purges). */
export function subjectRange(tag: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: concatBytes(one(VP.value), tag), lt: concatBytes(one(VP.value), tag, new Uint8Array([0xff])) };
}
export const pseudonymKey = (pseudonym: string) => concatBytes(one(VP.pseudonym), utf8(pseudonym));
export const tombstoneKey = (tag: Uint8Array) => concatBytes(one(VP.tombstone), tag);
/** A legal hold on an erased subject (by tag: it covers every pseudonym the subject had). */
export const erasedHoldKey = (tag: Uint8Array) => concatBytes(one(VP.erasedHold), tag);
/** A system event waiting to be logged (the vault's outbox), by its event_id. */
export const outboxKey = (eventId: string) => concatBytes(one(VP.outbox), utf8(eventId));
export const erasedSubjectKey = (pseudonym: string) => concatBytes(one(VP.erasedSubject), utf8(pseudonym));
export const erasedValueKey = (pointer: string) => concatBytes(one(VP.erasedValue), utf8(pointer));

export const runHoldKey = (tenant: string, runId: string) => concatBytes(one(VP.runHold), utf8(tenant), new Uint8Array([0]), utf8(runId));

/**
 * Retention buckets. The sweep must find the subjects that hold expired
 * values without scanning every subject; it reads each one's records to
 * decide which values expired (their expires_at). So the index needs only
 * (hour, subject), written with the first values of a subject that expire
 * in that hour: one put per subject and hour instead of one per record.
 */
export const RETENTION_BUCKET_MS = 3_600_000;
/** The end of the bucket of a value expiring at `expiresAt`: the bucket is (end − 1 h, end]. */
export const bucketEnd = (expiresAt: number): number => Math.ceil(expiresAt / RETENTION_BUCKET_MS) * RETENTION_BUCKET_MS;
/** `r` ‖ u64(bucket end) ‖ tag. */
export function retentionBucketKey(end: number, tag: Uint8Array): Uint8Array {
  const k = keyBytes(9 + tag.length);
  k[0] = VP.retention;
  writeU64(k, 1, end);
  k.set(tag, 9);
  return k;
}

/** One value record's place in retention order (vaults written before the buckets). */
export function retentionKey(expiresAt: number, tag: Uint8Array, id: string | Uint8Array): Uint8Array {
  const p = idBytes(id);
  const k = keyBytes(9 + tag.length + p.length);
  k[0] = VP.retention;
  writeU64(k, 1, expiresAt);
  k.set(tag, 9);
  k.set(p, 9 + tag.length);
  return k;
}
/**
 * Retention keys that can concern values expired at `now`: buckets that
 * began before it (end < now + 1 h) and per-record keys up to then (the
 * caller skips those expiring after `now`).
 */
export function expiredRange(now: number): { gte: Uint8Array; lt: Uint8Array } {
  const t = new Uint8Array(8);
  writeU64(t, 0, now + RETENTION_BUCKET_MS);
  return { gte: one(VP.retention), lt: concatBytes(one(VP.retention), t) };
}
export type RetentionKey = { kind: 'bucket'; at: number; tag: Uint8Array } | { kind: 'record'; at: number; tag: Uint8Array; id: string };
/** A bucket key (at = its end) or a per-record key (at = the record's expires_at). */
export function parseRetentionKey(k: Uint8Array): RetentionKey {
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  const at = dv.getUint32(1) * 0x1_0000_0000 + dv.getUint32(5);
  const tag = k.slice(9, 9 + TAG_BYTES);
  if (k.length === 9 + TAG_BYTES) return { kind: 'bucket', at, tag };
  return { kind: 'record', at, tag, id: new TextDecoder().decode(k.subarray(9 + TAG_BYTES)) };
}
export function prefixRange(p: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: one(p), lt: one(p + 1) };
}
