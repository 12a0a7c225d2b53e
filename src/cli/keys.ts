/** `agent-tlog keys …`: key management through the HTTP API with an admin token. */

import type { Command } from 'commander';
import { addApiOptions, call, print, type ApiOpts } from './api-client.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage API keys through the server (admin token)');
  addApiOptions(keys.command('create').description('Create a key; prints its token once'))
    .requiredOption('--role <role>', 'agent | auditor | privacy | admin')
    .requiredOption('--tenant <tenant>', 'tenant name, or * for all tenants')
    .option('--note <text>', 'free note')
    .option('--expires-at <iso>', 'expiry, ISO 8601 with offset')
    .action(async (o: ApiOpts & { role: string; tenant: string; note?: string; expiresAt?: string }) => {
      print(await call(o, 'POST', '/v1/keys', { role: o.role, tenant: o.tenant, note: o.note, expires_at: o.expiresAt }));
    });
  addApiOptions(keys.command('list').description('List keys (never their tokens)')).action(async (o: ApiOpts) => {
    print(await call(o, 'GET', '/v1/keys'));
  });
  addApiOptions(keys.command('rotate').argument('<id>', 'key id').description("Give a key a new token (printed once); the old one works for the grace period"))
    .option('--grace-seconds <n>', 'seconds the old token keeps working (default: the server setting)')
    .action(async (id: string, o: ApiOpts & { graceSeconds?: string }) => {
      const body = o.graceSeconds !== undefined ? { grace_seconds: Number(o.graceSeconds) } : {};
      print(await call(o, 'POST', `/v1/keys/${encodeURIComponent(id)}/rotate`, body));
    });
  addApiOptions(keys.command('revoke').argument('<id>', 'key id').description('Revoke a key')).action(async (id: string, o: ApiOpts) => {
    print(await call(o, 'DELETE', `/v1/keys/${encodeURIComponent(id)}`));
  });
}
