/**
 * Request bodies: read raw by our own reader, with a size limit and the
 * server's memory budget, then decoded by Content-Type ourselves so every
 * failure has a stable code: strict UTF-8, a nesting pre-scan before
 * JSON.parse (deep input can't reach a recursive parser; duplicate keys are
 * refused, I-JSON), and strict CBOR.
 *
 * The reader (readBody) checks everything it can before reading a byte, and
 * answers at once: a Content-Length past the route's limit is 413, an
 * unknown Content-Encoding 415, a body that does not fit the memory budget
 * (src/limits/body-budget.ts) 503. A chunked body is counted as it arrives,
 * and a compressed one as it inflates: 413 as soon as either passes the
 * limit, 503 as soon as it outgrows the budget. Every answer given before
 * the body was read to its end closes the connection (src/http/connection.ts).
 * `100 Continue` is sent only once all these checks passed.
 */

import type { RequestHandler, Request } from 'express';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { fromUtf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { decodeCborBody } from '../events/index.js';
import type { BodyBudget } from '../limits/body-budget.js';
import { closeAfterAnswer, continueIfAwaited } from './connection.js';

export const MAX_JSON_DEPTH = 64;

/** The Content-Encodings the server decodes (a body's limit applies to its decoded size). */
const DECODERS: Record<string, (() => Transform) | null> = {
  identity: null,
  gzip: createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

const EMPTY = new Uint8Array(0);

function tooLarge(limit: number): TlogError {
  return new TlogError('BODY_TOO_LARGE', `the request body exceeds the limit for this route (${limit} bytes)`);
}

function overloaded(): TlogError {
  return new TlogError('OVERLOADED', 'the server holds as many request bodies as its memory budget allows; retry', { retryAfter: 1 });
}

/**
 * Reads the body into `req.body` (a Uint8Array) within `limit` bytes, both as
 * sent and decoded, and within `budget` (charged to the caller's tenant).
 */
export function readBody(limit: number, budget: BodyBudget): RequestHandler {
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    // node's parser has checked Content-Length: decimal digits, one value, never with Transfer-Encoding.
    const declared = length === undefined ? undefined : Number(length);
    if (!chunked && (declared === undefined || declared === 0)) {
      req.body = EMPTY;
      return next();
    }
    const refuse = (e: TlogError) => {
      closeAfterAnswer(req, res);
      next(e);
    };
    if (declared !== undefined && declared > limit) return refuse(tooLarge(limit));
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase() || 'identity';
    const decoder = Object.prototype.hasOwnProperty.call(DECODERS, encoding) ? DECODERS[encoding] : undefined;
    if (decoder === undefined) return refuse(new TlogError('UNSUPPORTED_MEDIA_TYPE', 'the Content-Encoding must be identity, gzip, deflate or br'));
    const tenant = (res.locals.key as { tenant?: string } | undefined)?.tenant ?? '';
    let reserved = declared ?? 0;
    if (!budget.take(tenant, reserved)) return refuse(overloaded());
    // Given back once, when the exchange ends: answered, failed or aborted. The response's
    // 'close' alone is not enough: an answer queued behind another on a pipelined connection
    // never gets one if the socket dies first. After the release nothing more is taken (an
    // inflate still running after the client left stops at its next chunk).
    let released = false;
    const socket = req.socket;
    const release = () => {
      if (released) return;
      released = true;
      res.off('close', release);
      socket.off('close', release);
      budget.give(tenant, reserved);
      reserved = 0;
    };
    res.once('close', release);
    socket.once('close', release);
    continueIfAwaited(req, res);
    receive(req, limit, decoder, (held) => {
      if (released) return false;
      if (held <= reserved) return true;
      if (!budget.take(tenant, held - reserved)) return false;
      reserved = held;
      return true;
    }).then(
      (body) => {
        req.body = body;
        next();
      },
      (e: TlogError) => {
        // The rest of the body is unread: the connection cannot carry another request. A body
        // that arrived whole and failed to decode leaves it usable.
        if (!req.complete) closeAfterAnswer(req, res);
        next(e);
      },
    );
  };
}

/**
 * Reads `req` (through `decode`, if any) into one buffer. `grow(n)` is asked
 * before the buffered bytes reach `n`; false means the budget is spent.
 */
function receive(req: Request, limit: number, decode: (() => Transform) | null, grow: (n: number) => boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sent = 0; // bytes as sent
    let size = 0; // bytes decoded and held
    let settled = false;
    const inflate = decode ? decode() : undefined;
    const cleanup = () => {
      req.off('data', onSent);
      req.off('end', onSentEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (inflate) {
        inflate.off('data', onDecoded);
        inflate.off('end', onEnd);
        inflate.on('error', () => {});
        inflate.destroy();
      }
    };
    const fail = (e: TlogError) => {
      if (settled) return;
      settled = true;
      cleanup();
      chunks.length = 0;
      reject(e);
    };
    const onDecoded = (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > limit) return fail(tooLarge(limit));
      if (!grow(size)) return fail(overloaded());
      chunks.push(c);
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      cleanup();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      chunks.length = 0;
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    };
    const onSent = (c: Buffer) => {
      if (settled) return;
      sent += c.length;
      if (sent > limit) return fail(tooLarge(limit));
      if (!inflate) return onDecoded(c);
      // Backpressure: a slow inflate pauses the socket rather than buffering its input.
      if (!inflate.write(c)) {
        req.pause();
        inflate.once('drain', () => {
          if (!settled) req.resume();
        });
      }
    };
    const onSentEnd = () => {
      if (settled) return;
      if (inflate) inflate.end();
      else onEnd();
    };
    const onClose = () => {
      if (!req.complete) fail(new TlogError('INVALID_PARAMETER', 'the request body was aborted before its end'));
    };
    if (inflate) {
      inflate.on('data', onDecoded);
      inflate.on('end', onEnd);
      inflate.once('error', () => fail(new TlogError('INVALID_PARAMETER', 'the request body could not be decompressed')));
    }
    req.on('data', onSent);
    req.on('end', onSentEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
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
    const decoded = fromUtf8(bytes);
    if (decoded === undefined) throw new TlogError('MALFORMED_JSON', 'the request body is not valid UTF-8');
    // A leading byte-order mark is ignored (RFC 8259 §8.1); fromUtf8 keeps it, as every other reader needs.
    const bom = decoded.charCodeAt(0) === 0xfeff ? 1 : 0;
    const text = bom ? decoded.slice(1) : decoded;
    const scan = scanJson(text, MAX_JSON_DEPTH);
    if (scan === 'too-deep') throw new TlogError('NESTING_TOO_DEEP', `the JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    if (scan === 'duplicate-key') throw new TlogError('MALFORMED_JSON', 'an object in the request body has the same key twice');
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      // V8's message quotes the body, which may hold secrets: keep only the position.
      // V8 counts UTF-16 code units; the message names the byte in the body as sent (UTF-8).
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      const offset = at === undefined ? undefined : new TextEncoder().encode(decoded.slice(0, Number(at) + bom)).length;
      throw new TlogError('MALFORMED_JSON', `the request body is not valid JSON${offset !== undefined ? ` (at byte offset ${offset})` : ''}`);
    }
  }
  if (type === 'application/cbor') return decodeCborBody(bytes);
  throw new TlogError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/cbor');
}
