/**
 * A pure encoder for the log's deterministic CBOR (the rules are in cbor.ts
 * and spec/events.md §3). Dependency-free and browser-safe, the encoding
 * counterpart of cbor-canonical.ts: the verifier (agent signatures) and the
 * server (leaves) both use it, so there is one encoder and it needs no
 * Node builtins, no Buffer and no `new Function`.
 *
 * It writes each item once, in order, with every head in its shortest form:
 *  - a safe integer (|n| ≤ 2^53−1) is major type 0 or 1; -0 is the integer 0;
 *  - every other finite number is a float64 (0xfb), never float16/32;
 *  - text is UTF-8; map keys are sorted by their encoded bytes (cbor-keys.ts);
 *  - definite lengths only.
 * Errors: TypeError for anything outside the JSON data model, RangeError
 * beyond MAX_CBOR_DEPTH (keys visited in sorted order, depth first). The
 * tests check byte equality and the same errors against an independent
 * encoder built on cbor-x (test/events/cbor-x-oracle.ts), which this module
 * replaced on the server: as fast or faster (bench/cbor.mjs, spec/events.md §3.1).
 */

import { sortKeys, utf8Length } from './cbor-keys.js';
import { isPlainObject, isWellFormedString } from './json.js';
import { MAX_CBOR_DEPTH } from './limits.js';

const TWO_32 = 0x1_0000_0000;

/** A growable byte buffer. */
class Writer {
  buf: Uint8Array;
  view: DataView;
  p = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.p + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.p));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A head: major type and argument (0 ≤ arg ≤ 2^53−1), shortest form. */
  head(major: number, arg: number): void {
    this.ensure(9);
    const m = major << 5;
    const b = this.buf;
    if (arg < 24) b[this.p++] = m | arg;
    else if (arg < 0x100) {
      b[this.p++] = m | 24;
      b[this.p++] = arg;
    } else if (arg < 0x1_0000) {
      b[this.p++] = m | 25;
      this.view.setUint16(this.p, arg);
      this.p += 2;
    } else if (arg < TWO_32) {
      b[this.p++] = m | 26;
      this.view.setUint32(this.p, arg);
      this.p += 4;
    } else {
      b[this.p++] = m | 27;
      this.view.setUint32(this.p, Math.floor(arg / TWO_32));
      this.view.setUint32(this.p + 4, arg >>> 0);
      this.p += 8;
    }
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.p++] = 0xfb;
    this.view.setFloat64(this.p, v);
    this.p += 8;
  }

  /** A text string; `s` must be well-formed (checked by the caller). */
  text(s: string): void {
    if (s.length >= LONG_TEXT) return this.longText(s);
    const n = utf8Length(s);
    this.head(3, n);
    this.ensure(n);
    const b = this.buf;
    let p = this.p;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) b[p++] = c;
      else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff) {
        // A high surrogate: well-formedness guarantees the low one follows.
        c = 0x1_0000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        b[p++] = 0xf0 | (c >> 18);
        b[p++] = 0x80 | ((c >> 12) & 0x3f);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      } else {
        b[p++] = 0xe0 | (c >> 12);
        b[p++] = 0x80 | ((c >> 6) & 0x3f);
        b[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.p = p;
  }

  /**
   * Long strings go through TextEncoder (native, several times faster past a
   * few dozen characters). The head's size must be known before the bytes, so
   * it is sized for the worst case (3 bytes per UTF-16 unit) and the bytes
   * are moved back when the real length needs a shorter head.
   */
  private longText(s: string): void {
    const max = s.length * 3;
    const headLen = headSize(max);
    this.ensure(headLen + max);
    const start = this.p;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start + headLen));
    const realHead = headSize(written);
    if (realHead !== headLen) this.buf.copyWithin(start + realHead, start + headLen, start + headLen + written);
    this.head(3, written);
    this.p = start + realHead + written;
  }
}

/** Strings at least this long (UTF-16 units) are encoded with TextEncoder. */
const LONG_TEXT = 64;
const textEncoder = new TextEncoder();

/** Bytes a shortest-form head takes for `arg`. */
function headSize(arg: number): number {
  return arg < 24 ? 1 : arg < 0x100 ? 2 : arg < 0x1_0000 ? 3 : arg < TWO_32 ? 5 : 9;
}

function write(w: Writer, v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      if (!isWellFormedString(v)) throw new TypeError('encodeCanonical: string is not valid Unicode (unpaired surrogate)');
      w.text(v);
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('encodeCanonical: NaN and infinities cannot be encoded');
      if (!Number.isSafeInteger(v)) w.float64(v);
      else if (v >= 0) w.head(0, v); // -0 too: m | -0 is 0, the integer 0
      else w.head(1, -1 - v);
      return;
    case 'boolean':
      w.ensure(1);
      w.buf[w.p++] = v ? 0xf5 : 0xf4;
      return;
    case 'object': {
      if (v === null) {
        w.ensure(1);
        w.buf[w.p++] = 0xf6;
        return;
      }
      if (depth >= MAX_CBOR_DEPTH) throw new RangeError(`encodeCanonical: nesting deeper than ${MAX_CBOR_DEPTH} levels`);
      if (Array.isArray(v)) {
        w.head(4, v.length);
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new TypeError('encodeCanonical: arrays must not have holes');
          write(w, v[i], depth + 1);
        }
        return;
      }
      if (isPlainObject(v)) {
        const keys = sortKeys(Object.keys(v));
        w.head(5, keys.length);
        for (const k of keys) {
          if (!isWellFormedString(k)) throw new TypeError('encodeCanonical: key is not valid Unicode (unpaired surrogate)');
          w.text(k);
          write(w, v[k], depth + 1);
        }
        return;
      }
      throw new TypeError('encodeCanonical: only JSON values (plain objects, arrays, strings, finite numbers, booleans, null) can be encoded');
    }
    default:
      throw new TypeError(`encodeCanonical: a ${typeof v} is not a JSON value`);
  }
}

// One scratch buffer, reused across calls; `busy` guards the (odd) case of a
// getter on the value calling the encoder again while it runs.
let scratch: Writer | undefined;
let busy = false;

/**
 * Encodes a JSON value as deterministic CBOR. The same value always gives
 * the same bytes, whatever its key order; the result is a fresh Uint8Array
 * the caller owns.
 *
 * @throws TypeError for anything outside the JSON data model (NaN, ±Infinity,
 *   undefined, bigint, Maps, byte arrays, lone surrogates, array holes) and
 *   RangeError beyond 128 levels of nesting.
 */
export function encodeCanonical(value: unknown): Uint8Array {
  const w = busy ? new Writer(256) : (scratch ??= new Writer(4096));
  const shared = !busy;
  busy = true;
  w.p = 0;
  try {
    write(w, value, 0);
    return w.buf.slice(0, w.p);
  } finally {
    if (shared) {
      busy = false;
      // Don't keep a buffer grown for one huge value alive forever.
      if (w.buf.length > 1 << 20) scratch = undefined;
    }
  }
}
