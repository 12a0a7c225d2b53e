/**
 * Map key order for deterministic CBOR (RFC 8949 §4.2.1): keys sorted by the
 * bytes of their encoding. For text keys the encoding is a head that grows
 * with the UTF-8 length, then the UTF-8 bytes, so the order is:
 *   1. shorter UTF-8 byte length first;
 *   2. equal lengths: bytewise, which for UTF-8 is Unicode code point order.
 *
 * This is NOT JavaScript's default string order: `<` compares UTF-16 code
 * units, which puts a non-BMP character (surrogates D800–DFFF) before
 * U+E000–U+FFFF, while UTF-8 bytes put it after. And JavaScript objects
 * iterate integer-like keys ("10", "9") before all others, so sorted order
 * can only be kept in a Map or an array, never in a plain object.
 */

/** UTF-8 byte length of a well-formed string, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2; // a pair: 2 UTF-16 units (already counted) → 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Re-orders UTF-16 units so that comparing them gives code point order. */
function codePointRank(c: number): number {
  if (c < 0xd800) return c;
  // E000–FFFF move down below the surrogates; surrogates (non-BMP) go to the top.
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/** Code point comparison of two strings with equal UTF-8 length. */
function compareSameLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Compares two text keys in deterministic-CBOR order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const la = utf8Length(a);
  const lb = utf8Length(b);
  return la !== lb ? la - lb : compareSameLength(a, b);
}

/** Objects up to this many keys use insertion sort (no allocation, fastest for event-sized objects). */
const INSERTION_SORT_MAX = 16;

/**
 * Sorts `keys` in place into deterministic-CBOR order and returns it.
 * Computes each key's UTF-8 length once instead of once per comparison;
 * this is the encoder's hot path (about half the cost of encoding an event
 * when the comparator recomputes lengths).
 */
export function sortKeys(keys: string[]): string[] {
  const n = keys.length;
  if (n < 2) return keys;
  if (n > INSERTION_SORT_MAX) {
    const decorated = keys.map((k) => ({ k, len: utf8Length(k) }));
    decorated.sort((a, b) => (a.len !== b.len ? a.len - b.len : compareSameLength(a.k, b.k)));
    for (let i = 0; i < n; i++) keys[i] = decorated[i]!.k;
    return keys;
  }
  const lens = new Array<number>(n);
  for (let i = 0; i < n; i++) lens[i] = utf8Length(keys[i]!);
  for (let i = 1; i < n; i++) {
    const k = keys[i]!;
    const len = lens[i]!;
    let j = i - 1;
    for (; j >= 0; j--) {
      const lj = lens[j]!;
      if ((lj !== len ? lj - len : compareSameLength(keys[j]!, k)) <= 0) break;
      keys[j + 1] = keys[j]!;
      lens[j + 1] = lj;
    }
    keys[j + 1] = k;
    lens[j + 1] = len;
  }
  return keys;
}
