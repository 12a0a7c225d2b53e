/**
 * Shared helpers for the merkle suite: the hasher under test, vector loading,
 * a deliberately naive RFC 6962 reference (recursive MTH / PATH / PROOF
 * straight from the RFC text) and the BAD_PROOF assertion.
 */

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { expect } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, fromHex, utf8 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import { rfc6962Hasher, type Hasher } from '../../src/merkle/index.js';

export const hasher: Hasher = rfc6962Hasher(sha256);

/** URL of a file or directory under /work/shared/vectors. */
export function vectorUrl(rel: string): URL {
  return new URL(`../../../shared/vectors/${rel}`, import.meta.url);
}

export function readVector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorUrl(rel)));
}

export function readVectorJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(vectorUrl(rel), 'utf8')) as T;
}

/** Every file below a vectors directory, as paths relative to that directory, sorted. */
export function walkVectorDir(rel: string): string[] {
  const root = vectorUrl(rel.endsWith('/') ? rel : `${rel}/`);
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(new URL(sub, root))) {
      const relPath = sub + name;
      if (statSync(new URL(relPath, root)).isDirectory()) walk(`${relPath}/`);
      else out.push(relPath);
    }
  };
  walk('');
  return out.sort();
}

export function hex(s: string): Uint8Array {
  const b = fromHex(s);
  if (b === undefined) throw new Error(`bad hex in vector: ${s}`);
  return b;
}

/** Base64 from a vector; these probes include empty strings and 12-byte values on purpose. */
export function b64(s: string): Uint8Array {
  const b = fromBase64(s);
  if (b === undefined) throw new Error(`bad base64 in vector: ${s}`);
  return b;
}

/** Runs fn and asserts it throws a TlogError with code BAD_PROOF (nothing else). */
export function expectBadProof(fn: () => unknown): TlogError {
  let thrown: unknown = undefined;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  expect(threw, 'expected a BAD_PROOF TlogError, but nothing was thrown').toBe(true);
  expect(thrown).toBeInstanceOf(TlogError);
  expect((thrown as TlogError).code).toBe('BAD_PROOF');
  expect((thrown as TlogError).status).toBe(422);
  return thrown as TlogError;
}

/** Outcome of a verification: 'ok' or the error (rethrows anything that is not a TlogError). */
export function outcome(fn: () => void): 'ok' | TlogError {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof TlogError) return e;
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Naive RFC 6962 §2.1 reference, written from the RFC text and nothing else.

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function naiveK(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * A naive model over a fixed list of leaf hashes. MTH(D[a:b]) depends only on
 * (a, b) for a fixed list, so it is memoised by range; the recursion itself is
 * the RFC definition.
 */
export class NaiveTree {
  private readonly memo = new Map<string, Uint8Array>();
  constructor(
    readonly h: Hasher,
    readonly leafHashes: readonly Uint8Array[],
  ) {}

  /** MTH(D[a:b]). */
  mth(a: number, b: number): Uint8Array {
    const n = b - a;
    if (n === 0) return this.h.emptyRoot();
    if (n === 1) return this.leafHashes[a]!;
    const key = `${a}:${b}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const k = naiveK(n);
    const r = this.h.hashChildren(this.mth(a, a + k), this.mth(a + k, b));
    this.memo.set(key, r);
    return r;
  }

  /** PATH(m, D[a:b]) per RFC 6962 §2.1.1 (m relative to a). */
  path(m: number, a: number, b: number): Uint8Array[] {
    const n = b - a;
    if (n === 1) return [];
    const k = naiveK(n);
    if (m < k) return [...this.path(m, a, a + k), this.mth(a + k, b)];
    return [...this.path(m - k, a + k, b), this.mth(a, a + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true), RFC 6962 §2.1.2. */
  proof(m: number, n: number): Uint8Array[] {
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, a: number, b: number, complete: boolean): Uint8Array[] {
    const n = b - a;
    if (m === n) return complete ? [] : [this.mth(a, b)];
    const k = naiveK(n);
    if (m <= k) return [...this.subproof(m, a, a + k, complete), this.mth(a + k, b)];
    return [...this.subproof(m - k, a + k, b, false), this.mth(a, a + k)];
  }
}

/** Distinct leaf hashes for synthetic trees: hashLeaf("leaf-<i>"). */
export function syntheticLeafHashes(h: Hasher, n: number): Uint8Array[] {
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = h.hashLeaf(utf8(`leaf-${i}`));
  return out;
}
