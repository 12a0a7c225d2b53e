/**
 * Rate-limit middleware, placed after authentication in every non-public
 * route's chain, before the body is read: a flooding key is refused before
 * it costs a parse. A single append or a read is charged here; a batch is
 * only checked here (its buckets must not be empty) and charged its event
 * count once it has counted them (routes/events.ts).
 */

import type { RequestHandler } from 'express';
import type { RateClass, RateLimits } from '../limits/rate-limits.js';
import { callerKey } from './auth.js';
import type { RouteDef } from './routes.js';

/** The routes that append events; every other authenticated route is a read. */
const APPEND_ROUTES = new Set(['post /v1/events', 'post /v1/events/batch']);
/** Routes whose handler charges the weight itself. */
const WEIGHED_BY_HANDLER = new Set(['post /v1/events/batch']);

export function rateClass(r: Pick<RouteDef, 'method' | 'path'>): RateClass {
  return APPEND_ROUTES.has(`${r.method} ${r.path}`) ? 'append' : 'read';
}

export function rateLimit(limits: RateLimits, r: Pick<RouteDef, 'method' | 'path'>): RequestHandler {
  const cls = rateClass(r);
  const checkOnly = WEIGHED_BY_HANDLER.has(`${r.method} ${r.path}`);
  return (_req, res, next) => {
    try {
      if (checkOnly) limits.check(cls, callerKey(res));
      else limits.charge(cls, callerKey(res));
      next();
    } catch (e) {
      next(e);
    }
  };
}
