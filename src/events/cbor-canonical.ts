/**
 * A strict decoder for the log's deterministic CBOR (the rules are in
 * cbor.ts and spec/events.md). Pure, dependency-free and browser-safe: the
 * verifier uses it instead of cbor-x, whose Node entry point loads
 * `module`/`process` and whose decoder compiles code with `new Function`
 * (refused by a strict Content-Security-Policy).
 *
 * Instead of decoding leniently and re-encoding to compare bytes, it checks
 * every canonical rule while it reads, so one pass both decodes and proves
 * that no other encoding of the same value was used:
 *  - every head in its shortest form, definite lengths only;
 *  - integers within ±(2^53−1); every other number a float64 that is not a
 *    safe integer and not −0, never NaN or ±∞; no float16/float32;
 *  - map keys are text, in strictly increasing order of their encoded bytes.
 */

import { TlogError } from '../errors.js';
import { scanCbor } from './cbor-scan.js';
import { setOwn } from './json.js';
import { MAX_CBOR_DEPTH } from './limits.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function notCanonical(why: string, at: number): TlogError {
  return new TlogError('NOT_CANONICAL', `the bytes are not the deterministic CBOR encoding of their content (byte ${at}: ${why})`);
}

/** Smallest argument each additional-information value may carry (24 → 1 byte, …). */
const MIN_ARG: Record<number, number> = { 24: 24, 25: 0x100, 26: 0x1_0000, 27: 0x1_0000_0000 };

