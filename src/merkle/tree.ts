/**
 * Tree shape: complete subtrees ("nodes"), range decomposition and roots.
 *
 * A NodeId {level, index} names the complete subtree over leaves
 * [index·2^level, (index+1)·2^level). Every hash the log stores is such a node;
 * everything else (roots, right-edge proof elements) is folded from them.
 */

import type { Hasher } from './hasher.js';
import { pow2 } from './math.js';

export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * Splits [begin, end) into maximal aligned complete subtrees, left to right.
 * For the ranges RFC 6962 proofs use ([k·2^h, min((k+1)·2^h, n))) the sizes
 * strictly decrease, so MTH of the range is `foldNodes` of their hashes.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  while (begin < end) {
    let level = 0;
    // Grow while begin stays aligned and the subtree still fits.
    while (begin % pow2(level + 1) === 0 && begin + pow2(level + 1) <= end) level++;
    out.push({ level, index: begin / pow2(level) });
    begin += pow2(level);
  }
  return out;
}

/**
 * MTH of a range from the hashes of its decomposition (decreasing sizes):
 * RFC 6962 always splits at the largest power of two, so the leftmost
 * subtree joins the hash of everything to its right.
 */
export function foldNodes(hasher: Hasher, hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return hasher.emptyRoot();
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hasher.hashChildren(hashes[i]!, acc);
  return acc;
}

/**
 * MTH over a list of leaf hashes with the RFC 9162 §2.1.2 stack: the stack is
 * the compact range of the prefix seen so far.
 */
export function rootFromLeafHashes(hasher: Hasher, leafHashes: readonly Uint8Array[]): Uint8Array {
  const stack: Uint8Array[] = [];
  for (let i = 0; i < leafHashes.length; i++) {
    stack.push(leafHashes[i]!);
    // After leaf i, merge once per trailing one bit of i.
    for (let j = i; j % 2 === 1; j = (j - 1) / 2) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      stack.push(hasher.hashChildren(left, right));
    }
  }
  return foldNodes(hasher, stack);
}

/**
 * Root of a perfect subtree whose 2^r bottom hashes are `hashes[start ..
 * start+count)` (count a power of two). Used to turn tile hashes into the
 * node hashes of tree levels between two tile levels.
 */
export function perfectRoot(hasher: Hasher, hashes: readonly Uint8Array[], start: number, count: number): Uint8Array {
  if (count === 1) return hashes[start]!;
  let layer: Uint8Array[] = hashes.slice(start, start + count);
  while (layer.length > 1) {
    const next: Uint8Array[] = new Array(layer.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hasher.hashChildren(layer[2 * i]!, layer[2 * i + 1]!);
    layer = next;
  }
  return layer[0]!;
}
