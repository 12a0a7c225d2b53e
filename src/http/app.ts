/** Builds the express app from the route table. */

import express, { type RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { guardFor } from './auth.js';
import { rawBody } from './body.js';
import { errorHandler, notFound } from './errors.js';
import { ROUTES } from './routes.js';

/** Sent on every response: this is an API, never a page to frame or sniff. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  for (const r of ROUTES) {
    const chain: RequestHandler[] = [];
    const guard = guardFor(ctx.keys, r, ctx.config.publicReadsNeedToken);
    if (guard) chain.push(guard);
    if (r.body) chain.push(rawBody(r.body(ctx)));
    chain.push(r.handler(ctx));
    app[r.method](r.path, ...chain);
  }
  app.use(notFound);
  app.use(errorHandler(ctx.logger));
  return app;
}
