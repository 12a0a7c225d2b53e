/** `agent-tlog keys …`: key management through the HTTP API with an admin token. */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

interface ApiOpts {
  url: string;
  token?: string;
  data: string;
}

function addApiOptions(c: Command): Command {
  return c
    .option('--url <url>', 'log server URL (TLOG_URL)', process.env.TLOG_URL ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'admin token (TLOG_TOKEN; default: <data>/admin.token)')
    .option('--data <dir>', 'data folder holding admin.token', process.env.TLOG_DATA_DIR ?? './data');
}

function adminToken(o: ApiOpts): string {
  const t = o.token ?? process.env.TLOG_TOKEN;
  if (t) return t;
  try {
    return readFileSync(join(o.data, 'admin.token'), 'utf8').trim();
  } catch {
    throw new Error(`no --token given and ${join(o.data, 'admin.token')} is unreadable`);
  }
}

async function call(o: ApiOpts, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(new URL(path, o.url), {
    method,
    headers: { authorization: `Bearer ${adminToken(o)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${res.status} ${json.error?.code ?? ''}: ${json.error?.message ?? res.statusText}`);
  return json;
}

const print = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');

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
