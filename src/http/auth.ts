/**
 * Authentication, role and tenant checks, all driven by the route table
 * (src/http/routes.ts): 401 for a missing/unknown/expired/revoked token,
 * 403 for the wrong role or a key whose tenant can never use the route,
 * 404 for another tenant (src/auth/scope.ts). Runs before the body is read.
 */

import type { RequestHandler, Response } from 'express';
import type { ApiKey, KeyRing } from '../auth/keyring.js';
import { admitTenant, TenantGate } from '../auth/scope.js';
import { TlogError } from '../errors.js';
import type { RouteDef } from './routes.js';

function bearer(keys: KeyRing, h: unknown): ApiKey {
  const m = typeof h === 'string' ? /^Bearer ([\x21-\x7e]{1,256})$/.exec(h) : null;
  if (!m) throw new TlogError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
  const key = keys.authenticate(m[1]!);
  if (!key) throw new TlogError('UNAUTHENTICATED', 'the token is unknown, expired or revoked');
  return key;
}

/**
 * The guard for one route, or undefined when the route needs none.
 * `publicNeedsToken`: config option; public routes then need any valid key.
 */
export function guardFor(keys: KeyRing, route: Pick<RouteDef, 'access' | 'tenant' | 'alwaysOpen'>, publicNeedsToken: boolean): RequestHandler | undefined {
  if (route.access === 'public') {
    if (!publicNeedsToken || route.alwaysOpen) return undefined;
    return (req, res, next) => {
      try {
        res.locals.key = bearer(keys, req.headers.authorization);
        next();
      } catch (e) {
        next(e);
      }
    };
  }
  const roles = route.access;
  return (req, res, next) => {
    try {
      const key = bearer(keys, req.headers.authorization);
      if (!roles.includes(key.role)) throw new TlogError('FORBIDDEN', `role ${key.role} may not call this route`);
      const tenant = admitTenant(route.tenant, key, req.query.tenant);
      res.locals.key = key;
      res.locals.gate = new TenantGate(route.tenant, key, tenant);
      next();
    } catch (e) {
      next(e);
    }
  };
}

/** The authenticated key (only on non-public routes). */
export function callerKey(res: Response): ApiKey {
  return res.locals.key as ApiKey;
}

/** The request's tenant gate (only on non-public routes). */
export function tenantGate(res: Response): TenantGate {
  return res.locals.gate as TenantGate;
}
