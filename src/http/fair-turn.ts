/**
 * Fair-turn middleware, the last step before a non-public route's handler:
 * waits for the caller's tenant's turn (src/limits/fair-turns.ts). It runs
 * after the body is read, so a slow body holds no turn, and after the rate
 * limiter, so refusals stay cheap and are never queued.
 */

import type { RequestHandler } from 'express';
import type { FairTurns } from '../limits/fair-turns.js';
import { callerKey } from './auth.js';

export function fairTurn(turns: FairTurns): RequestHandler {
  return (_req, res, next) => turns.turn(callerKey(res).tenant).then(() => next());
}
