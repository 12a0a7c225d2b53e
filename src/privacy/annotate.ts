/**
 * Reads of stored events show references, never values; a reference whose
 * value was erased is marked, so a reader can tell "erased" from "never
 * disclosed". The leaf bytes are untouched: this is only the JSON view.
 *
 * One form everywhere (GET /v1/entries, queries, run timelines, exports):
 * the reference's own fields in their order, then `erased: true` and
 * `erased_at` (ISO 8601). Decoded records get it from markErased; JSON
 * transcoded from the leaf bytes (query/cbor-json.ts) writes the same bytes
 * from the same RefMark.
 */

import { forEachPiiRef, isPiiRef } from '../events/pii.js';
import { isPlainObject } from '../events/index.js';
import type { RefMark } from '../query/cbor-json.js';
import type { Vault } from '../vault/vault.js';

export type { RefMark };

/** What reads need of the vault: erasure times of many references at once, in one read. */
export type ErasureReader = Pick<Vault, 'erasedTimes'>;

/** The references' [pointer, pseudonym] pairs, looked up together; undefined when none of them was erased. */
export async function lookupMarks(refs: readonly (readonly [string, string])[], vault: ErasureReader): Promise<RefMark | undefined> {
  if (refs.length === 0) return undefined;
  const subjects = new Set<string>();
  const pointers = new Set<string>();
  for (const [p, s] of refs) {
    pointers.add(p);
    subjects.add(s);
  }
  const t = await vault.erasedTimes([...subjects], [...pointers]);
  if (t.subjects.size === 0 && t.values.size === 0) return undefined;
  // Each time's ISO text is made once, however many references share it.
  const iso = new Map<number, string>();
  return (pointer, subject) => {
    const at = t.subjects.get(subject) ?? t.values.get(pointer);
    if (at === undefined) return undefined;
    let s = iso.get(at);
    if (s === undefined) iso.set(at, (s = new Date(at).toISOString()));
    return s;
  };
}

/** A copy of `value` with every reference `mark` knows as erased marked `erased: true, erased_at`. */
export function markErased<T>(value: T, mark: RefMark): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    // fromEntries defines each key as its own property, `__proto__` included.
    const inner = (keep: (k: string) => boolean) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, keep(k) ? x : walk(x)]));
    if (isPiiRef(v)) {
      const at = mark(v.$pii, v.subject);
      // Its other keys are walked like the transcoder walks them (forEachPiiRef says why there can be any).
      const ref = inner((k) => k === '$pii' || k === 'subject' || k === 'commitment');
      return at === undefined ? ref : { ...ref, erased: true, erased_at: at };
    }
    return inner(() => false);
  };
  return walk(value) as T;
}

/** `value` with every erased reference marked (one vault read for all of them). */
export async function annotateErasures<T>(value: T, vault: ErasureReader): Promise<T> {
  const refs: [string, string][] = [];
  forEachPiiRef(value, (r) => refs.push([r.$pii, r.subject]));
  const mark = await lookupMarks(refs, vault);
  return mark === undefined ? value : markErased(value, mark);
}
