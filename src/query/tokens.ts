/**
 * Free-text tokens for `q`. A token is a maximal run of Unicode letters and
 * digits, lower-cased (NFKC first, so full-width and compatibility forms
 * match their plain spelling), cut to MAX_TOKEN characters. An entry keeps
 * its first MAX_TOKENS distinct tokens: the cap bounds the index cost of one
 * append, and the matcher applies the same cap, so `q` is exact with respect
 * to this definition.
 */

export const MAX_TOKEN = 64;
export const MAX_TOKENS = 256;
const WORD = /[\p{L}\p{N}]+/gu;
const ASCII_WORD = /[a-z0-9]+/g;
const ASCII = /^[\x00-\x7f]*$/;

export function tokenize(texts: readonly (string | undefined)[], max = MAX_TOKENS): string[] {
  const out = new Set<string>();
  for (const t of texts) {
    if (t === undefined) continue;
    // ASCII text is its own NFKC form and its letters are [a-z] once lowered: same tokens, far cheaper.
    const ascii = ASCII.test(t);
    for (const m of ascii ? t.toLowerCase().matchAll(ASCII_WORD) : t.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      out.add(m[0].length > MAX_TOKEN ? m[0].slice(0, MAX_TOKEN) : m[0]);
      if (out.size >= max) return [...out];
    }
  }
  return [...out];
}
