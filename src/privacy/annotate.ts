/**
 * Reads of stored events show references, never values; a reference whose
 * value was erased is marked, so a reader can tell "erased" from "never
 * disclosed". The leaf bytes are untouched: this is only the JSON view.
 */

import { isPiiRef, type PiiRef } from '../events/pii.js';
import { isPlainObject } from '../events/index.js';
import type { Vault } from '../vault/vault.js';

export type AnnotatedRef = PiiRef & { erased?: true; erased_at?: string };

/** A copy of `value` with every erased reference marked `erased: true, erased_at`. */
export async function annotateErasures<T>(value: T, vault: Vault): Promise<T> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (!isPlainObject(v)) return v;
    if (isPiiRef(v)) {
      const at = await vault.erasedAt(v);
      return at === undefined ? v : { ...v, erased: true, erased_at: new Date(at).toISOString() };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await walk(x);
    return out;
  };
  return (await walk(value)) as T;
}
