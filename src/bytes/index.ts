/**
 * Byte helpers shared by the pure modules (merkle, note, events, verifier).
 * Uint8Array only: no Buffer, no node:* imports, so the verifier bundles for browsers.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;

// Two base64 characters per 12 bits: one table lookup per 1.5 input bytes.
const B64_PAIRS: string[] = [];
for (let i = 0; i < 4096; i++) B64_PAIRS.push(B64[i >> 6]! + B64[i & 63]!);

/** Standard padded base64 (RFC 4648 §4), the encoding of every hash on the wire. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  const whole = bytes.length - (bytes.length % 3);
  for (; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    parts.push(B64_PAIRS[n >> 12]! + B64_PAIRS[n & 4095]!);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    parts.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + '==');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    parts.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=');
  }
  return parts.join('');
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
const dec = new TextDecoder('utf-8', { fatal: true });

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
