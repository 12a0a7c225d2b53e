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
 *
 * Erased personal data: given a RefMark, a map holding text `$pii`,
 * `subject` and `commitment` (a reference, events/pii.ts isPiiRef) that the
 * mark knows as erased gets `,"erased":true,"erased_at":"…"` before its
 * closing brace: the bytes JSON.stringify writes for privacy/annotate.ts
 * markErased's copy. The transcoder stays pure: the caller looks the
 * references up (in one vault read per chunk) and passes what it found.
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
   * The bytes written so far, without a copy: the sink moves on to `next`
   * (or a fresh buffer of the same size), so the caller owns what it got
   * (an export hands it to the socket, and the buffer back once written).
   */
  handOff(next: Uint8Array = new Uint8Array(this.buf.length)): Uint8Array {
    const out = this.buf.subarray(0, this.p);
    this.buf = next;
    this.p = 0;
    return out;
  }
}

const B64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));

class Bail extends Error {}
const BAIL = new Bail();
const EMPTY = new Uint8Array(0);

/**
 * The transcoder's state, module-wide (cborToJson is synchronous and never
 * reentered): the input and the position in it, the output buffer and the
 * position in it. The output was made room for before the first byte
 * (ROOM), so no write checks for space.
 */
let inb: Uint8Array = EMPTY;
let ip = 0;
let outb: Uint8Array = EMPTY;
let op = 0;
/** The sink being written (only a mark, which the room does not cover, grows it) and the mark, if any. */
let sink: ByteSink | undefined;
let mark: RefMark | undefined;

/**
 * When the reference (pointer `$pii`, pseudonym `subject`) was erased, as
 * the ISO 8601 text of `erased_at`, or undefined when it was not.
 */
export type RefMark = (pointer: string, subject: string) => string | undefined;

/**
 * JSON bytes per CBOR byte at most: `false,` is six bytes from one (0xf4),
 * as is a text byte written as \u00XX; an integer, a float, a header and
 * its brackets or separators write fewer per byte.
 */
const ROOM = 6;

/** The argument of a head with additional info `ai` (definite lengths only). */
function arg(ai: number): number {
  const b = inb;
  const p = ip;
  if (ai < 24) return ai;
  if (ai === 24) {
    if (p + 1 > b.length) throw BAIL;
    ip = p + 1;
    return b[p]!;
  }
  if (ai === 25) {
    if (p + 2 > b.length) throw BAIL;
    ip = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }
  if (ai === 26) {
    if (p + 4 > b.length) throw BAIL;
    ip = p + 4;
    return u32(b, p);
  }
  if (ai === 27) {
    if (p + 8 > b.length) throw BAIL;
    ip = p + 8;
    const v = u32(b, p) * 0x1_0000_0000 + u32(b, p + 4);
    if (!Number.isSafeInteger(v)) throw BAIL;
    return v;
  }
  throw BAIL;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

const F64_BYTES = new Uint8Array(8);
const F64_VIEW = new DataView(F64_BYTES.buffer);

/** The big-endian float64 at the input position. */
function f64(): number {
  if (ip + 8 > inb.length) throw BAIL;
  for (let k = 0; k < 8; k++) F64_BYTES[k] = inb[ip + k]!;
  ip += 8;
  return F64_VIEW.getFloat64(0);
}

/** ASCII text (digits, `true`, …) to the output. */
function ascii(s: string): void {
  const o = outb;
  let q = op;
  for (let i = 0; i < s.length; i++) o[q++] = s.charCodeAt(i);
  op = q;
}

/** A non-negative safe integer in decimal, as String(n) writes it. */
function uint(n: number): void {
  const o = outb;
  if (n < 10) {
    o[op++] = 0x30 + n;
    return;
  }
  let digits = 0;
  for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
  let q = op + digits;
  op = q;
  for (let m = n; m >= 1; m = Math.floor(m / 10)) o[--q] = 0x30 + (m % 10);
}

/** Strings at least this long are scanned, then copied natively; shorter ones are copied byte by byte as they are checked. */
const NATIVE_COPY = 256;

/** A text item's `len` bytes as a JSON string. */
function text(len: number): void {
  const b = inb;
  const start = ip;
  const end = start + len;
  if (end > b.length) throw BAIL;
  ip = end;
  const o = outb;
  let q = op;
  o[q++] = 0x22;
  let j = start;
  if (len >= NATIVE_COPY) {
    while (j < end) {
      const c = b[j]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c) break;
      j++;
    }
    // Up to the first byte to escape (all of it, usually) in one native copy.
    o.set(b.subarray(start, j), q);
    q += j - start;
  }
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
  o[q++] = 0x22;
  op = q;
}

