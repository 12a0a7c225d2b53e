/**
 * The vault's stored records. Subject and value records are binary (fixed
 * fields, then length-prefixed strings; spec/privacy.md §2.1 is the
 * contract): they are written once per personal value on the append path
 * and rewritten by every compaction, so JSON with base64 cost both CPU and
 * bytes. The rare records (tombstones, erasure marks, run holds) stay JSON.
 */

import { fromUtf8, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { readU64, writeU64 } from '../storage/layout.js';

type Bytes = Uint8Array;

/** First byte of every binary record: its format version. */
export const RECORD_VERSION = 1;
/** nonce(12) ‖ sealed 32-byte key ‖ tag(16). */
export const WRAPPED_KEY_BYTES = 60;
export const COMMITMENT_BYTES = 32;

export interface SubjectRecord {
  /** The tenant whose events named the subject (the tag is keyed on it too). */
  tenant: string;
  pseudonym: string;
  /** The per-subject AES-256 key, sealed under the master key (nonce ‖ ciphertext ‖ tag). */
  wrapped_key: Bytes;
  created_at: number;
  hold?: { since: number; reason?: string };
}

export interface ValueRecord {
  /** The `pii` name, or the configured path the value was moved from. */
  name: string;
  /** Where the pointer sits in the stored event (`pii.email`, `metadata.customer.email`). */
  path: string;
  event_id: string;
  /** SHA-256(salt ‖ canonical CBOR of the value); also in the leaf (base64). */
  commitment: Bytes;
  /** AES-256-GCM under the subject key of salt(32) ‖ canonical CBOR(value); AAD = pointer. */
  sealed: Bytes;
  created_at: number;
  expires_at: number;
}

export interface Tombstone {
  tenant: string;
  pseudonym: string;
  erased_at: number;
  /** The erasure event exactly as logged, so a retry re-appends the same bytes (idempotent). */
  event: Record<string, unknown>;
}

/** Appends fields to a growing byte buffer. */
class Writer {
  private buf: Uint8Array;
  private n = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.n++] = v;
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
  /** u16 big-endian length, then UTF-8. */
  str(s: string): this {
    // ASCII (names, paths, event ids, pseudonyms) goes straight in: no TextEncoder call.
    if (s.length <= 0xffff && /^[\x00-\x7f]*$/.test(s)) {
      this.room(2 + s.length);
      this.buf[this.n++] = s.length >> 8;
      this.buf[this.n++] = s.length & 0xff;
      for (let i = 0; i < s.length; i++) this.buf[this.n++] = s.charCodeAt(i);
      return this;
    }
    const b = utf8(s);
    if (b.length > 0xffff) throw new RangeError('a vault record string exceeds 65,535 bytes');
    this.room(2);
    this.buf[this.n++] = b.length >> 8;
    this.buf[this.n++] = b.length & 0xff;
    return this.bytes(b);
  }
  done(): Bytes {
    return this.buf.subarray(0, this.n);
  }
}

class Reader {
  private n = 0;
  constructor(
    private readonly b: Bytes,
    private readonly what: string,
  ) {}
  private need(k: number): void {
    if (this.n + k > this.b.length) throw corrupt(this.what);
  }
  u8(): number {
    this.need(1);
    return this.b[this.n++]!;
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
    this.need(2);
    const len = (this.b[this.n]! << 8) | this.b[this.n + 1]!;
    this.n += 2;
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

function corrupt(what: string): TlogError {
  return new TlogError('VAULT_CORRUPT', `a stored ${what} record does not parse`);
}

function version(r: Reader): void {
  if (r.u8() !== RECORD_VERSION) throw new TlogError('VAULT_CORRUPT', 'a vault record has an unknown format version (vaults before record format 1 cannot be read)');
}

/** 0x01 ‖ created_at u64 ‖ wrapped key (60) ‖ str tenant ‖ str pseudonym ‖ hold u8 [‖ since u64 ‖ str reason]. */
export function encodeSubject(rec: SubjectRecord): Bytes {
  if (rec.wrapped_key.length !== WRAPPED_KEY_BYTES) throw new RangeError(`a wrapped key is ${WRAPPED_KEY_BYTES} bytes`);
  const w = new Writer(128).u8(RECORD_VERSION).u64(rec.created_at).bytes(rec.wrapped_key).str(rec.tenant).str(rec.pseudonym);
  if (rec.hold) w.u8(1).u64(rec.hold.since).str(rec.hold.reason ?? '');
  else w.u8(0);
  return w.done();
}

export function decodeSubject(b: Bytes): SubjectRecord {
  const r = new Reader(b, 'subject');
  version(r);
  const created_at = r.u64();
  const wrapped_key = r.bytes(WRAPPED_KEY_BYTES);
  const tenant = r.str();
  const pseudonym = r.str();
  const held = r.u8();
  let hold: SubjectRecord['hold'];
  if (held === 1) {
    const since = r.u64();
    const reason = r.str();
    hold = { since, ...(reason ? { reason } : {}) };
  } else if (held !== 0) throw corrupt('subject');
  r.end();
  return { tenant, pseudonym, wrapped_key, created_at, ...(hold ? { hold } : {}) };
}

/** 0x01 ‖ created_at u64 ‖ expires_at u64 ‖ commitment (32) ‖ str name ‖ str path ‖ str event_id ‖ sealed (the rest). */
export function encodeValue(rec: ValueRecord): Bytes {
  if (rec.commitment.length !== COMMITMENT_BYTES) throw new RangeError(`a commitment is ${COMMITMENT_BYTES} bytes`);
  return new Writer(96 + rec.sealed.length + rec.event_id.length + rec.name.length + rec.path.length)
    .u8(RECORD_VERSION)
    .u64(rec.created_at)
    .u64(rec.expires_at)
    .bytes(rec.commitment)
    .str(rec.name)
    .str(rec.path)
    .str(rec.event_id)
    .bytes(rec.sealed)
    .done();
}

export function decodeValue(b: Bytes): ValueRecord {
  const r = new Reader(b, 'value');
  version(r);
  const created_at = r.u64();
  const expires_at = r.u64();
  const commitment = r.bytes(COMMITMENT_BYTES);
  const name = r.str();
  const path = r.str();
  const event_id = r.str();
  const sealed = r.rest();
  return { name, path, event_id, commitment, sealed, created_at, expires_at };
}

/** expires_at of a value record without decoding the rest (erasure needs only it). */
export function valueExpiresAt(b: Bytes): number {
  if (b.length < 17 || b[0] !== RECORD_VERSION) throw corrupt('value');
  return readU64(b, 9);
}

export const encodeJson = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

export function decodeJson<T>(b: Uint8Array, what: string): T {
  try {
    return JSON.parse(fromUtf8(b) ?? '') as T;
  } catch (e) {
    throw new TlogError('VAULT_CORRUPT', `a stored ${what} record does not parse`, { cause: e });
  }
}
