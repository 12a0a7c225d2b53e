/**
 * Turns anything thrown in a handler into the one JSON error shape
 * `{ "error": { "code", "message", ...details } }`. Statuses come from the
 * registry in src/errors.ts; this file only reads them.
 */

import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ERRORS, TlogError, type ErrorCode } from '../errors.js';
import { sendJson } from './json.js';

export function sendError(res: Response, e: TlogError): void {
  if (e.retryAfter !== undefined) res.setHeader('Retry-After', String(e.retryAfter));
  sendJson(res, e.status, { error: { code: e.code, message: e.message, ...(e.details ?? {}) } });
}

/** body-parser / raw-body errors carry a `type`; map the ones a client can cause. */
const PARSER_ERRORS: Record<string, ErrorCode> = {
  'entity.too.large': 'BODY_TOO_LARGE',
  'request.size.invalid': 'BODY_TOO_LARGE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'INVALID_PARAMETER',
  'entity.verify.failed': 'INVALID_PARAMETER',
};

/**
 * The matched route's pattern (`/v1/subjects/:id`), never the URL: a path
 * can carry a subject id, which must not reach a log line.
 */
function routePattern(req: { route?: { path?: unknown } }): string {
  return typeof req.route?.path === 'string' ? req.route.path : '(no route)';
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof TlogError) {
      if (err.status >= 500 && err.code !== 'OVERLOADED' && err.code !== 'LOG_UNAVAILABLE')
        log.error({ err, method: req.method, route: routePattern(req) }, 'request failed');
      return sendError(res, err);
    }
    const type = (err as { type?: unknown })?.type;
    if (typeof type === 'string' && type in PARSER_ERRORS) {
      const code = PARSER_ERRORS[type]!;
      const msg = code === 'BODY_TOO_LARGE' ? 'the request body exceeds the limit for this route' : `the request body could not be read (${type})`;
      return sendError(res, new TlogError(code, msg));
    }
    // Other client errors from express's parts (a bad percent-escape in the
    // path, a body that fails to decompress) carry a 4xx status. Their
    // messages may quote the input, so only the status is kept.
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
