/**
 * fast-check properties against the naive recursive RFC 6962 reference
 * (helpers.ts: MTH / PATH / PROOF written from the RFC text), plus a symbolic
 * "interval hasher" that checks proof shapes at sizes up to 2^53 − 1.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, toHex } from '../../src/bytes/index.js';
import {
  consistencyProofPlan,
  foldNodes,
  inclusionProofPlan,
  proofFromPlan,
  rangeNodes,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  type Hasher,
  type NodeId,
} from '../../src/merkle/index.js';
import { expectBadProof, hasher, naiveK, NaiveTree, outcome, syntheticLeafHashes } from './helpers.js';

const MAX = 2000;
const pool = syntheticLeafHashes(hasher, MAX);
const naive = new NaiveTree(hasher, pool);
const naiveNode = (id: NodeId) => naive.mth(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level);
const hexes = (bs: readonly Uint8Array[]) => bs.map(toHex);

const inclusionProof = (i: number, n: number) => proofFromPlan(hasher, inclusionProofPlan(i, n), naiveNode);
const consistencyProof = (m: number, n: number) => proofFromPlan(hasher, consistencyProofPlan(m, n), naiveNode);

/** (index, size) with 1 ≤ size ≤ MAX and index < size. */
const indexAndSize = fc
  .integer({ min: 1, max: MAX })
  .chain((n) => fc.record({ n: fc.constant(n), i: fc.integer({ min: 0, max: n - 1 }) }));
/** (m, n) with 0 ≤ m ≤ n ≤ MAX, biased towards the interesting 0 < m < n. */
const oldAndNew = fc
  .integer({ min: 1, max: MAX })
  .chain((n) => fc.record({ n: fc.constant(n), m: fc.oneof(fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: Math.max(1, n - 1) })) }));
/** Strictly 0 < m < n. */
const properOldAndNew = fc
  .integer({ min: 2, max: MAX })
  .chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n - 1 }) }));

const RUNS = { numRuns: 250 };

function flipped(proof: readonly Uint8Array[], j: number, byte: number, mask: number): Uint8Array[] {
  return proof.map((p, k) => {
    if (k !== j) return p;
    const c = p.slice();
    c[byte] = c[byte]! ^ mask;
    return c;
  });
}

