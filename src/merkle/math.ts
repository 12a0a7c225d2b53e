/**
 * Integer helpers for tree arithmetic. Sizes and indexes are JS numbers that
 * must be safe integers (< 2^53); JS bitwise operators truncate to 32 bits, so
 * nothing here uses them on indexes.
 */

export function assertIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

/** The largest power of two strictly smaller than n (n ≥ 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** 2^e for 0 ≤ e ≤ 63, exact for every e (powers of two are exact doubles). */
const POW2 = Array.from({ length: 64 }, (_, e) => 2 ** e);

export function pow2(e: number): number {
  return POW2[e] ?? 2 ** e;
}

export function isPow2(n: number): boolean {
  return n > 0 && splitPoint(n + 1) === n;
}
