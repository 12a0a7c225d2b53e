/**
 * The request and response constructors handed to node:http, built so each
 * object is born with express's prototypes.
 *
 * Why: express's app.handle calls Object.setPrototypeOf on every request and
 * response. In V8 an object whose prototype was swapped survives young-
 * generation collections and is promoted, so every request's whole object
 * graph (socket parser state, headers, closures) was copied by the scavenger
 * and then left for a full GC. Under 1,000 requests/s that made scavenges of
 * 10–40 ms that stalled every connection: the tail latency of issue 7's
 * fairness bench and of queries (measured with --trace-gc; an express hello
 * world shows the same, a raw node:http server does not).
 *
 * Invariant: the object's own prototype is exactly app.request (app.response),
 * so express's setPrototypeOf finds it already in place and V8 changes nothing.
 */

import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface PrototypeSource {
  request: object;
  response: object;
}

export interface RequestClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

// node:http's constructors are plain functions (not ES classes), so they can
// initialise an object made elsewhere. Calling them on `this` keeps V8's
// ordinary construction path; Reflect.construct with a foreign new.target was
// measured and promotes just the same.
type Init = (this: unknown, ...args: unknown[]) => void;
const initRequest = IncomingMessage as unknown as Init;
const initResponse = ServerResponse as unknown as Init;

export function requestClasses(app: PrototypeSource): RequestClasses {
  function AppRequest(this: IncomingMessage, socket: Socket): void {
    initRequest.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, req: IncomingMessage, options?: object): void {
    initResponse.call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}
