/**
 * Operator-configured personal-data paths: fields outside `pii` whose
 * values are moved to the vault automatically — taken out of the request
 * before the schema sees it, so a path may name a field the schema does not
 * know (`target.email`) — e.g.
 * `metadata.customer.email@metadata.customer.id` (the value at the first
 * path, filed under the subject id found at the second). Without `@…` the
 * value itself names the subject (an email address, a phone number).
 *
 * Paths are dotted object keys (no array indexes): a path that meets an
 * array or another non-object before its end refuses the event (blockedAt).
 * A required field
 * (actor.type, actor.id, action.type) cannot be moved: the event would no
 * longer validate.
 */

import { isPlainObject, type JsonValue } from '../events/index.js';

export interface PiiPath {
  readonly path: readonly string[];
  /** Where the subject id is; absent: the value is its own subject. */
  readonly subject?: readonly string[];
  /** The text form, used as the value's name in the vault. */
  readonly text: string;
}

const SEGMENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

function parseDotted(s: string, whole: string): string[] {
  const segs = s.split('.');
  if (segs.length === 0 || segs.some((x) => !SEGMENT.test(x))) throw new Error(`invalid personal-data path "${whole}": use dotted field names, e.g. metadata.customer.email`);
  const joined = segs.join('.');
  if (segs[0] === 'pii' || segs[0] === 'event_id' || ['actor', 'action', 'actor.type', 'actor.id', 'action.type'].includes(joined))
    throw new Error(`invalid personal-data path "${whole}": ${joined} cannot be moved`);
  return segs;
}

/** `inner` is `outer` or lies below it. */
const within = (inner: readonly string[], outer: readonly string[]) => inner.length >= outer.length && outer.every((seg, i) => inner[i] === seg);

/**
 * Parses `TLOG_PII_PATHS`: comma-separated `path` or `path@subjectPath`.
 * A subject path is itself personal data (it names the person), so it is
 * moved too, as its own value: the subject id never reaches the leaf.
 *
 * Invariant: no moved path lies inside another. Each reference is put back
 * at its path in the stored event, so a second one inside the first would
 * be written into the first reference (an extra key, or its `subject`
 * replaced by an object, which then no longer reads as a reference).
 * Listed paths that nest are refused; a subject path inside a listed path
 * (`metadata.customer@metadata.customer.id`) moves with that value and is
 * not moved again.
 */
export function parsePiiPaths(text: string): PiiPath[] {
  const listed = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const [p, subj, extra] = t.split('@');
      if (extra !== undefined) throw new Error(`invalid personal-data path "${t}": at most one "@"`);
      return { path: parseDotted(p!, t), ...(subj !== undefined ? { subject: parseDotted(subj, t) } : {}), text: p! };
    });
  for (const p of listed)
    for (const q of listed)
      if (p !== q && within(q.path, p.path))
        throw new Error(`invalid personal-data paths: ${q.text} ${q.text === p.text ? 'is listed twice' : `lies inside ${p.text}, which is moved whole`}`);
  const out = [...listed];
  for (const p of listed) {
    const s = p.subject;
    if (!s || out.some((q) => within(s, q.path))) continue;
    // A subject id is text or a number: a listed path below it could never hold a value.
    const below = listed.find((q) => within(q.path, s));
    if (below) throw new Error(`invalid personal-data paths: ${below.text} lies inside the subject path ${s.join('.')}, which holds an id`);
    out.push({ path: s, text: s.join('.') });
  }
  return out;
}

/**
 * Where a configured path cannot be followed: the first segment holding
 * something other than an object (an array, a string, a number, a boolean)
 * with the path going on below it, or undefined. `null` there reads as
 * absent. Such a path is not skipped as absent: the value it was meant to
 * find may be inside (`customer: [{phone}]`), and skipping would leave it in
 * the leaf, which erasure cannot reach.
 */
export function blockedAt(root: unknown, path: readonly string[]): { depth: number; kind: string } | undefined {
  let v: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (v === null || v === undefined) return undefined;
    if (!isPlainObject(v)) return i === 0 ? undefined : { depth: i, kind: Array.isArray(v) ? 'an array' : `a ${typeof v}` };
    if (!Object.prototype.hasOwnProperty.call(v, path[i]!)) return undefined;
    v = v[path[i]!];
  }
  return undefined;
}

export function getPath(root: unknown, path: readonly string[]): JsonValue | undefined {
  let v: unknown = root;
  for (const seg of path) {
    if (!isPlainObject(v) || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = v[seg];
  }
  return v as JsonValue;
}

/** Removes the value at `path` (an own property), if there is one. */
export function deletePath(root: unknown, path: readonly string[]): void {
  let v: unknown = root;
  for (const seg of path.slice(0, -1)) {
    if (!isPlainObject(v) || !Object.prototype.hasOwnProperty.call(v, seg)) return;
    v = v[seg];
  }
  if (isPlainObject(v)) delete v[path[path.length - 1]!];
}
