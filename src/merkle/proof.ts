/**
 * Proof generation (RFC 6962 §2.1.1 PATH, §2.1.2 PROOF) as *plans*: each
 * proof element is the MTH of one range, given as the complete-subtree nodes
 * that fold into it. Storage fetches the node hashes (from tiles, possibly
 * async), then `proofFromPlan` folds them. This keeps the algorithm pure and
 * lets the caller batch its reads.
 */

import type { Hasher } from './hasher.js';
import { assertIndex, splitPoint } from './math.js';
import { foldNodes, rangeNodes, type NodeId } from './tree.js';

/** One element per proof hash, in wire order (leaf side first). */
export type ProofPlan = NodeId[][];

/**
 * PATH(index, D[0:size]): the audit path from the leaf's sibling up to the
 * child of the root.
 * @throws RangeError if index ≥ size.
 */
export function inclusionProofPlan(index: number, size: number): ProofPlan {
  assertIndex(index, 'index');
  assertIndex(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is not below tree size ${size}`);
  const topDown: NodeId[][] = [];
  let a = 0;
  let b = size;
  while (b - a > 1) {
    const k = splitPoint(b - a);
    if (index < a + k) {
      topDown.push(rangeNodes(a + k, b)); // PATH(m, D[a:a+k]) ‖ MTH(D[a+k:b])
      b = a + k;
    } else {
      topDown.push(rangeNodes(a, a + k)); // PATH(m-k, D[a+k:b]) ‖ MTH(D[a:a+k])
      a = a + k;
    }
  }
  return topDown.reverse();
}

/**
 * PROOF(oldSize, D[0:newSize]) for 0 < oldSize < newSize; empty when
 * oldSize is 0 or equal to newSize (nothing to prove).
 * @throws RangeError if oldSize > newSize.
 */
export function consistencyProofPlan(oldSize: number, newSize: number): ProofPlan {
  assertIndex(oldSize, 'oldSize');
  assertIndex(newSize, 'newSize');
  if (oldSize > newSize) throw new RangeError(`old size ${oldSize} is above new size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  const topDown: NodeId[][] = [];
  let a = 0;
  let b = newSize;
  let m = oldSize; // old leaves inside [a, b)
  let complete = true; // SUBPROOF's flag: is this subtree's hash known to the verifier?
  while (m !== b - a) {
    const k = splitPoint(b - a);
    if (m <= k) {
      topDown.push(rangeNodes(a + k, b));
      b = a + k;
    } else {
      topDown.push(rangeNodes(a, a + k));
      a = a + k;
      m -= k;
      complete = false;
    }
  }
  // SUBPROOF(m, D[a:b], false) = [MTH(D[a:b])]; with the flag still true the
  // old tree is a complete subtree whose root the verifier already has.
  if (!complete) topDown.push(rangeNodes(a, b));
  return topDown.reverse();
}

/** Every distinct node a plan reads, for batched prefetching. */
export function planNodes(plan: ProofPlan): NodeId[] {
  const seen = new Set<string>();
  const out: NodeId[] = [];
  for (const el of plan)
    for (const n of el) {
      const key = `${n.level}/${n.index}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(n);
      }
    }
  return out;
}

/** Folds a plan into proof hashes with a synchronous node lookup. */
export function proofFromPlan(hasher: Hasher, plan: ProofPlan, node: (id: NodeId) => Uint8Array): Uint8Array[] {
  return plan.map((el) => foldNodes(hasher, el.map(node)));
}
