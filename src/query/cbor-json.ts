/**
 * CBOR → JSON text, byte to byte, for exports: a stored leaf becomes the
 * JSON of its record without building the record as objects and without
 * decoding a single string (UTF-8 in, UTF-8 out; only `"`, `\` and control
 * characters are escaped, as JSON.stringify escapes them).
 *
 * It reads only what this server writes (spec/events.md §3): definite-length
 * maps with text keys, arrays, text, integers within ±(2^53−1), float64,
 * true, false and null. Anything else (a tag, byte strings, indefinite
 * lengths, a half or single float, a bigger integer, trailing bytes, nesting
 * past MAX_CBOR_DEPTH) makes it answer `false` having written nothing, and
 * the caller falls back to the strict decoder, which reports what is wrong.
 *
 * Object keys come out in the leaf's (canonical CBOR) order. JSON.stringify
 * of a decoded record can differ in key order only (JavaScript lists
 * integer-like keys first); the parsed values are equal.
 */

import { MAX_CBOR_DEPTH } from '../events/limits.js';

const HEX = '0123456789abcdef';
/** JSON.stringify's short escapes for control characters. */
const SHORT: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

/** A growable byte buffer that export rows are written into. */
export class ByteSink {
  buf: Uint8Array;
  p = 0;
  private static readonly enc = new TextEncoder();

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  ensure(n: number): void {
    if (this.p + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.p + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.p));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.p++] = b;
  }

  /** Any JS string, as UTF-8 (the caller makes it valid JSON). */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.p += ByteSink.enc.encodeInto(s, this.buf.subarray(this.p)).written;
  }

  /** Bytes, copied. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.p);
    this.p += b.length;
  }

  /** A non-negative safe integer in decimal (what String(n) writes), without making a string. */
  uint(n: number): void {
    this.ensure(16);
    const o = this.buf;
    if (n < 10) {
      o[this.p++] = 0x30 + n;
      return;
    }
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    let q = this.p + digits;
    this.p = q;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) o[--q] = 0x30 + (m % 10);
  }

  /** `len` bytes of `b` from `at` as padded base64 (RFC 4648 §4), the encoding of hashes on the wire. */
  base64(b: Uint8Array, at: number, len: number): void {
    this.ensure(Math.ceil(len / 3) * 4);
    const o = this.buf;
    let q = this.p;
    const end = at + len;
    let i = at;
    for (; i + 3 <= end; i += 3) {
      const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
      o[q++] = B64[v >> 18]!;
      o[q++] = B64[(v >> 12) & 63]!;
      o[q++] = B64[(v >> 6) & 63]!;
      o[q++] = B64[v & 63]!;
    }
    if (i < end) {
      const two = i + 1 < end;
      const v = (b[i]! << 16) | (two ? b[i + 1]! << 8 : 0);
      o[q++] = B64[v >> 18]!;
      o[q++] = B64[(v >> 12) & 63]!;
      o[q++] = two ? B64[(v >> 6) & 63]! : 0x3d;
      o[q++] = 0x3d;
    }
    this.p = q;
  }

  /** The bytes written so far (a copy), leaving the sink empty. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.p);
    this.p = 0;
    return out;
  }

  /**
   * The bytes written so far, without a copy: the sink moves on to a fresh
   * buffer of the same size, so the caller owns what it got (an export hands
   * it to the socket).
   */
  handOff(): Uint8Array {
    const out = this.buf.subarray(0, this.p);
    this.buf = new Uint8Array(this.buf.length);
    this.p = 0;
    return out;
  }
}

const B64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));

class Bail extends Error {}
const BAIL = new Bail();

/** Where the transcoder is in its input: one per module, reset per call (cborToJson is synchronous). */
class Reader {
  b: Uint8Array = new Uint8Array(0);
  p = 0;

  /** The argument of a head with additional info `ai` (definite lengths only). */
  arg(ai: number): number {
    const b = this.b;
    if (ai < 24) return ai;
    if (ai === 24) {
      this.need(1);
      return b[this.p++]!;
    }
    if (ai === 25) {
      this.need(2);
      const p = this.p;
      this.p += 2;
      return (b[p]! << 8) | b[p + 1]!;
    }
    if (ai === 26) {
      this.need(4);
      const v = this.u32(this.p);
      this.p += 4;
      return v;
    }
    if (ai === 27) {
      this.need(8);
      const v = this.u32(this.p) * 0x1_0000_0000 + this.u32(this.p + 4);
      this.p += 8;
      if (!Number.isSafeInteger(v)) throw BAIL;
      return v;
    }
    throw BAIL;
  }

