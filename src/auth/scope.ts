/**
 * Tenant scoping, declared per route in the route table and enforced by the
 * auth middleware (src/http/auth.ts). Handlers never compare tenants
 * themselves: they ask the request's {@link TenantGate}, which only offers
 * the operations its route's scope allows.
 *
 * Invariant: an object of another tenant answers 404 NOT_FOUND, exactly like
 * an object that does not exist, so ids never reveal whose they are. A 403
 * only ever depends on the key (its role or its tenant being `*`), never on
 * which object was asked for.
 */

import { TlogError } from '../errors.js';
import type { ApiKey } from './keyring.js';
import { ALL_TENANTS, TENANT_PATTERN } from './roles.js';

export const TENANT_SCOPES = ['none', 'own-tenant', 'own-tenant-write', 'all-tenants'] as const;
export type TenantScope = (typeof TENANT_SCOPES)[number];

/** What each scope means, as rendered into spec/security.md. */
export const TENANT_SCOPE_DOC: Record<TenantScope, string> = {
  none: 'No tenant data: every caller sees the same answer.',
  'own-tenant':
    "Objects of the key's tenant only; another tenant's object (or `?tenant=` naming another tenant) is 404. A `*` key sees every tenant.",
  'own-tenant-write': "Writes go to the key's tenant, never one named in the body. A `*` key gets 403.",
  'all-tenants': 'The answer mixes tenants: only a `*` key; any other key gets 403.',
};

/** True if the key may see `tenant`'s objects. */
export function keySeesTenant(key: Pick<ApiKey, 'tenant'>, tenant: string): boolean {
  return key.tenant === ALL_TENANTS || key.tenant === tenant;
}

/**
 * The route-level part of a scope, decided from the key alone (before any
 * object is read): throws 403 for a key that may never use the route, and
 * 404 when a tenant-bound key names another tenant in `?tenant=`.
 * Returns the tenant the request is about, if one is fixed.
 */
export function admitTenant(scope: TenantScope, key: Pick<ApiKey, 'tenant'>, queryTenant: unknown): string | undefined {
  switch (scope) {
    case 'none':
      return undefined;
    case 'all-tenants':
      if (key.tenant !== ALL_TENANTS)
        throw new TlogError('FORBIDDEN', `this route spans tenants: it needs a key with tenant "${ALL_TENANTS}"`);
      return undefined;
    case 'own-tenant-write':
      if (key.tenant === ALL_TENANTS)
        throw new TlogError('FORBIDDEN', 'a cross-tenant key cannot write: create a key for one tenant');
      return key.tenant;
    case 'own-tenant': {
      if (queryTenant !== undefined && typeof queryTenant !== 'string') throw new TlogError('INVALID_PARAMETER', 'tenant must be given once');
      if (key.tenant !== ALL_TENANTS) {
        if (queryTenant !== undefined && queryTenant !== key.tenant) throw new TlogError('NOT_FOUND', 'no such tenant');
        return key.tenant;
      }
      // The same rule as the query routes' (readTenant): a name no key can have is a bad parameter, not "nothing there".
      if (queryTenant !== undefined && !TENANT_PATTERN.test(queryTenant))
        throw new TlogError('INVALID_PARAMETER', `tenant must match ${TENANT_PATTERN}`, { details: { parameter: 'tenant' } });
      return queryTenant;
    }
  }
}

/** The per-request view of the scope, handed to handlers. */
export class TenantGate {
  constructor(
    readonly scope: TenantScope,
    readonly key: ApiKey,
    /** The tenant fixed by the key or by `?tenant=` (own-tenant routes), if any. */
    readonly tenant: string | undefined,
  ) {}

  private need(...scopes: TenantScope[]): void {
    // A handler asking for an operation its route does not declare is a bug
    // in the route table, not a client error: fail loudly (500) in tests.
    if (!scopes.includes(this.scope)) throw new Error(`route scope "${this.scope}" does not allow this tenant operation`);
  }

  /** The tenant a write goes to (own-tenant-write routes). */
  writeTenant(): string {
    this.need('own-tenant-write');
    return this.tenant!;
  }

  /**
   * True if the caller may see `tenant`'s objects (own-tenant routes). A `*`
   * key that named `?tenant=` sees only that tenant in this request.
   */
  sees(tenant: string): boolean {
    this.need('own-tenant');
    return keySeesTenant(this.key, tenant) && (this.tenant === undefined || this.tenant === tenant);
  }

  /** Throws 404 `message` unless the caller may see `tenant`'s objects. */
  assertSees(tenant: string, message: string): void {
    if (!this.sees(tenant)) throw new TlogError('NOT_FOUND', message);
  }

  /** The one tenant a look-up is about: the key's, or `?tenant=` for a `*` key (400 if absent). */
  lookupTenant(): string {
    this.need('own-tenant');
    if (this.tenant === undefined) throw new TlogError('MISSING_PARAMETER', 'a cross-tenant key must name ?tenant=');
    return this.tenant;
  }
}
