/**
 * Turns anything thrown in a handler into the one JSON error shape
 * `{ "error": { "code", "message", ...details } }`. Statuses come from the
 * registry in src/errors.ts; this file only reads them.
 */

import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ERRORS, TlogError, type ErrorCode } from '../errors.js';
import { sendJson } from './json.js';

/** Removes secrets from a string (the server's scrub rules: Ingest.text). */
export type Clean = (s: string) => string;

/** Codes whose messages are fixed texts: the flood answers stay as cheap as they were. */
const FIXED_TEXT = new Set<ErrorCode>(['RATE_LIMITED', 'OVERLOADED', 'UNAUTHENTICATED', 'FORBIDDEN']);

/**
 * Answers `e`. With `clean`, its message and every string of its details go
 * through the scrub rules first: a 4xx can quote the client's input (an
 * unknown field's name, an issue's path), and a secret sent as an object key
 * must not come back in an answer, where proxies and client logs keep it.
 */
export function sendError(res: Response, e: TlogError, clean?: Clean): void {
  // A route that failed before its first byte may have set a download's headers (an export): an error is no attachment.
  res.removeHeader('Content-Disposition');
  if (e.retryAfter !== undefined) res.setHeader('Retry-After', String(e.retryAfter));
  sendJson(res, e.status, { error: errorBody(e, clean) });
}

/** `{ code, message, ...details }` of the JSON error shape, scrubbed by `clean` (see sendError); a batch item's answer too. */
export function errorBody(e: TlogError, clean?: Clean): Record<string, unknown> {
  const c = clean && !FIXED_TEXT.has(e.code) ? clean : undefined;
  const details = c && e.details ? (cleanStrings(e.details, c) as Record<string, unknown>) : e.details;
  return { code: e.code, message: c ? c(e.message) : e.message, ...(details ?? {}) };
}

function cleanStrings(v: unknown, clean: Clean): unknown {
  if (typeof v === 'string') return clean(v);
  if (Array.isArray(v)) return v.map((x) => cleanStrings(x, clean));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = cleanStrings(x, clean);
    return o;
  }
  return v;
}

/**
 * The matched route's pattern (`/v1/subjects/:id`), never the URL: a path
 * can carry a subject id, which must not reach a log line.
 */
function routePattern(req: { route?: { path?: unknown } }): string {
  return typeof req.route?.path === 'string' ? req.route.path : '(no route)';
}

export function errorHandler(log: Logger, clean?: Clean): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof TlogError) {
      if (err.status >= 500 && err.code !== 'OVERLOADED' && err.code !== 'LOG_UNAVAILABLE')
        log.error({ err, method: req.method, route: routePattern(req) }, 'request failed');
      return sendError(res, err, clean);
    }
    // Client errors from express's parts (a bad percent-escape in the path)
    // carry a 4xx status. Their messages may quote the input, so only the
    // status is kept. (Bodies are read by src/http/body.ts, which throws TlogErrors.)
    const status = (err as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code: ErrorCode = status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_PARAMETER';
      return sendError(res, new TlogError(code, code === 'INVALID_PARAMETER' ? 'the request path or body could not be decoded' : 'the request body could not be read'));
    }
    // A bug. Log it (never the body) and answer without echoing anything.
    log.error({ err, method: req.method, route: routePattern(req) }, 'unexpected error');
    sendError(res, new TlogError('INTERNAL', 'internal error'));
  };
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, new TlogError('NOT_FOUND', `no route for ${req.method} on this path`));
};

export { ERRORS };
