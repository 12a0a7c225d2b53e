/**
 * Request bodies: read raw with a size limit (express.raw answers 413 from
 * Content-Length before reading), then decode by Content-Type ourselves so
 * every failure has a stable code: strict UTF-8, a nesting pre-scan before
 * JSON.parse (deep input can't reach a recursive parser), and strict CBOR.
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
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/** The decoded body of a JSON or CBOR request. */
export function decodeBody(req: Request): unknown {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const raw: unknown = req.body;
  const bytes = raw instanceof Uint8Array ? raw : new Uint8Array(0);
  if (type === 'application/json' || type === '' || type.endsWith('+json')) {
    if (bytes.length === 0) throw new TlogError('MALFORMED_JSON', 'the request body is empty');
    const text = fromUtf8(bytes);
    if (text === undefined) throw new TlogError('MALFORMED_JSON', 'the request body is not valid UTF-8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw new TlogError('NESTING_TOO_DEEP', `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      // V8's message quotes the body, which may hold secrets: keep only the position.
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      throw new TlogError('MALFORMED_JSON', `the request body is not valid JSON${at !== undefined ? ` (at byte offset ${at})` : ''}`);
    }
  }
  if (type === 'application/cbor') return decodeCborBody(bytes);
  throw new TlogError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/cbor');
}
