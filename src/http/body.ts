/**
 * Request bodies: read raw with a size limit (express.raw answers 413 from
 * Content-Length before reading), then decode by Content-Type ourselves so
 * every failure has a stable code: strict UTF-8, a nesting pre-scan before
 * JSON.parse (deep input can't reach a recursive parser; duplicate keys are
 * refused, I-JSON), and strict CBOR.
 */

import express, { type RequestHandler, type Request } from 'express';
import { fromUtf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { decodeCborBody } from '../events/index.js';

export const MAX_JSON_DEPTH = 64;

export function rawBody(limit: number): RequestHandler {
  return express.raw({ type: () => true, limit });
}

/** Depth of [ and { outside strings; stops early past `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  return scanJson(text, max) === 'too-deep';
}

/**
 * One pass over JSON text before JSON.parse, which would accept both:
 * nesting deeper than `max` ([ and { outside strings), and an object with
 * the same key twice (I-JSON, RFC 7493 §2.3: JSON.parse keeps the last one,
 * other parsers the first, so a duplicate makes the event mean two things).
 * A string is a key when it follows { or , directly inside an object. Keys
 * with escapes are compared decoded. Text that is not JSON is left for
 * JSON.parse to reject; this never throws.
 */
export function scanJson(text: string, max: number): 'too-deep' | 'duplicate-key' | undefined {
  // One entry per open container: a Set of keys for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let last = 0; // last significant character outside strings
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) {
          escaped = true;
          i++;
        } else if (d === 34) break;
      }
      const keys = stack.length > 0 ? stack[stack.length - 1] : null;
      if (keys && (last === 123 || last === 44) /* { or , */) {
        let key: string | undefined = text.slice(start + 1, i);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(start, i + 1)) as string;
          } catch {
            key = undefined; // not a valid string: JSON.parse will say so
          }
        }
        if (key !== undefined) {
          if (keys.has(key)) return 'duplicate-key';
          keys.add(key);
        }
      }
      last = 34;
    } else if (c === 123 || c === 91) {
      if (stack.length >= max) return 'too-deep';
      stack.push(c === 123 ? new Set() : null);
      last = c;
    } else if (c === 125 || c === 93) {
      stack.pop();
      last = c;
    } else if (c !== 32 && c !== 9 && c !== 10 && c !== 13) last = c;
  }
  return undefined;
}

/** The decoded body of a JSON or CBOR request. */
export function decodeBody(req: Request): unknown {
  const raw: unknown = req.body;
  return decodeRequestBody(req.headers['content-type'], raw instanceof Uint8Array ? raw : new Uint8Array(0));
}

/**
 * Decodes a body by its Content-Type. Pure over its inputs (fuzzed in
 * test/hostile/fuzz.test.ts): returns a JSON-model value or throws a
 * TlogError (MALFORMED_JSON, MALFORMED_CBOR, NESTING_TOO_DEEP,
 * UNSUPPORTED_MEDIA_TYPE), nothing else.
 */
export function decodeRequestBody(contentType: string | undefined, bytes: Uint8Array): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === '' || type.endsWith('+json')) {
    if (bytes.length === 0) throw new TlogError('MALFORMED_JSON', 'the request body is empty');
    const text = fromUtf8(bytes);
    if (text === undefined) throw new TlogError('MALFORMED_JSON', 'the request body is not valid UTF-8');
    const scan = scanJson(text, MAX_JSON_DEPTH);
    if (scan === 'too-deep') throw new TlogError('NESTING_TOO_DEEP', `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    if (scan === 'duplicate-key') throw new TlogError('MALFORMED_JSON', 'an object in the request body has the same key twice');
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      // V8's message quotes the body, which may hold secrets: keep only the position.
      // V8 counts UTF-16 code units; the message names the byte in the body as sent (UTF-8).
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      const offset = at === undefined ? undefined : new TextEncoder().encode(text.slice(0, Number(at))).length;
      throw new TlogError('MALFORMED_JSON', `the request body is not valid JSON${offset !== undefined ? ` (at byte offset ${offset})` : ''}`);
    }
  }
  if (type === 'application/cbor') return decodeCborBody(bytes);
  throw new TlogError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/cbor');
}
