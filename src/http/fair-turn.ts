/**
 * Fair-turn middleware, the last step before a non-public route's handler:
 * the handler's first synchronous part runs on the caller's tenant's turn
 * (src/limits/fair-turns.ts). It runs after the body is read, so a slow body
 * holds no turn, and after the rate limiter, so refusals stay cheap and are
 * never queued.
 */

import type { RequestHandler } from 'express';
import type { FairTurns } from '../limits/fair-turns.js';
import { callerKey } from './auth.js';

export function fairTurn(turns: FairTurns): RequestHandler {
  // next() runs the handler up to its first await, inside the turn; its
  // errors are caught by the handler's own wrapper (app.ts), not here.
  return (_req, res, next) => turns.run(callerKey(res).tenant, () => next());
}
