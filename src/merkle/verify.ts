/**
 * Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency), plus the edge cases the RFC leaves out (see
 * shared/specs/rfc6962-9162-merkle.md). Inputs are attacker-controlled: every
 * failure is a TlogError('BAD_PROOF') with the reason, never a crash.
 */

import { bytesEqual } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { HASH_SIZE, type Hasher } from './hasher.js';
import { isPow2 } from './math.js';

function bad(reason: string): TlogError {
  return new TlogError('BAD_PROOF', reason);
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw bad(`${what} is not a non-negative safe integer`);
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw bad(`${what} is not a ${HASH_SIZE}-byte hash`);
}

const odd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/**
 * Recomputes the root from an inclusion proof.
 * @throws TlogError BAD_PROOF if the proof is structurally wrong for (index, size).
 */
export function rootFromInclusionProof(
  hasher: Hasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkCount(index, 'index');
  checkCount(size, 'tree size');
  if (index >= size) throw bad(`index ${index} is not below tree size ${size}`);
  checkHash(leafHash, 'leaf hash');
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (let i = 0; i < proof.length; i++) {
    const p = proof[i]!;
    checkHash(p, `proof element ${i}`);
    if (sn === 0) throw bad('inclusion proof is too long');
    if (odd(fn) || fn === sn) {
      r = hasher.hashChildren(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hasher.hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw bad('inclusion proof is too short');
  return r;
}

/**
 * Checks that `leafHash` sits at `index` in the tree of `size` leaves with `root`.
 * @throws TlogError BAD_PROOF on any mismatch.
 */
export function verifyInclusion(
  hasher: Hasher,
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root hash');
  const got = rootFromInclusionProof(hasher, index, size, leafHash, proof);
  if (!bytesEqual(got, root)) throw bad('inclusion proof does not lead to the root hash');
}

/**
 * Checks that the tree (size2, root2) extends (size1, root1).
 *
 * Edge cases outside the RFC algorithm: size1 == size2 needs an empty proof
 * and equal roots; size1 == 0 needs an empty proof (every tree extends the
 * empty tree; C2SP tlog-witness accepts this, transparency-dev/merkle HEAD
 * refuses it as a matter of library policy).
 * @throws TlogError BAD_PROOF on any mismatch.
 */
export function verifyConsistency(
  hasher: Hasher,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkCount(size1, 'old size');
  checkCount(size2, 'new size');
  checkHash(root1, 'old root');
  checkHash(root2, 'new root');
  proof.forEach((p, i) => checkHash(p, `proof element ${i}`));
  if (size2 < size1) throw bad(`new size ${size2} is below old size ${size1}`);
  if (size1 === size2) {
    if (proof.length !== 0) throw bad('consistency proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) throw bad('equal sizes with different roots');
    return;
  }
  if (size1 === 0) {
    if (proof.length !== 0) throw bad('consistency proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) throw bad('consistency proof is empty');
  // RFC 9162 §2.1.4.2 step 2: a power-of-two old tree is a complete subtree
  // whose root the proof omits.
  const path = isPow2(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw bad('consistency proof is too long');
    if (odd(fn) || fn === sn) {
      fr = hasher.hashChildren(c, fr);
      sr = hasher.hashChildren(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hasher.hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw bad('consistency proof is too short');
  if (!bytesEqual(fr, root1)) throw bad('consistency proof does not lead to the old root');
  if (!bytesEqual(sr, root2)) throw bad('consistency proof does not lead to the new root');
}
