/** Builds the express app from the route table. */

import express, { type RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { guardFor } from './auth.js';
import { rawBody } from './body.js';
import { errorHandler, notFound } from './errors.js';
import { RateLimits, rateLimitConfig } from '../limits/rate-limits.js';
import { rateLimit } from './rate-limit.js';
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
  for (let i = 0; i < HEADERS.length; i++) res.setHeader(HEADERS[i]![0], HEADERS[i]![1]);
  requireHost(req, res, next);
};

export function createApp(input: Omit<AppContext, 'rateLimits'> & { rateLimits?: RateLimits }): express.Express {
  const ctx: AppContext = { ...input, rateLimits: input.rateLimits ?? new RateLimits(rateLimitConfig(input.config)) };
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
    if (r.body) chain.push(rawBody(r.body(ctx)));
    chain.push(r.handler(ctx));
    app[r.method](r.path, ...chain);
  }
  app.use(notFound);
  app.use(errorHandler(ctx.logger));
  return app;
}
