/**
 * A real server for the security tests, with a clock the test can move
 * (key expiry, rotation grace, log-key overlap), and small HTTP helpers.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface TestClock {
  /** Milliseconds added to the real time. */
  offset: number;
  now(): number;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  const c: TestClock = {
    offset: 0,
    now: () => Date.now() + c.offset,
    advance: (ms) => {
      c.offset += ms;
    },
  };
  return c;
}

export interface SecServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  clock: TestClock;
  /** The first admin key's token (role admin, tenant "*"). */
  adminToken: string;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startSecServer(overrides: Partial<Config> = {}, opts: { dataDir?: string; clock?: TestClock } = {}): Promise<SecServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'tlog-sec-')));
  const clock = opts.clock ?? testClock();
  const config = loadConfig({}, { port: 0, dataDir, logLevel: 'silent', origin: 'sec.example/log', ...overrides });
  const server = await startServer(config, { now: clock.now });
  const adminToken = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  return {
    server,
    url: server.url,
    dataDir,
    clock,
    adminToken,
    async close(o = {}) {
      await server.close();
      if (!o.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  json: any;
  text: string;
}

/** One request; `auth` is a token, a raw Authorization header ({ header }), or nothing. */
export async function call(url: string, method: string, path: string, auth?: string | { header: string }, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (typeof auth === 'string') headers.authorization = `Bearer ${auth}`;
  else if (auth) headers.authorization = auth.header;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(url + path, { method: method.toUpperCase(), headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** Creates a key through the API (as the "*" admin); returns its id and token. */
export async function makeKey(s: { url: string; adminToken: string }, spec: Record<string, unknown>): Promise<{ id: string; token: string; json: any }> {
  const r = await call(s.url, 'post', '/v1/keys', s.adminToken, spec);
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${r.text}`);
  return { id: r.json.id, token: r.json.token, json: r.json };
}