class Reader {
  p = 0;
  private readonly view: DataView;
  constructor(readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Reads a head; returns [major, info, argument]. The 8-byte argument is exact only up to 2^53. */
  head(): [number, number, number] {
    const start = this.p;
    const ib = this.b[this.p++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (major === 7) return [major, info, 0];
    let arg = info;
    if (info === 24) arg = this.b[this.p++]!;
    else if (info === 25) {
      arg = this.view.getUint16(this.p);
      this.p += 2;
    } else if (info === 26) {
      arg = this.view.getUint32(this.p);
      this.p += 4;
    } else if (info === 27) {
      const hi = this.view.getUint32(this.p);
      const lo = this.view.getUint32(this.p + 4);
      this.p += 8;
      // Beyond 2^53−1 no value of ours is an integer or a length: refuse before precision is lost.
      if (hi >= 0x20_0000) throw notCanonical('integer beyond ±(2^53−1) (the encoding uses float64 for those)', start);
      arg = hi * 0x1_0000_0000 + lo;
    } else if (info === 31) {
      throw notCanonical('indefinite length', start);
    }
    if (info >= 24 && arg < MIN_ARG[info]!) throw notCanonical('a head longer than needed', start);
    return [major, info, arg];
  }

  item(): unknown {
    const start = this.p;
    const [major, info, arg] = this.head();
    switch (major) {
      case 0:
        return arg;
      case 1:
        if (arg > Number.MAX_SAFE_INTEGER - 1) throw notCanonical('integer beyond ±(2^53−1) (the encoding uses float64 for those)', start);
        return -1 - arg;
      case 3:
        return this.text(arg);
      case 4: {
        const out = new Array<unknown>(arg);
        for (let i = 0; i < arg; i++) out[i] = this.item();
        return out;
      }
      case 5: {
        const out: Record<string, unknown> = {};
        let prevStart = -1;
        let prevEnd = -1;
        for (let i = 0; i < arg; i++) {
          const keyStart = this.p;
          const [, , len] = this.head(); // scanCbor guaranteed a text key
          const key = this.text(len);
          if (prevStart >= 0 && compareBytes(this.b, prevStart, prevEnd, keyStart, this.p) >= 0) throw notCanonical('map keys out of order', keyStart);
          prevStart = keyStart;
          prevEnd = this.p;
          setOwn(out, key, this.item());
        }
        return out;
      }
      case 7:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 27) {
          const v = this.view.getFloat64(this.p);
          this.p += 8;
          if (Number.isSafeInteger(v)) throw notCanonical('an integral float (must be an integer)', start);
          return v;
        }
        throw notCanonical('a float16 or float32 (floats are always 64-bit)', start);
      default:
        // Byte strings and tags never pass scanCbor.
        throw new TlogError('MALFORMED', `not valid CBOR for this log at byte ${start}`);
    }
  }

  /**
   * The same canonical checks as item(), without building the value: for
   * callers that only need to know the bytes are canonical (the monitor,
   * checking every leaf of a log).
   */
  skip(): void {
    const start = this.p;
    const [major, info, arg] = this.head();
    switch (major) {
      case 0:
        return;
      case 1:
        if (arg > Number.MAX_SAFE_INTEGER - 1) throw notCanonical('integer beyond ±(2^53−1) (the encoding uses float64 for those)', start);
        return;
      case 3:
        this.p += arg; // UTF-8 validity was checked by scanCbor
        return;
      case 4:
        for (let i = 0; i < arg; i++) this.skip();
        return;
      case 5: {
        let prevStart = -1;
        let prevEnd = -1;
        for (let i = 0; i < arg; i++) {
          const keyStart = this.p;
          const [, , len] = this.head();
          this.p += len;
          if (prevStart >= 0 && compareBytes(this.b, prevStart, prevEnd, keyStart, this.p) >= 0) throw notCanonical('map keys out of order', keyStart);
          prevStart = keyStart;
          prevEnd = this.p;
          this.skip();
        }
        return;
      }
      case 7:
        if (info === 20 || info === 21 || info === 22) return;
        if (info === 27) {
          const v = this.view.getFloat64(this.p);
          this.p += 8;
          if (Number.isSafeInteger(v)) throw notCanonical('an integral float (must be an integer)', start);
          return;
        }
        throw notCanonical('a float16 or float32 (floats are always 64-bit)', start);
      default:
        throw new TlogError('MALFORMED', `not valid CBOR for this log at byte ${start}`);
    }
  }

  private text(len: number): string {
    const b = this.b;
    const start = this.p;
    const end = start + len;
    this.p = end;
    // Short ASCII strings (keys, ids) are far cheaper to build by hand than
    // through TextDecoder; anything else goes to the fatal decoder (UTF-8
    // validity was already checked by scanCbor).
    if (len <= 64) {
      for (let i = start; i < end; i++) if (b[i]! >= 0x80) return utf8.decode(b.subarray(start, end));
      return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
    }
    return utf8.decode(b.subarray(start, end));
  }
}

/** Lexicographic comparison of b[a0..a1) and b[c0..c1). */
function compareBytes(b: Uint8Array, a0: number, a1: number, c0: number, c1: number): number {
  const n = Math.min(a1 - a0, c1 - c0);
  for (let i = 0; i < n; i++) {
    const d = b[a0 + i]! - b[c0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (c1 - c0);
}

/**
 * Decodes deterministic CBOR (a leaf) into a JSON value, proving on the way
 * that the bytes are the only encoding of that value.
 *
 * @throws TlogError `MALFORMED` for bytes that are not one well-formed item
 *   of the JSON data model (see scanCbor), `NOT_CANONICAL` for well-formed
 *   CBOR in another encoding. Never throws anything else.
 */
export function decodeCanonicalStrict(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new TlogError('MALFORMED', 'a leaf must be bytes');
  // Well-formedness (truncation, types, UTF-8, duplicates, depth) first, so
  // the recursive pass below only ever sees bounded, complete input.
  scanCbor(bytes, { maxDepth: MAX_CBOR_DEPTH, code: 'MALFORMED', depthCode: 'MALFORMED', finiteOnly: true });
  try {
    return new Reader(bytes).item();
  } catch (e) {
    if (e instanceof TlogError) throw e;
    throw new TlogError('MALFORMED', 'the CBOR could not be decoded', { cause: e });
  }
}

/**
 * {@link decodeCanonicalStrict} without building the value: the same checks,
 * the same errors, in a fraction of the time. Returns a reader positioned at
 * the start, for callers that then inspect a few fields.
 *
 * @throws TlogError `MALFORMED` or `NOT_CANONICAL`, exactly when
 *   decodeCanonicalStrict would.
 */
export function checkCanonical(bytes: Uint8Array): CanonicalReader {
  if (!(bytes instanceof Uint8Array)) throw new TlogError('MALFORMED', 'a leaf must be bytes');
  scanCbor(bytes, { maxDepth: MAX_CBOR_DEPTH, code: 'MALFORMED', depthCode: 'MALFORMED', finiteOnly: true });
  const r = new Reader(bytes);
  try {
    r.skip();
  } catch (e) {
    if (e instanceof TlogError) throw e;
    throw new TlogError('MALFORMED', 'the CBOR could not be decoded', { cause: e });
  }
  r.p = 0;
  return r;
}

/** A reader over bytes already known to be canonical (from {@link checkCanonical}). */
export interface CanonicalReader {
  p: number;
  readonly b: Uint8Array;
  /** [major type, additional info, argument] of the next head. */
  head(): [number, number, number];
  item(): unknown;
  skip(): void;
}
