/** Builds the express app from the route table. */

import express, { type RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { guardFor } from './auth.js';
import { readBody } from './body.js';
import { closeIfBodyUnread, isClosing } from './connection.js';
import { BodyBudget } from '../limits/body-budget.js';
import { type Clean, errorHandler, notFound, sendError } from './errors.js';
import { TlogError } from '../errors.js';
import { FairTurns, MAX_WAITING_TURNS } from '../limits/fair-turns.js';
import { RateLimits, rateLimitConfig } from '../limits/rate-limits.js';
import { rateLimit } from './rate-limit.js';
import { fairTurn } from './fair-turn.js';
import { requireHost } from './client-errors.js';
import { ROUTES } from './routes.js';
import { SECURITY_HEADERS } from './security-headers.js';

const HEADERS = Object.entries(SECURITY_HEADERS);

/**
 * Runs before routing, on every request: the security headers (this is an
 * API, never a page to frame or sniff), then the Host check. One middleware,
 * not two: every layer express walks costs a few µs per request.
 */
const everyRequest: RequestHandler = (req, res, next) => {
  // A request read from a connection the server is closing (after an answer
  // given before a body was read) is not handled: its bytes are discarded.
  if (isClosing(req)) {
    req.resume();
    return;
  }
  closeIfBodyUnread(req, res);
  for (let i = 0; i < HEADERS.length; i++) res.setHeader(HEADERS[i]![0], HEADERS[i]![1]);
  requireHost(req, res, next);
};

/**
 * Runs one step of a route's chain, answering a client error (a TlogError
 * under 500) at once. Passed to next(err), it would make express walk every
 * remaining route looking for an error handler: that made a 429 cost more
 * than an append, and refusals are what a flood produces. Anything else
 * (5xx, express's own errors) still goes to errorHandler, which logs it.
 */
function answeringClientErrors(step: RequestHandler, clean: Clean): RequestHandler {
  return (req, res, next) => {
    // A request pipelined behind one whose answer closes the connection was
    // parsed before that answer: it must not act (append, erase) unanswered.
    if (isClosing(req)) {
      req.resume();
      return;
    }
    const fail = (e: unknown) => {
      if (e instanceof TlogError && e.status < 500 && !res.headersSent) sendError(res, e, clean);
      else next(e);
    };
    try {
      const r: unknown = step(req, res, (err?: unknown) => (err ? fail(err) : next()));
      if (r instanceof Promise) r.catch(fail);
    } catch (e) {
      fail(e);
    }
  };
}

export function createApp(
  input: Omit<AppContext, 'rateLimits' | 'turns' | 'bodyBudget'> & { rateLimits?: RateLimits; turns?: FairTurns; bodyBudget?: BodyBudget },
): express.Express {
  const ctx: AppContext = {
    ...input,
    rateLimits: input.rateLimits ?? new RateLimits(rateLimitConfig(input.config)),
    bodyBudget: input.bodyBudget ?? new BodyBudget(input.config.bodyBudget),
    turns: input.turns ?? new FairTurns(MAX_WAITING_TURNS, { onStepError: (e) => input.logger.error({ err: e }, 'a request step threw outside its handler') }),
  };
  // Error answers can quote input: the same scrub rules as events (errors.ts, sendError).
  const clean: Clean = (s) => ctx.ingest.text(s);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(everyRequest);
  for (const r of ROUTES) {
    const chain: RequestHandler[] = [];
    const guard = guardFor(ctx.keys, r, ctx.config.publicReadsNeedToken);
    if (guard) chain.push(guard);
    if (r.access !== 'public') chain.push(rateLimit(ctx.rateLimits, r));
    if (r.body) chain.push(readBody(r.body(ctx), ctx.bodyBudget));
    // The handler's first step waits for its tenant's turn (src/limits/fair-turns.ts).
    if (r.access !== 'public') chain.push(fairTurn(ctx.turns));
    chain.push(r.handler(ctx));
    app[r.method](r.path, ...chain.map((step) => answeringClientErrors(step, clean)));
  }
  app.use(notFound);
  app.use(errorHandler(ctx.logger, clean));
  return app;
}