describe('properties: inclusion', () => {
  it('generated proof = naive PATH, verifies, and rootFromInclusionProof = MTH', () => {
    fc.assert(
      fc.property(indexAndSize, ({ i, n }) => {
        const proof = inclusionProof(i, n);
        expect(hexes(proof)).toEqual(hexes(naive.path(i, 0, n)));
        const root = naive.mth(0, n);
        verifyInclusion(hasher, i, n, pool[i]!, proof, root);
        expect(toHex(rootFromInclusionProof(hasher, i, n, pool[i]!, proof))).toBe(toHex(root));
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
      }),
      RUNS,
    );
  });

  it('a flipped bit anywhere in the proof → BAD_PROOF', () => {
    fc.assert(
      fc.property(indexAndSize, fc.nat(), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 }), ({ i, n }, j, byte, bit) => {
        fc.pre(n > 1);
        const proof = inclusionProof(i, n);
        const bad = flipped(proof, j % proof.length, byte, 1 << bit);
        expectBadProof(() => verifyInclusion(hasher, i, n, pool[i]!, bad, naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('a dropped element → BAD_PROOF', () => {
    fc.assert(
      fc.property(indexAndSize, fc.nat(), ({ i, n }, j) => {
        fc.pre(n > 1);
        const proof = inclusionProof(i, n);
        const bad = proof.filter((_, k) => k !== j % proof.length);
        expectBadProof(() => verifyInclusion(hasher, i, n, pool[i]!, bad, naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('an added element (anywhere, any value) → BAD_PROOF', () => {
    fc.assert(
      fc.property(indexAndSize, fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), ({ i, n }, j, extra) => {
        const proof = inclusionProof(i, n);
        const at = j % (proof.length + 1);
        const bad = [...proof.slice(0, at), extra, ...proof.slice(at)];
        expectBadProof(() => verifyInclusion(hasher, i, n, pool[i]!, bad, naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('a wrong index → BAD_PROOF', () => {
    fc.assert(
      fc.property(indexAndSize, fc.nat(), ({ i, n }, d) => {
        fc.pre(n > 1);
        const j = (i + 1 + (d % (n - 1))) % n; // any other index below n
        expect(j).not.toBe(i);
        const proof = inclusionProof(i, n);
        expectBadProof(() => verifyInclusion(hasher, j, n, pool[i]!, proof, naive.mth(0, n)));
        // And the right leaf at the wrong index.
        expectBadProof(() => verifyInclusion(hasher, j, n, pool[j]!, proof, naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('a wrong size whose proof shape differs → BAD_PROOF', () => {
    // (A wrong size with the same shape can legitimately recompute the same
    // root, e.g. index 0 in sizes 5 and 6; only a shape change must fail.)
    fc.assert(
      fc.property(indexAndSize, fc.integer({ min: 1, max: MAX }), ({ i, n }, n2) => {
        fc.pre(n2 !== n && i < n2);
        const proof = inclusionProof(i, n);
        fc.pre(naive.path(i, 0, n2).length !== proof.length);
        expectBadProof(() => verifyInclusion(hasher, i, n2, pool[i]!, proof, naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('same-shape wrong sizes exist (documenting why the previous property needs its precondition)', () => {
    const proof = inclusionProof(0, 5);
    expect(outcome(() => verifyInclusion(hasher, 0, 6, pool[0]!, proof, naive.mth(0, 5)))).toBe('ok');
  });

  it('wrong leaf, wrong root → BAD_PROOF', () => {
    fc.assert(
      fc.property(indexAndSize, fc.integer({ min: 0, max: MAX }), ({ i, n }, other) => {
        const proof = inclusionProof(i, n);
        const leaf = pool[(i + 1) % MAX]!;
        expectBadProof(() => verifyInclusion(hasher, i, n, leaf, proof, naive.mth(0, n)));
        fc.pre(other !== n);
        expectBadProof(() => verifyInclusion(hasher, i, n, pool[i]!, proof, naive.mth(0, other)));
      }),
      RUNS,
    );
  });
});

describe('properties: consistency', () => {
  it('generated proof = naive PROOF, verifies', () => {
    fc.assert(
      fc.property(oldAndNew, ({ m, n }) => {
        const proof = consistencyProof(m, n);
        const want = m === 0 || m === n ? [] : naive.proof(m, n);
        expect(hexes(proof)).toEqual(hexes(want));
        verifyConsistency(hasher, m, n, proof, naive.mth(0, m), naive.mth(0, n));
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1);
        // A power-of-two old size never repeats the old root.
        if (m > 0 && m < n && (m & (m - 1)) === 0) expect(proof.some((p) => bytesEqual(p, naive.mth(0, m)))).toBe(false);
      }),
      RUNS,
    );
  });

  it('a flipped bit anywhere in the proof → BAD_PROOF', () => {
    fc.assert(
      fc.property(properOldAndNew, fc.nat(), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 7 }), ({ m, n }, j, byte, bit) => {
        const proof = consistencyProof(m, n);
        const bad = flipped(proof, j % proof.length, byte, 1 << bit);
        expectBadProof(() => verifyConsistency(hasher, m, n, bad, naive.mth(0, m), naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('a dropped element → BAD_PROOF', () => {
    fc.assert(
      fc.property(properOldAndNew, fc.nat(), ({ m, n }, j) => {
        const proof = consistencyProof(m, n);
        const bad = proof.filter((_, k) => k !== j % proof.length);
        expectBadProof(() => verifyConsistency(hasher, m, n, bad, naive.mth(0, m), naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('an added element (anywhere, any value) → BAD_PROOF, also for m = 0 and m = n', () => {
    fc.assert(
      fc.property(oldAndNew, fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), ({ m, n }, j, extra) => {
        const proof = consistencyProof(m, n);
        const at = j % (proof.length + 1);
        const bad = [...proof.slice(0, at), extra, ...proof.slice(at)];
        expectBadProof(() => verifyConsistency(hasher, m, n, bad, naive.mth(0, m), naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('two elements swapped → BAD_PROOF', () => {
    fc.assert(
      fc.property(properOldAndNew, fc.nat(), ({ m, n }, j) => {
        const proof = consistencyProof(m, n);
        fc.pre(proof.length >= 2);
        const a = j % (proof.length - 1);
        const bad = proof.slice();
        [bad[a], bad[a + 1]] = [bad[a + 1]!, bad[a]!];
        expectBadProof(() => verifyConsistency(hasher, m, n, bad, naive.mth(0, m), naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('a wrong old or new root → BAD_PROOF', () => {
    fc.assert(
      fc.property(properOldAndNew, fc.integer({ min: 0, max: MAX }), ({ m, n }, other) => {
        const proof = consistencyProof(m, n);
        fc.pre(other !== m && other !== n);
        expectBadProof(() => verifyConsistency(hasher, m, n, proof, naive.mth(0, other), naive.mth(0, n)));
        expectBadProof(() => verifyConsistency(hasher, m, n, proof, naive.mth(0, m), naive.mth(0, other)));
        expectBadProof(() => verifyConsistency(hasher, m, n, proof, naive.mth(0, n), naive.mth(0, m)));
      }),
      RUNS,
    );
  });

  it('wrong sizes whose proof shape differs → BAD_PROOF', () => {
    fc.assert(
      fc.property(properOldAndNew, fc.integer({ min: 0, max: MAX }), fc.boolean(), ({ m, n }, s, changeOld) => {
        const proof = consistencyProof(m, n);
        const [m2, n2] = changeOld ? [s, n] : [m, s];
        fc.pre((m2 !== m || n2 !== n) && m2 <= n2);
        const shape = m2 === 0 || m2 === n2 ? 0 : naive.proof(m2, n2).length;
        fc.pre(shape !== proof.length);
        expectBadProof(() => verifyConsistency(hasher, m2, n2, proof, naive.mth(0, m), naive.mth(0, n)));
      }),
      RUNS,
    );
  });

  it('old size above new size → BAD_PROOF (and the plan refuses it)', () => {
    fc.assert(
      fc.property(properOldAndNew, ({ m, n }) => {
        const proof = consistencyProof(m, n);
        expectBadProof(() => verifyConsistency(hasher, n, m, proof, naive.mth(0, n), naive.mth(0, m)));
        expect(() => consistencyProofPlan(n, m)).toThrow(RangeError);
      }),
      { numRuns: 50 },
    );
  });
});

describe('properties: tree shape', () => {
  it('rangeNodes splits any [begin, end) into contiguous, aligned, maximal complete subtrees', () => {
    const bound = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.maxSafeNat());
    fc.assert(
      fc.property(bound, bound, (x, y) => {
        const [begin, end] = x <= y ? [x, y] : [y, x];
        const nodes = rangeNodes(begin, end);
        let at = begin;
        const problems: string[] = [];
        for (const { level, index } of nodes) {
          const size = 2 ** level;
          if (!Number.isSafeInteger(index)) problems.push(`unsafe index ${index}`);
          if (index * size !== at) problems.push(`${level}/${index} does not start at ${at}`); // contiguous, aligned
          // Maximal: the next level up is misaligned here or would overrun.
          if (at % (2 * size) === 0 && at + 2 * size <= end) problems.push(`${level}/${index} is not maximal`);
          at += size;
        }
        expect(problems).toEqual([]);
        expect(at).toBe(end);
        expect(nodes.length).toBeLessThanOrEqual(2 * 53);
      }),
      { numRuns: 500 },
    );
  });

  it('for RFC ranges [k·2^h, min((k+1)·2^h, n)) sizes strictly decrease and foldNodes = naive MTH', () => {
    const rfcRange = fc
      .integer({ min: 1, max: MAX })
      .chain((n) => fc.record({ n: fc.constant(n), h: fc.integer({ min: 0, max: Math.ceil(Math.log2(n)) }) }))
      .chain(({ n, h }) => fc.record({ n: fc.constant(n), h: fc.constant(h), k: fc.integer({ min: 0, max: Math.ceil(n / 2 ** h) - 1 }) }));
    fc.assert(
      fc.property(rfcRange, ({ n, h, k }) => {
        const begin = k * 2 ** h;
        const end = Math.min((k + 1) * 2 ** h, n);
        const nodes = rangeNodes(begin, end);
        for (let x = 1; x < nodes.length; x++) expect(nodes[x]!.level).toBeLessThan(nodes[x - 1]!.level);
        expect(toHex(foldNodes(hasher, nodes.map(naiveNode)))).toBe(toHex(naive.mth(begin, end)));
      }),
      { numRuns: 300 },
    );
  });

  it('rootFromLeafHashes = naive MTH for every size 0..200 and random sizes up to 2000', () => {
    for (let n = 0; n <= 200; n++)
      if (!bytesEqual(rootFromLeafHashes(hasher, pool.slice(0, n)), naive.mth(0, n))) expect.fail(`size ${n}`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), (n) => {
        expect(toHex(rootFromLeafHashes(hasher, pool.slice(0, n)))).toBe(toHex(naive.mth(0, n)));
      }),
      { numRuns: 40 },
    );
  });

  it('rootFromLeafHashes does not depend on where the leaves came from (no aliasing)', () => {
    const copy = pool.slice(0, 37).map((h) => h.slice());
    const r1 = rootFromLeafHashes(hasher, copy);
    expect(copy.map(toHex)).toEqual(pool.slice(0, 37).map(toHex)); // inputs untouched
    expect(toHex(r1)).toBe(toHex(naive.mth(0, 37)));
  });
});

// ---------------------------------------------------------------------------
// Symbolic interval hasher: a "hash" is the leaf range [a, b) it covers. Children
// combine only if they are adjacent and split where RFC 6962 splits, so a proof
// verifies symbolically iff its shape is exactly right — at any size below 2^53.

const VALID = 0x5a;
function enc(a: number, b: number, valid = true): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  dv.setFloat64(0, a);
  dv.setFloat64(8, b);
  out[16] = valid ? VALID : 0;
  return out;
}
function dec(h: Uint8Array): { a: number; b: number; ok: boolean } {
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return { a: dv.getFloat64(0), b: dv.getFloat64(8), ok: h[16] === VALID };
}
const intervalHasher: Hasher = {
  emptyRoot: () => enc(0, 0),
  hashLeaf: () => {
    throw new Error('not used');
  },
  hashChildren(left, right) {
    const l = dec(left);
    const r = dec(right);
    const ok = l.ok && r.ok && l.b === r.a && l.b - l.a === naiveK(r.b - l.a);
    return enc(l.a, r.b, ok);
  },
};
const intervalNode = (id: NodeId) => enc(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level);

describe('properties: exact arithmetic up to 2^53 − 1 (symbolic interval hasher)', () => {
  const big = fc.oneof(fc.integer({ min: 2, max: 2 ** 40 }), fc.integer({ min: 2 ** 52, max: Number.MAX_SAFE_INTEGER }));

  it('the interval hasher itself rejects wrong shapes', () => {
    // [0,3) = H([0,2), [2,3)) but not H([0,1), [1,3)).
    expect(dec(intervalHasher.hashChildren(enc(0, 2), enc(2, 3))).ok).toBe(true);
    expect(dec(intervalHasher.hashChildren(enc(0, 1), enc(1, 3))).ok).toBe(false);
    expect(dec(intervalHasher.hashChildren(enc(0, 2), enc(3, 4))).ok).toBe(false);
    expect(toHex(foldNodes(intervalHasher, rangeNodes(0, 7).map(intervalNode)))).toBe(toHex(enc(0, 7)));
  });

  it('inclusion plans verify at huge sizes; a neighbouring index does not', () => {
    fc.assert(
      fc.property(big, fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const i = Math.min(n - 1, Math.floor(f * n));
        const proof = proofFromPlan(intervalHasher, inclusionProofPlan(i, n), intervalNode);
        expect(proof.length).toBeLessThanOrEqual(53);
        verifyInclusion(intervalHasher, i, n, enc(i, i + 1), proof, enc(0, n));
        const j = i === 0 ? 1 : i - 1;
        expectBadProof(() => verifyInclusion(intervalHasher, j, n, enc(i, i + 1), proof, enc(0, n)));
      }),
      { numRuns: 300 },
    );
  });

  it('the last leaf of a 2^53 − 1 tree', () => {
    const n = Number.MAX_SAFE_INTEGER;
    const i = n - 1;
    const proof = proofFromPlan(intervalHasher, inclusionProofPlan(i, n), intervalNode);
    expect(proof.length).toBe(52);
    verifyInclusion(intervalHasher, i, n, enc(i, i + 1), proof, enc(0, n));
  });

  it('consistency plans verify at huge sizes', () => {
    fc.assert(
      fc.property(big, big, (x, y) => {
        fc.pre(x !== y);
        const [m, n] = x < y ? [x, y] : [y, x];
        const proof = proofFromPlan(intervalHasher, consistencyProofPlan(m, n), intervalNode);
        expect(proof.length).toBeLessThanOrEqual(54);
        verifyConsistency(intervalHasher, m, n, proof, enc(0, m), enc(0, n));
        expectBadProof(() => verifyConsistency(intervalHasher, m, n, proof, enc(0, m - 1), enc(0, n)));
      }),
      { numRuns: 300 },
    );
  });
});