  u32(p: number): number {
    const b = this.b;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** The float64 at the position (big-endian), read through a scratch buffer. */
  f64(): number {
    this.need(8);
    for (let k = 0; k < 8; k++) F64_BYTES[k] = this.b[this.p + k]!;
    this.p += 8;
    return F64_VIEW.getFloat64(0);
  }

  need(n: number): void {
    if (this.p + n > this.b.length) throw BAIL;
  }
}

const F64_BYTES = new Uint8Array(8);
const F64_VIEW = new DataView(F64_BYTES.buffer);
const READER = new Reader();

function digits(out: ByteSink, s: string): void {
  out.ensure(s.length);
  for (let i = 0; i < s.length; i++) out.buf[out.p++] = s.charCodeAt(i);
}

/** Strings at least this long are scanned, then copied natively; shorter ones are copied byte by byte as they are checked. */
const NATIVE_COPY = 256;

/** A text item's bytes as a JSON string. */
function text(r: Reader, out: ByteSink, len: number): void {
  r.need(len);
  const b = r.b;
  const start = r.p;
  const end = start + len;
  r.p = end;
  if (len >= NATIVE_COPY) {
    let i = start;
    while (i < end) {
      const c = b[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c) break;
      i++;
    }
    if (i === end) {
      // Nothing to escape in a long string: one native copy.
      out.ensure(len + 2);
      const o = out.buf;
      o[out.p] = 0x22;
      o.set(b.subarray(start, end), out.p + 1);
      o[out.p + 1 + len] = 0x22;
      out.p += len + 2;
      return;
    }
  }
  // One pass: copy while checking; an escape reserves the worst case (every byte a \u00XX escape) and goes on.
  out.ensure(len + 2);
  let o = out.buf;
  let q = out.p;
  o[q++] = 0x22;
  let j = start;
  for (; j < end; j++) {
    const c = b[j]!;
    if (c < 0x20 || c === 0x22 || c === 0x5c) break;
    o[q++] = c;
  }
  if (j < end) {
    out.p = q;
    out.ensure((end - j) * 6 + 1);
    o = out.buf;
    for (; j < end; j++) {
      const c = b[j]!;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) o[q++] = c;
      else {
        o[q++] = 0x5c;
        if (c === 0x22 || c === 0x5c) o[q++] = c;
        else if (SHORT[c] !== undefined) o[q++] = SHORT[c]!;
        else {
          o[q++] = 0x75;
          o[q++] = 0x30;
          o[q++] = 0x30;
          o[q++] = HEX.charCodeAt(c >> 4);
          o[q++] = HEX.charCodeAt(c & 15);
        }
      }
    }
  }
  o[q++] = 0x22;
  out.p = q;
}

function item(r: Reader, out: ByteSink, depth: number): void {
  r.need(1);
  const ib = r.b[r.p++]!;
  const major = ib >> 5;
  const ai = ib & 31;
  switch (major) {
    case 0:
      return out.uint(r.arg(ai));
    case 1:
      // -1 - n; for n = 2^53 - 1 that is -2^53, written exactly like String() does.
      out.byte(0x2d);
      return out.uint(r.arg(ai) + 1);
    case 3:
      return text(r, out, r.arg(ai));
    case 4:
    case 5: {
      if (depth >= MAX_CBOR_DEPTH) throw BAIL;
      const n = r.arg(ai);
      out.byte(major === 4 ? 0x5b : 0x7b);
      for (let i = 0; i < n; i++) {
        if (i > 0) out.byte(0x2c);
        if (major === 5) {
          r.need(1);
          const kb = r.b[r.p++]!;
          if (kb >> 5 !== 3) throw BAIL; // text keys only
          text(r, out, r.arg(kb & 31));
          out.byte(0x3a);
        }
        item(r, out, depth + 1);
      }
      out.byte(major === 4 ? 0x5d : 0x7d);
      return;
    }
    case 7:
      if (ib === 0xf4) return digits(out, 'false');
      if (ib === 0xf5) return digits(out, 'true');
      if (ib === 0xf6) return digits(out, 'null');
      if (ib === 0xfb) {
        const v = r.f64();
        if (!Number.isFinite(v)) throw BAIL;
        return digits(out, String(v));
      }
      throw BAIL;
    default:
      throw BAIL; // byte strings, tags
  }
}

/**
 * Appends the JSON text of the single CBOR item in `cbor` to `out`. Returns
 * false (with `out` as it was) for anything outside what this server writes.
 */
export function cborToJson(cbor: Uint8Array, out: ByteSink): boolean {
  const start = out.p;
  const r = READER;
  r.b = cbor;
  r.p = 0;
  try {
    item(r, out, 0);
    if (r.p !== cbor.length) throw BAIL;
    return true;
  } catch (e) {
    if (e !== BAIL) throw e;
    out.p = start;
    return false;
  } finally {
    r.b = EMPTY; // not kept alive by the module
  }
}

const EMPTY = new Uint8Array(0);
