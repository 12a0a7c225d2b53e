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
 *   'v' tag(32)                     → subject: pseudonym, wrapped key, hold (binary, records.ts)
 *   'v' tag(32) pointer             → value: sealed {value, salt}, commitment, event_id, times (binary)
 *   'p' pseudonym                   → tag (the pseudonym mapping)
 *   'r' u64(expires_at) tag pointer → '' (retention order)
 *   't' tag(32)                     → tombstone: the erasure event (idempotent erasure)
 *   'z' pseudonym                   → erased_at (reads annotate erased subjects)
 *   'y' pointer                     → erased_at (a single value erased by retention)
 *   'h' tenant 0x00 run_id          → legal hold on a run (no personal data: run ids are operational)
 * A subject's record and its values share the prefix 'v' ‖ tag (the record
 * sorts first: its key is the prefix itself), so erasure purges one
 * contiguous range with one compaction.
 */

import { concatBytes, utf8 } from '../bytes/index.js';
import { writeU64 } from '../storage/layout.js';

export const VP = {
  /** A subject's record ('v' ‖ tag) and its values ('v' ‖ tag ‖ pointer). */
  value: 0x76, // 'v'
  pseudonym: 0x70, // 'p'
  retention: 0x72, // 'r'
  tombstone: 0x74, // 't'
  erasedSubject: 0x7a, // 'z'
  erasedValue: 0x79, // 'y'
  runHold: 0x68, // 'h'
} as const;

const one = (p: number) => new Uint8Array([p]);

export const subjectKey = (tag: Uint8Array) => concatBytes(one(VP.value), tag);
/** `p` ‖ tag ‖ `rest`, in one allocation (these keys are built per value on the append path). */
function tagged(p: number, tag: Uint8Array, rest: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + tag.length + rest.length);
  k[0] = p;
  k.set(tag, 1);
  k.set(rest, 1 + tag.length);
  return k;
}
/** The pointer as key bytes: pointers are ASCII, so no TextEncoder is needed for them. */
export const pointerBytes = (pointer: string | Uint8Array): Uint8Array => (typeof pointer === 'string' ? utf8(pointer) : pointer);
export const valueKey = (tag: Uint8Array, pointer: string | Uint8Array) => tagged(VP.value, tag, pointerBytes(pointer));
/** One subject's values, without its record (which is the range's own prefix). */
export function valueRange(tag: Uint8Array): { gt: Uint8Array; lt: Uint8Array } {
  return { gt: concatBytes(one(VP.value), tag), lt: concatBytes(one(VP.value), tag, new Uint8Array([0xff])) };
}
/** [start, end) of everything of one subject: its record and its values (what erasure purges). */
export function subjectRange(tag: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: concatBytes(one(VP.value), tag), lt: concatBytes(one(VP.value), tag, new Uint8Array([0xff])) };
}
export const pseudonymKey = (pseudonym: string) => concatBytes(one(VP.pseudonym), utf8(pseudonym));
export const tombstoneKey = (tag: Uint8Array) => concatBytes(one(VP.tombstone), tag);
export const erasedSubjectKey = (pseudonym: string) => concatBytes(one(VP.erasedSubject), utf8(pseudonym));
export const erasedValueKey = (pointer: string) => concatBytes(one(VP.erasedValue), utf8(pointer));

export const runHoldKey = (tenant: string, runId: string) => concatBytes(one(VP.runHold), utf8(tenant), new Uint8Array([0]), utf8(runId));

export function retentionKey(expiresAt: number, tag: Uint8Array, pointer: string | Uint8Array): Uint8Array {
  const p = pointerBytes(pointer);
  const k = new Uint8Array(9 + tag.length + p.length);
  k[0] = VP.retention;
  writeU64(k, 1, expiresAt);
  k.set(tag, 9);
  k.set(p, 9 + tag.length);
  return k;
}
/** Retention keys of everything expiring at or before `now`. */
export function expiredRange(now: number): { gte: Uint8Array; lt: Uint8Array } {
  const t = new Uint8Array(8);
  writeU64(t, 0, now + 1);
  return { gte: one(VP.retention), lt: concatBytes(one(VP.retention), t) };
}
export function parseRetentionKey(k: Uint8Array): { expiresAt: number; tag: Uint8Array; pointer: string } {
  const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
  return {
    expiresAt: dv.getUint32(1) * 0x1_0000_0000 + dv.getUint32(5),
    tag: k.slice(9, 41),
    pointer: new TextDecoder().decode(k.subarray(41)),
  };
}
export function prefixRange(p: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: one(p), lt: one(p + 1) };
}