function item(depth: number): void {
  if (ip >= inb.length) throw BAIL;
  const ib = inb[ip++]!;
  const major = ib >> 5;
  const ai = ib & 31;
  switch (major) {
    case 0:
      return uint(arg(ai));
    case 1:
      // -1 - n; for n = 2^53 - 1 that is -2^53, written exactly like String() does.
      outb[op++] = 0x2d;
      return uint(arg(ai) + 1);
    case 3:
      return text(arg(ai));
    case 4: {
      if (depth >= MAX_CBOR_DEPTH) throw BAIL;
      const n = arg(ai);
      outb[op++] = 0x5b;
      for (let i = 0; i < n; i++) {
        if (i > 0) outb[op++] = 0x2c;
        item(depth + 1);
      }
      outb[op++] = 0x5d;
      return;
    }
    case 5: {
      if (depth >= MAX_CBOR_DEPTH) throw BAIL;
      const n = arg(ai);
      outb[op++] = 0x7b;
      // A reference has three keys; maps are only looked into when a mark was given.
      if (mark !== undefined && n >= 3) return markedMap(n, depth);
      for (let i = 0; i < n; i++) {
        if (i > 0) outb[op++] = 0x2c;
        if (ip >= inb.length) throw BAIL;
        const kb = inb[ip++]!;
        if (kb >> 5 !== 3) throw BAIL; // text keys only
        text(arg(kb & 31));
        outb[op++] = 0x3a;
        item(depth + 1);
      }
      outb[op++] = 0x7d;
      return;
    }
    case 7:
      if (ib === 0xf4) return ascii('false');
      if (ib === 0xf5) return ascii('true');
      if (ib === 0xf6) return ascii('null');
      if (ib === 0xfb) {
        const v = f64();
        if (!Number.isFinite(v)) throw BAIL;
        return ascii(String(v));
      }
      throw BAIL;
    default:
      throw BAIL; // byte strings, tags
  }
}

const KEY_PII = [0x24, 0x70, 0x69, 0x69]; // $pii
const KEY_SUBJECT = [0x73, 0x75, 0x62, 0x6a, 0x65, 0x63, 0x74]; // subject
const KEY_COMMITMENT = [0x63, 0x6f, 0x6d, 0x6d, 0x69, 0x74, 0x6d, 0x65, 0x6e, 0x74]; // commitment
const MARK_OPEN = ',"erased":true,"erased_at":"';
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Whether the `len` input bytes at `at` are `key`. */
function keyIs(at: number, len: number, key: readonly number[]): boolean {
  if (len !== key.length) return false;
  for (let k = 0; k < len; k++) if (inb[at + k] !== key[k]) return false;
  return true;
}

/**
 * A map's `n` entries (its `{` written), as item() writes them, noting where
 * the text values of `$pii`, `subject` and `commitment` are; when all three
 * are there and the mark knows the reference as erased, the mark goes in
 * before the closing brace.
 */
function markedMap(n: number, depth: number): void {
  let pAt = -1;
  let pLen = 0;
  let sAt = -1;
  let sLen = 0;
  let commitment = false;
  for (let i = 0; i < n; i++) {
    if (i > 0) outb[op++] = 0x2c;
    if (ip >= inb.length) throw BAIL;
    const kb = inb[ip++]!;
    if (kb >> 5 !== 3) throw BAIL; // text keys only
    const kLen = arg(kb & 31);
    const kAt = ip;
    text(kLen);
    outb[op++] = 0x3a;
    const which = keyIs(kAt, kLen, KEY_PII) ? 1 : keyIs(kAt, kLen, KEY_SUBJECT) ? 2 : keyIs(kAt, kLen, KEY_COMMITMENT) ? 3 : 0;
    if (which !== 0 && ip < inb.length && inb[ip]! >> 5 === 3) {
      // Where the text value's bytes are: its head read ahead, item() reads it again.
      const head = ip++;
      const len = arg(inb[head]! & 31);
      if (which === 1) {
        pAt = ip;
        pLen = len;
      } else if (which === 2) {
        sAt = ip;
        sLen = len;
      } else commitment = true;
      ip = head;
    }
    item(depth + 1);
  }
  if (pAt >= 0 && sAt >= 0 && commitment) {
    const at = mark!(utf8.decode(inb.subarray(pAt, pAt + pLen)), utf8.decode(inb.subarray(sAt, sAt + sLen)));
    if (at !== undefined) writeMark(at);
  }
  outb[op++] = 0x7d;
}

/**
 * `,"erased":true,"erased_at":"<at>"`. With an ISO time the room made at
 * the start would do (a reference is at least 28 CBOR bytes, and with its
 * mark writes under 100), but it was not counted for marks: the sink grows
 * here by the mark plus that whole room again, so whatever the rest of the
 * leaf writes fits, whatever `at` is.
 */
function writeMark(at: string): void {
  const s = sink!;
  s.p = op;
  s.ensure(MARK_OPEN.length + at.length + 1 + ROOM * inb.length + 16);
  outb = s.buf;
  ascii(MARK_OPEN);
  // toISOString's text is ASCII digits, signs and letters: nothing to escape.
  ascii(at);
  outb[op++] = 0x22;
}

/**
 * Appends the JSON text of the single CBOR item in `cbor` to `out`. Returns
 * false (with `out` as it was) for anything outside what this server writes.
 * With `marks`, references it knows as erased are marked (see above).
 */
export function cborToJson(cbor: Uint8Array, out: ByteSink, marks?: RefMark): boolean {
  out.ensure(ROOM * cbor.length + 16);
  const start = out.p;
  inb = cbor;
  ip = 0;
  outb = out.buf;
  op = start;
  sink = out;
  mark = marks;
  try {
    item(0);
    if (ip !== cbor.length) throw BAIL;
    out.p = op;
    return true;
  } catch (e) {
    out.p = start; // a mark may have moved it
    if (e !== BAIL) throw e;
    return false;
  } finally {
    inb = EMPTY; // nothing is kept alive by the module
    outb = EMPTY;
    sink = undefined;
    mark = undefined;
  }
}
