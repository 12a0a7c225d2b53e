/**
 * Test helpers, including a deliberately naive reference encoder for
 * deterministic CBOR written straight from RFC 8949 §4.2.1 and our float64
 * rule. It shares no code with src/events (it sorts keys by comparing their
 * full encoded bytes, the definition, rather than by length-then-code-point),
 * so agreement between the two is evidence, not tautology.
 */
import { expect } from 'vitest';
import { compareBytes, concatBytes, fromHex, toHex, utf8 } from '../../src/bytes/index.js';
import { TlogError, type ErrorCode } from '../../src/errors.js';

export const hex = toHex;

export function unhex(s: string): Uint8Array {
  const b = fromHex(s.replace(/\s+/g, ''));
  if (b === undefined) throw new Error(`bad hex in test: ${s}`);
  return b;
}

/** Runs fn, asserts it throws a TlogError with `code`, returns the error. */
export function expectTlogError(fn: () => unknown, code: ErrorCode): TlogError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected TlogError ${code}`).toBeInstanceOf(TlogError);
  expect((caught as TlogError).code).toBe(code);
  return caught as TlogError;
}

function head(major: number, n: number | bigint): Uint8Array {
  const v = BigInt(n);
  const m = major << 5;
  if (v < 24n) return Uint8Array.of(m | Number(v));
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v));
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  if (v < 0x100000000n) {
    const out = new Uint8Array(5);
    out[0] = m | 26;
    new DataView(out.buffer).setUint32(1, Number(v));
    return out;
  }
  const out = new Uint8Array(9);
  out[0] = m | 27;
  new DataView(out.buffer).setBigUint64(1, v);
  return out;
}

/** Reference deterministic-CBOR encoder (JSON data model only). */
export function referenceEncode(v: unknown): Uint8Array {
  if (v === null) return Uint8Array.of(0xf6);
  if (v === false) return Uint8Array.of(0xf4);
  if (v === true) return Uint8Array.of(0xf5);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v >= 0 ? head(0, v) : head(1, -1n - BigInt(v));
    const out = new Uint8Array(9);
    out[0] = 0xfb;
    new DataView(out.buffer).setFloat64(1, v);
    return out;
  }
  if (typeof v === 'string') {
    const b = utf8(v);
    return concatBytes(head(3, b.length), b);
  }
  if (Array.isArray(v)) return concatBytes(head(4, v.length), ...v.map(referenceEncode));
  if (typeof v === 'object') {
    const entries = Object.keys(v as object).map((k) => [referenceEncode(k), referenceEncode((v as Record<string, unknown>)[k])] as const);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    return concatBytes(head(5, entries.length), ...entries.flatMap(([k, val]) => [k, val]));
  }
  throw new Error(`reference encoder: unsupported ${typeof v}`);
}

/** The stored form of a JSON value: -0 becomes 0 (they share one encoding). */
export function normalize(v: unknown): unknown {
  if (typeof v === 'number') return v === 0 ? 0 : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: normalize((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** A copy of a JSON value with every object's keys inserted in a shuffled order. */
export function shuffleKeys(v: unknown, rand: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rand));
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) Object.defineProperty(out, k, { value: shuffleKeys((v as Record<string, unknown>)[k], rand), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** Builds `depth` nested arrays around `inner` without recursion. */
export function nestArrays(depth: number, inner: unknown = 0): unknown {
  let v: unknown = inner;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** A minimal valid event. */
export function minimalEvent(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { actor: { type: 'agent', id: 'bot-1' }, action: { type: 'tool.call' }, ...extra };
}

/** Fixed clock and zero randomness, for reproducible event ids. */
export const fixedIds = { now: () => 1_700_000_000_000, random: (n: number) => new Uint8Array(n) };
