/**
 * Every key change is itself a logged event (issue 7 §2): `key.create`,
 * `key.revoke`, `key.rotate`, appended through logSystemEvent so an auditor
 * proves them like any other entry.
 *
 * Invariant: the event names the key by id and carries its role, tenant and
 * public settings — never a token or a token hash.
 */

import type { JsonObject, ParseEventOptions } from '../events/index.js';
import type { Log } from '../log/log.js';
import { logSystemEvent } from '../log/system-events.js';
import type { ApiKey } from './keyring.js';
import { ALL_TENANTS } from './roles.js';

/**
 * The tenant under which events about cross-tenant (`*`) keys are logged.
 * It cannot collide with a real tenant: tenant names start with [a-z0-9].
 */
export const SYSTEM_TENANT = '_system';

export type KeyAction = 'key.create' | 'key.revoke' | 'key.rotate';

/** Where an event about key `k` is logged: its own tenant, so that tenant's auditors see it. */
export function keyEventTenant(k: Pick<ApiKey, 'tenant'>): string {
  return k.tenant === ALL_TENANTS ? SYSTEM_TENANT : k.tenant;
}

/** The public facts about a key change that go into the tree. */
function keyFacts(k: ApiKey, extra: JsonObject): JsonObject {
  return {
    key_id: k.id,
    role: k.role,
    tenant: k.tenant,
    ...(k.expires_at !== undefined ? { expires_at: k.expires_at } : {}),
    ...(k.agent_public_key !== undefined ? { agent_public_key: k.agent_public_key } : {}),
    ...extra,
  };
}

/** Logs a key change; resolves once it is durable. `by` is the admin key that made it (absent: the server itself). */
export async function logKeyEvent(
  log: Log,
  ids: ParseEventOptions,
  action: KeyAction,
  key: ApiKey,
  by: ApiKey | undefined,
  extra: JsonObject = {},
): Promise<{ event_id: string; index: number; tenant: string }> {
  const tenant = keyEventTenant(key);
  const { appended } = await logSystemEvent(log, ids, tenant, {
    action,
    ...(by !== undefined ? { keyId: by.id } : {}),
    resource: `key:${key.id}`,
    metadata: keyFacts(key, extra),
  });
  return { event_id: appended.eventId, index: appended.index, tenant };
}
