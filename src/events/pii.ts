/**
 * Personal-data references: what the leaf holds in place of a personal
 * value, and the commitment that lets a disclosed value be checked against
 * the leaf. Pure (the hash is injected), shared by the server and the
 * verifier. Formats: spec/privacy.md.
 */

import { concatBytes } from '../bytes/index.js';
import { encodeCanonical } from './cbor.js';
import { isPlainObject, type JsonValue } from './json.js';

/** The object a personal value is replaced by in the stored event. */
export interface PiiRef {
  /** Opaque random pointer into the vault: `pii_` + 22 base64url characters. */
  $pii: string;
  /** The subject's pseudonym: random, kept only in the vault; `ps_` + 22 base64url characters. */
  subject: string;
  /** base64 SHA-256(salt ‖ canonical CBOR of the value). */
  commitment: string;
}

export const SALT_BYTES = 32;

/** SHA-256(salt ‖ canonical CBOR(value)): binds the leaf to one value without revealing it. */
export function piiCommitment(sha256: (b: Uint8Array) => Uint8Array, salt: Uint8Array, value: JsonValue): Uint8Array {
  if (salt.length !== SALT_BYTES) throw new RangeError(`expected a ${SALT_BYTES}-byte salt, got length=${salt.length}`);
  return sha256(concatBytes(salt, encodeCanonical(value)));
}

export function isPiiRef(v: unknown): v is PiiRef {
  return isPlainObject(v) && typeof v.$pii === 'string' && typeof v.subject === 'string' && typeof v.commitment === 'string';
}

/** Calls `visit` for every reference in a stored event (any depth), with its path segments. */
export function forEachPiiRef(value: unknown, visit: (ref: PiiRef) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (isPlainObject(v)) {
      if (isPiiRef(v)) {
        visit(v);
        // A reference's other keys are walked too: leaves written while nested configured
        // paths were allowed can hold a reference inside one (pii-paths.ts).
        for (const [k, x] of Object.entries(v)) if (k !== '$pii' && k !== 'subject' && k !== 'commitment') stack.push(x);
      } else stack.push(...Object.values(v));
    }
  }
}
