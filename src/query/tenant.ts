/** The tenant a read is about: the key's own, or for a `*` key the one it names with ?tenant=. */

import type { ApiKey } from '../auth/keyring.js';
import { ALL_TENANTS, TENANT_PATTERN } from '../auth/roles.js';
import { TlogError } from '../errors.js';

export function readTenant(key: ApiKey, named: unknown): string {
  if (key.tenant !== ALL_TENANTS) {
    // A tenant key may name its own tenant; naming another is "nothing there", never a 403.
    if (named !== undefined && named !== key.tenant) throw new TlogError('NOT_FOUND', 'no such tenant for this key');
    return key.tenant;
  }
  if (named === undefined) throw new TlogError('MISSING_PARAMETER', 'a cross-tenant key must name ?tenant=');
  if (typeof named !== 'string' || !TENANT_PATTERN.test(named))
    throw new TlogError('INVALID_PARAMETER', `tenant must match ${TENANT_PATTERN}`, { details: { parameter: 'tenant' } });
  return named;
}
