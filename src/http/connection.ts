/**
 * Closing a connection after an answer given before the request's body was
 * read: a body too large, a body that does not fit the memory budget, a
 * request whose `Expect: 100-continue` was refused. The unread body makes the
 * connection unusable for a next request, so the answer says
 * `Connection: close` and the server closes it once the answer is flushed.
 *
 * Closing a socket with unread bytes in its receive buffer sends the peer a
 * TCP reset, which can make the client drop the answer it has not read yet.
 * So the close lingers, as Go's and Apache's servers do: the server sends its
 * FIN after the answer, keeps discarding what still arrives, and drops the
 * connection when the peer closes its side or LINGER_MS later, whichever is
 * first. Requests that arrive on a closing connection are never handled.
 */

import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a closing connection keeps discarding input after the answer, ms. */
export const LINGER_MS = 500;

/** A declared body up to this size is read and discarded after an early answer, keeping the connection. */
export const SKIPPABLE_BODY = 65_536;

const CLOSING = Symbol('tlog.closing');
const LINGERS = Symbol('tlog.lingers');
const AWAITS_CONTINUE = Symbol('tlog.awaitsContinue');

type Marked = Socket & { [CLOSING]?: true; [LINGERS]?: true };
type Awaiting = IncomingMessage & { [AWAITS_CONTINUE]?: true };

/**
 * Makes node's close of `socket` (after a `Connection: close` answer) a
 * lingering one. node:http closes such a connection with
 * `socket.destroySoon()` once the answer is written; this replaces that
 * method on this one socket.
 */
function lingerOnClose(socket: Socket | null | undefined): void {
  const s = socket as Marked | null | undefined;
  if (!s || s[LINGERS]) return;
  s[LINGERS] = true;
  s.destroySoon = function (this: Marked) {
    this[CLOSING] = true;
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.resume();
  };
}

/**
 * The answer about to be sent closes the connection (after the answer is
 * flushed, with a lingering close), and nothing more is read from it as a
 * request.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  lingerOnClose(req.socket);
  (req.socket as Marked)[CLOSING] = true;
  // Whatever of the body still arrives is discarded, not buffered.
  req.resume();
}

/**
 * For every request: an answer that goes out while the request's body has
 * not all arrived (a 401, a 429, a 404, any refusal before the body is read)
 * closes the connection if the body is chunked or declared larger than
 * SKIPPABLE_BODY, so the server does not go on reading and discarding a body
 * nobody will use (node would, to reuse the connection: gigabytes at line
 * rate, until the request timeout). A body that has all arrived leaves the
 * connection open. A client still waiting for `100 Continue` may or may not
 * send its body after the answer: that connection closes whatever the size.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (!hasBody(req)) return;
  const r = req as Awaiting;
  // A small declared body costs little to skip, and closing would cost the client a new
  // connection for each refusal (a 429 flood): only chunked or larger bodies close.
  const large = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > SKIPPABLE_BODY;
  if (!large && !r[AWAITS_CONTINUE]) return;
  // Decided when the answer's head is written.
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (r[AWAITS_CONTINUE] || (large && !req.complete)) closeAfterAnswer(req, this);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/** True on a connection the server is closing: a request read from it is not handled. */
export function isClosing(req: IncomingMessage): boolean {
  return (req.socket as Marked | null)?.[CLOSING] === true;
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/**
 * node:http's 'checkContinue' listener: a request with `Expect: 100-continue`
 * gets `100 Continue` only when the route is about to read its body, after
 * authentication, the rate limit, the size check and the memory budget
 * (`continueIfAwaited` in src/http/body.ts). Any answer given before that
 * closes the connection (closeIfBodyUnread): the client may or may not send
 * the body anyway, so the connection cannot carry a next request.
 */
export function expectContinue(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (hasBody(req)) (req as Awaiting)[AWAITS_CONTINUE] = true;
    handler(req, res);
  };
}

/** Sends `100 Continue` if the client waits for it, and keeps the connection open as usual. */
export function continueIfAwaited(req: Request, res: Response): void {
  const r = req as Request & Awaiting;
  if (!r[AWAITS_CONTINUE]) return;
  delete r[AWAITS_CONTINUE];
  res.writeContinue();
}
