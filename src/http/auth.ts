/**
 * Bearer-token authentication and role checks, driven by the route table.
 * 401 for a missing/unknown/expired/revoked token, 403 for the wrong role.
 * Tenant scoping is the handlers' job and answers 404 (ids must not leak).
 */

import type { RequestHandler, Response } from 'express';
import type { ApiKey, KeyRing } from '../auth/keyring.js';
import type { Role } from '../auth/roles.js';
import { TlogError } from '../errors.js';

export function requireRoles(keys: KeyRing, roles: readonly Role[]): RequestHandler {
  return (req, res, next) => {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer ([\x21-\x7e]{1,256})$/.exec(h) : null;
    if (!m) return next(new TlogError('UNAUTHENTICATED', 'send Authorization: Bearer <token>'));
    const key = keys.authenticate(m[1]!);
    if (!key) return next(new TlogError('UNAUTHENTICATED', 'the token is unknown, expired or revoked'));
    if (!roles.includes(key.role)) return next(new TlogError('FORBIDDEN', `role ${key.role} may not call this route`));
    res.locals.key = key;
    next();
  };
}

/** The authenticated key (only on non-public routes). */
export function callerKey(res: Response): ApiKey {
  return res.locals.key as ApiKey;
}
