/**
 * Hostile inputs to the verifiers: every one must end in TlogError BAD_PROOF
 * (never a TypeError/RangeError, a hang or a success). The proof generators
 * take trusted numbers and answer caller bugs with RangeError instead.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromBase64 } from '../../src/bytes/index.js';
import {
  consistencyProofPlan,
  inclusionProofPlan,
  proofFromPlan,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
} from '../../src/merkle/index.js';
import { expectBadProof, hasher, NaiveTree, syntheticLeafHashes } from './helpers.js';

const leaves = syntheticLeafHashes(hasher, 16);
const naive = new NaiveTree(hasher, leaves);
const node = (id: NodeId) => naive.mth(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level);
const root = (n: number) => naive.mth(0, n);
const incl = (i: number, n: number) => proofFromPlan(hasher, inclusionProofPlan(i, n), node);
const cons = (m: number, n: number) => proofFromPlan(hasher, consistencyProofPlan(m, n), node);

const BAD_COUNTS: [string, number][] = [
  ['-1', -1],
  ['-0.5', -0.5],
  ['1.5', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2^53', 2 ** 53],
  ['2^64', 2 ** 64],
  ['-2^53', -(2 ** 53)],
];

/** Not-a-hash values an attacker's JSON could decode to. */
const BAD_HASHES: [string, unknown][] = [
  ['empty string (base64 "")', fromBase64('')],
  ['1 byte', new Uint8Array(1)],
  ['12 bytes ("don\'t care 1")', fromBase64('ZG9uJ3QgY2FyZSAx')],
  ['31 bytes', new Uint8Array(31)],
  ['33 bytes', new Uint8Array(33)],
  ['64 bytes', new Uint8Array(64)],
  ['a string', 'x'.repeat(32)],
  ['an array of 32 numbers', new Array(32).fill(0)],
  ['undefined', undefined],
  ['null', null],
];

describe('verifyInclusion: hostile sizes and indexes', () => {
  const proof = incl(5, 8);

  it.each(BAD_COUNTS)('index %s → BAD_PROOF', (_, v) => {
    expectBadProof(() => verifyInclusion(hasher, v, 8, leaves[5]!, proof, root(8)));
    expectBadProof(() => rootFromInclusionProof(hasher, v, 8, leaves[5]!, proof));
  });

  it.each(BAD_COUNTS)('tree size %s → BAD_PROOF', (_, v) => {
    expectBadProof(() => verifyInclusion(hasher, 5, v, leaves[5]!, proof, root(8)));
    expectBadProof(() => verifyInclusion(hasher, 0, v, leaves[0]!, [], root(1)));
  });

  it('index ≥ size and size 0 → BAD_PROOF', () => {
    expectBadProof(() => verifyInclusion(hasher, 8, 8, leaves[5]!, proof, root(8)));
    expectBadProof(() => verifyInclusion(hasher, 9, 8, leaves[5]!, proof, root(8)));
    expectBadProof(() => verifyInclusion(hasher, 0, 0, leaves[0]!, [], hasher.emptyRoot()));
    expectBadProof(() => verifyInclusion(hasher, Number.MAX_SAFE_INTEGER, 1, leaves[0]!, [], root(1)));
  });

  it('huge but valid sizes with a short proof → BAD_PROOF (too short), no overflow', () => {
    const e = expectBadProof(() => verifyInclusion(hasher, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER, leaves[0]!, proof, root(8)));
    expect(e.message).toMatch(/too short/);
    // And index 2^32 + 5 must not alias index 5 (no 32-bit truncation).
    expectBadProof(() => verifyInclusion(hasher, 2 ** 32 + 5, 2 ** 32 + 8, leaves[5]!, proof, root(8)));
  });
});

