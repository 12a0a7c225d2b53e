/**
 * Byte helpers shared by the pure modules (merkle, note, events, verifier).
 * Uint8Array only: no Buffer, no node:* imports, so the verifier bundles for browsers.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;

const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));

/**
 * Standard padded base64 (RFC 4648 §4), the encoding of every hash on the wire.
 * Writes ASCII codes into a byte array and turns it into a string at once:
 * on the receipt path this measured about twice as fast as concatenation.
 */
export function toBase64(bytes: Uint8Array): string {
  if (nativeToBase64 !== undefined) return nativeToBase64(bytes);
  return portableToBase64(bytes);
}

let nativeToBase64: ((bytes: Uint8Array) => string) | undefined;

/**
 * Installs a platform base64 encoder (the server passes Buffer's, several
 * times faster on the receipt path). This module itself never names a
 * platform API, so browser bundles stay pure; the encoder must produce
 * exactly what the portable one does (tested).
 */
export function useNativeBase64(encode: (bytes: Uint8Array) => string): void {
  nativeToBase64 = encode;
}

/** The portable encoder, always available. */
export function portableToBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let i = 0;
  let o = 0;
  for (const whole = n - (n % 3); i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = B64_CODES[(v >> 6) & 63]!;
    out[o++] = B64_CODES[v & 63]!;
  }
  if (n - i === 1) {
    const v = bytes[i]! << 16;
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = 61;
    out[o++] = 61;
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = B64_CODES[(v >> 6) & 63]!;
    out[o++] = 61;
  }
  // fromCharCode in bounded chunks: engines cap the argument count of apply.
  if (out.length <= 8192) return String.fromCharCode.apply(null, out as unknown as number[]);
  let s = '';
  for (let j = 0; j < out.length; j += 8192) s += String.fromCharCode.apply(null, out.subarray(j, j + 8192) as unknown as number[]);
  return s;
}

/**
 * Decodes standard padded base64. Returns undefined on anything that is not
 * (length not a multiple of 4, a character outside the alphabet, misplaced
 * padding), so attacker input never throws a SyntaxError.
 *
 * Like Go's base64.StdEncoding it tolerates non-zero trailing bits: a signature
 * line garbled that way must fail as a bad signature, not as a parse error
 * (see shared/specs/signed-note.md).
 */
export function fromBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0) return undefined;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* '=' */) {
        if (!last || j < 4 - pad) return undefined;
        v = 0;
      } else {
        v = c < 128 ? B64_LOOKUP[c]! : -1;
        if (v < 0) return undefined;
      }
      n = (n << 6) | v;
    }
    out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Not constant-time: for public data (hashes, roots). Secrets use timingSafeEqual on the server. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order, used for canonical CBOR map keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/** Strict UTF-8 decode; undefined for invalid sequences. */
export function fromUtf8(b: Uint8Array): string | undefined {
  try {
    return dec.decode(b);
  } catch {
    return undefined;
  }
}
