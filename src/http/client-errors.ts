/**
 * Answers for requests that never reach express: the HTTP parser rejected
 * them (smuggling attempts such as Content-Length with Transfer-Encoding,
 * bad chunking, junk), their headers were too large, or they were too slow
 * (headers or body past the server's timeouts), or they ask for a CONNECT
 * tunnel. Node's default is a bare status line or a silent close; ours is
 * the usual JSON error with a stable code and the security headers, then the
 * connection is closed.
 *
 * The log line names only the parser's code and the peer address: the
 * error's `rawPacket` holds the request bytes, Authorization header included.
 */

import type { RequestHandler } from 'express';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ERRORS, TlogError, type ErrorCode } from '../errors.js';
import { SECURITY_HEADERS } from './security-headers.js';

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

export function clientErrorAnswer(nodeCode: string | undefined): { code: ErrorCode; message: string } | undefined {
  switch (nodeCode) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the peer is gone: nobody to answer
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'REQUEST_TIMEOUT', message: 'the request was not received in time (headers or body too slow)' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'HEADERS_TOO_LARGE', message: 'the request headers are too large' };
    default:
      return { code: 'MALFORMED_REQUEST', message: 'the request is not valid HTTP/1.1' };
  }
}

/** Writes one JSON error answer on a raw socket and closes it (no response object exists here). */
function answerRaw(socket: Duplex, code: ErrorCode, message: string): void {
  const status = ERRORS[code].status;
  const body = JSON.stringify({ error: { code, message } });
  const headers = Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
  );
}

export function handleClientError(logger: Logger): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    const answer = clientErrorAnswer(err.code);
    logger.debug({ code: err.code, remote: (socket as Socket).remoteAddress }, 'client error');
    // Answer only if no response has started on this connection.
    const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (answer && socket.writable && !started) answerRaw(socket, answer.code, answer.message);
    (socket as Socket).destroySoon();
  };
}

/**
 * CONNECT asks for a tunnel, which this server never opens. Node hands such
 * requests to a 'connect' listener or, without one, drops the connection
 * without a word; this answers like any unknown route.
 */
export function handleConnect(socket: Duplex): void {
  answerRaw(socket, 'NOT_FOUND', 'no route for CONNECT on this path');
  (socket as Socket).destroySoon();
}

/**
 * HTTP/1.1 requires a Host header (RFC 9112 §3.2). Node checks it itself but
 * answers with a bare 400; the server turns that check off and does it here
 * to answer with a code like every other error.
 */
export const requireHost: RequestHandler = (req, res, next) => {
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    res.setHeader('Connection', 'close');
    return next(new TlogError('MALFORMED_REQUEST', 'an HTTP/1.1 request needs a Host header'));
  }
  next();
};