describe('verifyInclusion: hostile hashes and proofs', () => {
  const proof = incl(5, 8);

  it.each(BAD_HASHES)('leaf hash = %s → BAD_PROOF', (_, h) => {
    expectBadProof(() => verifyInclusion(hasher, 5, 8, h as Uint8Array, proof, root(8)));
  });

  it.each(BAD_HASHES)('root = %s → BAD_PROOF', (_, h) => {
    expectBadProof(() => verifyInclusion(hasher, 5, 8, leaves[5]!, proof, h as Uint8Array));
  });

  it.each(BAD_HASHES)('a proof element = %s → BAD_PROOF', (_, h) => {
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.slice() as unknown[];
      bad[j] = h;
      expectBadProof(() => verifyInclusion(hasher, 5, 8, leaves[5]!, bad as Uint8Array[], root(8)));
    }
  });

  it('single entry: an empty proof with a non-32-byte "root" equal to the leaf still fails', () => {
    const twelve = fromBase64('ZG9uJ3QgY2FyZSAx')!;
    expectBadProof(() => verifyInclusion(hasher, 0, 1, twelve, [], twelve));
    // The legitimate single-entry case: root = leaf hash.
    verifyInclusion(hasher, 0, 1, leaves[0]!, [], leaves[0]!);
  });

  it('a 100,000-element proof is refused quickly as too long', () => {
    const long = new Array<Uint8Array>(100_000).fill(leaves[1]!);
    const t = performance.now();
    const e = expectBadProof(() => verifyInclusion(hasher, 5, 8, leaves[5]!, long, root(8)));
    expect(e.message).toMatch(/too long/);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('verifyConsistency: hostile inputs', () => {
  const proof = cons(5, 8);

  it.each(BAD_COUNTS)('old size %s → BAD_PROOF', (_, v) => {
    expectBadProof(() => verifyConsistency(hasher, v, 8, proof, root(5), root(8)));
  });

  it.each(BAD_COUNTS)('new size %s → BAD_PROOF', (_, v) => {
    expectBadProof(() => verifyConsistency(hasher, 5, v, proof, root(5), root(8)));
    expectBadProof(() => verifyConsistency(hasher, 0, v, [], hasher.emptyRoot(), root(8)));
  });

  it('old size above new size → BAD_PROOF, even with an empty proof and equal roots', () => {
    expectBadProof(() => verifyConsistency(hasher, 8, 5, proof, root(8), root(5)));
    expectBadProof(() => verifyConsistency(hasher, 2, 1, [], root(1), root(1)));
    expectBadProof(() => verifyConsistency(hasher, 1, 0, [], hasher.emptyRoot(), hasher.emptyRoot()));
  });

  it.each(BAD_HASHES)('old root = %s → BAD_PROOF (also for equal and zero sizes)', (_, h) => {
    expectBadProof(() => verifyConsistency(hasher, 5, 8, proof, h as Uint8Array, root(8)));
    expectBadProof(() => verifyConsistency(hasher, 8, 8, [], h as Uint8Array, h as Uint8Array));
    expectBadProof(() => verifyConsistency(hasher, 0, 8, [], h as Uint8Array, root(8)));
    expectBadProof(() => verifyConsistency(hasher, 0, 0, [], h as Uint8Array, h as Uint8Array));
  });

  it.each(BAD_HASHES)('new root = %s → BAD_PROOF', (_, h) => {
    expectBadProof(() => verifyConsistency(hasher, 5, 8, proof, root(5), h as Uint8Array));
    expectBadProof(() => verifyConsistency(hasher, 0, 8, [], hasher.emptyRoot(), h as Uint8Array));
  });

  it.each(BAD_HASHES)('a proof element = %s → BAD_PROOF', (_, h) => {
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.slice() as unknown[];
      bad[j] = h;
      expectBadProof(() => verifyConsistency(hasher, 5, 8, bad as Uint8Array[], root(5), root(8)));
    }
  });

  it('non-empty proofs for the edge cases → BAD_PROOF', () => {
    expectBadProof(() => verifyConsistency(hasher, 8, 8, [root(8)], root(8), root(8)));
    expectBadProof(() => verifyConsistency(hasher, 0, 8, [root(8)], hasher.emptyRoot(), root(8)));
    expectBadProof(() => verifyConsistency(hasher, 0, 0, [hasher.emptyRoot()], hasher.emptyRoot(), hasher.emptyRoot()));
    expectBadProof(() => verifyConsistency(hasher, 5, 8, [], root(5), root(8)));
    // Power-of-two old size: sending the (omitted) old root as a proof element is wrong.
    expectBadProof(() => verifyConsistency(hasher, 4, 8, [root(4), ...cons(4, 8)], root(4), root(8)));
  });

  it('a 100,000-element proof is refused quickly', () => {
    const long = new Array<Uint8Array>(100_000).fill(leaves[1]!);
    const t = performance.now();
    const e = expectBadProof(() => verifyConsistency(hasher, 5, 8, long, root(5), root(8)));
    expect(e.message).toMatch(/too long/);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('huge sizes with a small proof → BAD_PROOF, no crash', () => {
    expectBadProof(() => verifyConsistency(hasher, 2 ** 52 + 1, Number.MAX_SAFE_INTEGER, proof, root(5), root(8)));
    expectBadProof(() => verifyConsistency(hasher, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, proof, root(5), root(8)));
  });

  it('fuzz: random sizes, indexes and hash lists never throw anything but BAD_PROOF', () => {
    const count = fc.oneof(
      fc.integer({ min: -3, max: 40 }),
      fc.maxSafeNat(),
      fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 2 ** 53, -0),
    );
    const hash = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...leaves));
    fc.assert(
      fc.property(count, count, hash, hash, fc.array(hash, { maxLength: 8 }), (a, b, h1, h2, p) => {
        for (const f of [
          () => verifyInclusion(hasher, a, b, h1, p, h2),
          () => rootFromInclusionProof(hasher, a, b, h1, p),
          () => verifyConsistency(hasher, a, b, p, h1, h2),
        ]) {
          try {
            f();
          } catch (e) {
            expectBadProof(() => {
              throw e;
            });
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('proof generation: caller bugs are RangeErrors', () => {
  it.each(BAD_COUNTS)('inclusionProofPlan / consistencyProofPlan refuse %s', (_, v) => {
    expect(() => inclusionProofPlan(v, 8)).toThrow(RangeError);
    expect(() => inclusionProofPlan(0, v)).toThrow(RangeError);
    expect(() => consistencyProofPlan(v, 8)).toThrow(RangeError);
    expect(() => consistencyProofPlan(0, v)).toThrow(RangeError);
  });

  it('index ≥ size and old > new are refused; the trivial consistency cases are empty', () => {
    expect(() => inclusionProofPlan(8, 8)).toThrow(RangeError);
    expect(() => inclusionProofPlan(0, 0)).toThrow(RangeError);
    expect(() => consistencyProofPlan(9, 8)).toThrow(RangeError);
    expect(consistencyProofPlan(0, 8)).toEqual([]);
    expect(consistencyProofPlan(0, 0)).toEqual([]);
    expect(consistencyProofPlan(8, 8)).toEqual([]);
    expect(inclusionProofPlan(0, 1)).toEqual([]);
  });
});
