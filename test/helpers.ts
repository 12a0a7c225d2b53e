/** Real parts for tests: a LevelDB in a temp folder and a server on a loopback port. */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { TlogError } from '../src/errors.js';
import { startServer, type RunningServer } from '../src/server.js';

export async function tempDir(prefix = 'tlog-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  adminToken: string;
  agentToken: string;
  auditorToken: string;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/** Creates an API key through the API; returns its token. */
export async function makeKey(url: string, adminToken: string, role: string, tenant: string): Promise<string> {
  const r = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role, tenant }),
  });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

export async function startTestServer(
  overrides: Partial<Config> = {},
  dataDir?: string,
  opts: { now?: () => number; logger?: import('pino').Logger } = {},
): Promise<TestServer> {
  const dir = dataDir ?? (await tempDir());
  // Rate limits off unless a test asks for them: the suites below measure behaviour, not throttling
  // (test/limits/ covers the limits with their own settings).
  const unlimited = { rateAppendKey: 'off', rateAppendTenant: 'off', rateReadKey: 'off', rateReadTenant: 'off' };
  const config = loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', origin: 'test.example/log', ...unlimited, ...overrides });
  const server = await startServer(config, opts);
  const adminToken = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  const mk = (role: string, tenant: string) => makeKey(server.url, adminToken, role, tenant);
  const agentToken = await mk('agent', 'acme');
  const auditorToken = await mk('auditor', 'acme');
  return {
    server,
    url: server.url,
    dataDir: dir,
    adminToken,
    agentToken,
    auditorToken,
    async close(opts = {}) {
      await server.close();
      if (!opts.keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sampleEvent(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ts: new Date(1_760_000_000_000 + i * 1000).toISOString(),
    run_id: `run-${Math.floor(i / 10)}`,
    actor: { type: 'agent', id: `agent-${i % 3}`, on_behalf_of: 'user-42' },
    action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp' },
    target: { system: 'erp', resource: `invoice/${i}` },
    policy: { decision: i % 5 === 0 ? 'DENY' : 'ALLOW', matched_rule: 'invoices.small' },
    risk: { score: i % 100 },
    result: { status: 'success', duration_ms: 12 },
    ...extra,
  };
}

export async function post(url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: (typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)) as BodyInit,
  });
  return { status: r.status, json: await jsonOrText(r), headers: r.headers };
}

/** The answer's JSON, or its text when it is not JSON. */
async function jsonOrText(r: Response): Promise<any> {
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function del(url: string, token: string): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, json: await jsonOrText(r) };
}

export async function get(url: string, token?: string): Promise<{ status: number; json: any; body: Uint8Array; headers: Headers }> {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = new Uint8Array(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    json = undefined;
  }
  return { status: r.status, json, body, headers: r.headers };
}

/** The stable code of the TlogError `f` throws ('NO ERROR' if it returns); anything else fails the test. */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TlogError);
    return (e as TlogError).code;
  }
  return 'NO ERROR';
}
