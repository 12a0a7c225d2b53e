/**
 * Field-by-field byte writer and reader for the vault's binary records
 * (spec/privacy.md §2.1). Integers are big-endian; `str` is a u16 byte
 * length then UTF-8. A reader that runs off its record, or finds bytes it
 * cannot decode, answers VAULT_CORRUPT, never a wrong value.
 */

import { fromUtf8, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { readU64, writeU64 } from '../storage/layout.js';

type Bytes = Uint8Array;

export function corrupt(what: string): TlogError {
  return new TlogError('VAULT_CORRUPT', `a stored ${what} record does not parse`);
}

/** Appends fields to a growing byte buffer (size it right and it never grows). */
export class Writer {
  private buf: Uint8Array;
  private n = 0;
  /** `alloc`: where the buffer comes from (storage/key-bytes.ts for records written and dropped). */
  constructor(size: number, alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n)) {
    this.buf = alloc(size);
  }
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  /** Bytes written so far. */
  get length(): number {
    return this.n;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.n++] = v;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.n++] = (v >>> 8) & 0xff;
    this.buf[this.n++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf[this.n++] = (v >>> 24) & 0xff;
    this.buf[this.n++] = (v >>> 16) & 0xff;
    this.buf[this.n++] = (v >>> 8) & 0xff;
    this.buf[this.n++] = v & 0xff;
    return this;
  }
  u64(v: number): this {
    this.room(8);
    writeU64(this.buf, this.n, v);
    this.n += 8;
    return this;
  }
  bytes(b: Bytes): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  /** A `str` whose UTF-8 bytes the caller already has (pointers: encoded once, used as key, AAD and field). */
  strBytes(b: Bytes): this {
    if (b.length > 0xffff) throw new RangeError('a vault record string exceeds 65,535 bytes');
    return this.u16(b.length).bytes(b);
  }
  /** u16 big-endian length, then UTF-8. */
  str(s: string): this {
    // ASCII (names, paths, event ids, pseudonyms) goes straight in: no TextEncoder call.
    // Copied as it is checked (one pass, no regex); a non-ASCII unit sends it to UTF-8.
    if (s.length <= 0xffff) {
      this.room(2 + s.length);
      const b = this.buf;
      const at = this.n;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[at + 2 + i] = c;
      }
      if (i === s.length) {
        b[at] = s.length >> 8;
        b[at + 1] = s.length & 0xff;
        this.n = at + 2 + s.length;
        return this;
      }
    }
    return this.strBytes(utf8(s));
  }
  /**
   * Makes room for `k` bytes that the caller fills in place, at the offset
   * returned, in {@link buffer} (read it after this call: making room may
   * move the bytes): the sealed part of a value record goes straight in.
   */
  skip(k: number): number {
    this.room(k);
    const at = this.n;
    this.n += k;
    return at;
  }
  /** The buffer written into (see skip). */
  get buffer(): Bytes {
    return this.buf;
  }
  /** What was written (a view: later writes do not change it unless the buffer is reused, which it never is). */
  done(): Bytes {
    return this.buf.subarray(0, this.n);
  }
}

export class Reader {
  private n = 0;
  constructor(
    private readonly b: Bytes,
    private readonly what: string,
  ) {}
  /** Bytes read so far. */
  get offset(): number {
    return this.n;
  }
  private need(k: number): void {
    if (this.n + k > this.b.length) throw corrupt(this.what);
  }
  u8(): number {
    this.need(1);
    return this.b[this.n++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.b[this.n]! << 8) | this.b[this.n + 1]!;
    this.n += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = ((this.b[this.n]! << 24) >>> 0) + ((this.b[this.n + 1]! << 16) | (this.b[this.n + 2]! << 8) | this.b[this.n + 3]!);
    this.n += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    let v: number;
    try {
      v = readU64(this.b, this.n);
    } catch {
      throw corrupt(this.what);
    }
    this.n += 8;
    return v;
  }
  bytes(k: number): Bytes {
    this.need(k);
    // A copy: LevelDB's buffer must not be kept alive by a slice of it.
    const out = this.b.slice(this.n, this.n + k);
    this.n += k;
    return out;
  }
  str(): string {
    const len = this.u16();
    this.need(len);
    const s = fromUtf8(this.b.subarray(this.n, this.n + len));
    if (s === undefined) throw corrupt(this.what);
    this.n += len;
    return s;
  }
  rest(): Bytes {
    return this.bytes(this.b.length - this.n);
  }
  end(): void {
    if (this.n !== this.b.length) throw corrupt(this.what);
  }
}
