/**
 * Personal-data references in a leaf's CBOR, found without decoding it:
 * a page or an export chunk must learn which pointers and pseudonyms its
 * leaves name (to look their erasure up in one vault read) before it
 * transcodes them (cbor-json.ts), and most leaves name none.
 *
 * Reads the subset cbor-json.ts reads; anything else answers false, and the
 * caller walks the decoded record instead.
 */

import { MAX_CBOR_DEPTH } from '../events/limits.js';

const indexOf = Buffer.prototype.indexOf;

/**
 * False when the leaf cannot hold a reference: no CBOR text "$pii" (head
 * 0x64, then its four bytes) in it at all. Searched as its rarest byte, `$`,
 * with a native memchr (~25 ns for a 700-byte leaf; the five-byte search
 * took ~125), so leaves without personal data (most) cost next to nothing.
 * True may be a false alarm ("$pii" as a value, or ending "…d$pii…" in a
 * longer text): eachRef then finds nothing.
 */
export function mayHoldRef(leaf: Uint8Array): boolean {
  for (let i = indexOf.call(leaf, 0x24, 1); i !== -1; i = indexOf.call(leaf, 0x24, i + 1))
    if (leaf[i - 1] === 0x64 && leaf[i + 1] === 0x70 && leaf[i + 2] === 0x69 && leaf[i + 3] === 0x69) return true;
  return false;
}

class Bail extends Error {}
const BAIL = new Bail();
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Calls `visit(pointer, pseudonym)` for every map in `cbor` with text
 * values at `$pii`, `subject` and `commitment` (the maps cbor-json.ts
 * marks). Returns false, maybe having visited some, for CBOR outside the
 * transcoder's subset.
 */
export function eachRef(cbor: Uint8Array, visit: (pointer: string, subject: string) => void): boolean {
  let p = 0;
  const arg = (ai: number): number => {
    if (ai < 24) return ai;
    const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
    if (n === 0 || p + n > cbor.length) throw BAIL;
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + cbor[p + k]!;
    p += n;
    if (!Number.isSafeInteger(v)) throw BAIL;
    return v;
  };
  /** A text item's bytes as [start, end), or undefined (and nothing read) for another item. */
  const textAt = (): [number, number] | undefined => {
    if (p >= cbor.length || cbor[p]! >> 5 !== 3) return undefined;
    const head = cbor[p++]!;
    const len = arg(head & 31);
    if (p + len > cbor.length) throw BAIL;
    p += len;
    return [p - len, p];
  };
  const keyIs = (k: [number, number], s: string): boolean => {
    if (k[1] - k[0] !== s.length) return false;
    for (let i = 0; i < s.length; i++) if (cbor[k[0] + i] !== s.charCodeAt(i)) return false;
    return true;
  };
  const item = (depth: number): void => {
    if (p >= cbor.length) throw BAIL;
    const ib = cbor[p]!;
    const major = ib >> 5;
    if (major === 3) {
      textAt();
      return;
    }
    p++;
    const ai = ib & 31;
    switch (major) {
      case 0:
      case 1:
        arg(ai);
        return;
      case 4: {
        if (depth >= MAX_CBOR_DEPTH) throw BAIL;
        const n = arg(ai);
        for (let i = 0; i < n; i++) item(depth + 1);
        return;
      }
      case 5: {
        if (depth >= MAX_CBOR_DEPTH) throw BAIL;
        const n = arg(ai);
        let pointer: [number, number] | undefined;
        let subject: [number, number] | undefined;
        let commitment = false;
        for (let i = 0; i < n; i++) {
          const k = textAt();
          if (k === undefined) throw BAIL; // text keys only
          const v = textAt();
          if (v === undefined) item(depth + 1);
          else if (keyIs(k, '$pii')) pointer = v;
          else if (keyIs(k, 'subject')) subject = v;
          else if (keyIs(k, 'commitment')) commitment = true;
        }
        if (pointer && subject && commitment) visit(utf8.decode(cbor.subarray(pointer[0], pointer[1])), utf8.decode(cbor.subarray(subject[0], subject[1])));
        return;
      }
      case 7:
        if (ib === 0xf4 || ib === 0xf5 || ib === 0xf6) return;
        if (ib === 0xfb && p + 8 <= cbor.length) {
          p += 8;
          return;
        }
        throw BAIL;
      default:
        throw BAIL;
    }
  };
  try {
    item(0);
    return p === cbor.length;
  } catch (e) {
    if (e !== BAIL) throw e;
    return false;
  }
}
