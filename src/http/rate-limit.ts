/**
 * Rate-limit middleware, placed after authentication in every non-public
 * route's chain, before the body is read: a flooding key is refused before
 * it costs a parse. Appends are charged one event here; a batch charges the
 * rest of its events once it has counted them (routes/events.ts).
 */

import type { RequestHandler } from 'express';
import type { RateClass, RateLimits } from '../limits/rate-limits.js';
import { callerKey } from './auth.js';
import type { RouteDef } from './routes.js';

/** The routes that append events; every other authenticated route is a read. */
const APPEND_ROUTES = new Set(['post /v1/events', 'post /v1/events/batch']);

export function rateClass(r: Pick<RouteDef, 'method' | 'path'>): RateClass {
  return APPEND_ROUTES.has(`${r.method} ${r.path}`) ? 'append' : 'read';
}

export function rateLimit(limits: RateLimits, cls: RateClass): RequestHandler {
  return (_req, res, next) => {
    try {
      limits.charge(cls, callerKey(res), 1);
      next();
    } catch (e) {
      next(e);
    }
  };
}
