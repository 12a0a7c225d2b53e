/**
 * Runs the hostile corpus (cases/*.json) against real servers. Every case
 * must get its expected status and, for errors, its stable JSON code; never
 * a 500, a crash or a hang. Every answer carries the security headers. After
 * the whole corpus the servers still serve, the log still verifies, and
 * nothing leaked into Object.prototype.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { loadCorpus, partBytes, send, sendRaw, fill, type Answer, type Case, type Vars } from './corpus.js';

const corpus = loadCorpus();
const files = [...new Set(corpus.map((x) => x.file))];

/**
 * A server with a small log: the logged key events, three entries of acme,
 * then one of tenant "other" (the last entry). Bounds come from the log.
 */
interface Seeded {
  t: TestServer;
  tokens: Record<string, string>;
  vars: Vars;
}
async function seeded(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<Seeded> {
  const t = await startTestServer(overrides);
  const tokens: Record<string, string> = {
    agent: t.agentToken,
    auditor: t.auditorToken,
    admin: t.adminToken,
    'other-agent': (await t.server.keys.create({ role: 'agent', tenant: 'other' })).token,
  };
  const acme = [];
  for (let i = 0; i < 3; i++) acme.push(await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i)));
  const other = await post(`${t.url}/v1/events`, tokens['other-agent']!, sampleEvent(9));
  expect([...acme, other].map((r) => r.status)).toEqual([201, 201, 201, 201]);
  const size = t.server.log.head.treeSize;
  const first = String(acme[0]!.json.index);
  expect(other.json.index).toBe(size - 1);
  const vars: Vars = {
    size: String(size),
    last: String(size - 1),
    beyond: String(size + 1),
    first,
    // The same index with its first digit percent-encoded (%3N is the digit N).
    first_pct: `%3${first[0]}${first.slice(1)}`,
    event_id: acme[0]!.json.event_id,
    other_event_id: other.json.event_id,
    agent: t.agentToken,
    admin: t.adminToken,
  };
  return { t, tokens, vars };
}

// One server per case file (cases that append must not move another file's
// bounds), plus one with short timeouts for the slow clients.
const servers: Record<string, Seeded> = {};
beforeAll(async () => {
  for (const f of files) servers[f] = await seeded();
  servers['short-timeouts'] = await seeded({ headersTimeout: 600, requestTimeout: 1200, idleTimeout: 600 });
});
afterAll(async () => {
  for (const s of Object.values(servers)) await s.t.close();
});

async function run(file: string, c: Case): Promise<Answer> {
  const { t, tokens, vars: v } = servers[c.server === 'short-timeouts' ? 'short-timeouts' : file]!;
  if (c.raw) {
    const chunks = c.raw.map((x) =>
      typeof x === 'object' && x !== null && 'part' in x ? { bytes: partBytes(x.part, v), delayMs: x.delayMs } : { bytes: partBytes(x, v), delayMs: 0 },
    );
    return sendRaw(t.url, chunks, c.expect.closed === true);
  }
  const headers: Record<string, string> = {};
  const auth = c.auth ?? 'none';
  if (auth !== 'none') headers.authorization = `Bearer ${tokens[auth]}`;
  const body = c.body === undefined ? undefined : partBytes(c.body, v);
  if (body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  for (const [k, val] of Object.entries(c.headers ?? {})) headers[k] = fill(val, v);
  return send(t.url, c.method ?? 'GET', fill(c.path ?? '/', v), headers, body);
}

const oneOf = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe.each(files)('hostile corpus: %s', (file) => {
  it.concurrent.each(corpus.filter((x) => x.file === file).map((x) => [x.c.name, x.c] as const))('%s', async (_name, c) => {
    const a = await run(file, c);
    const got = `${a.status} ${a.json?.error?.code ?? ''}`;
    expect(a.status, got).toBeLessThan(500);
    expect(oneOf(c.expect.status), got).toContain(a.status);
    if (a.status >= 400) {
      expect(String(a.headers['content-type'])).toMatch(/^application\/json/);
      expect(oneOf(c.expect.code ?? []), got).toContain(a.json?.error?.code);
      expect(typeof a.json.error.message).toBe('string');
    }
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.headers['content-security-policy']).toContain("default-src 'none'");
    if (c.expect.closed) expect(a.closed).toBe(true);
  });
});

describe('after the corpus', () => {
  it('nothing was added to Object.prototype', () => {
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it('every server still serves, and a fresh append still verifies', async () => {
    for (const { t } of Object.values(servers)) {
      expect((await get(`${t.url}/healthz`)).status).toBe(200);
      const r = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(777));
      expect(r.status).toBe(201);
      verifyReceipt(r.json.tlog_proof, (await get(`${t.url}/v1/log`)).json.verifier_key);
    }
  });
});
