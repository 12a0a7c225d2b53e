/**
 * Secrets in what the server answers, not only in what it stores: a 4xx
 * quotes the client's input (an unknown field's name, an issue's path,
 * zod's own text), and a secret sent as an object key must not come back,
 * since proxies and client logs keep answers. Also: an API key's note is
 * stored and shown, so it is scrubbed.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { byteSearch } from '../privacy/helpers.js';

const G = `ghp_${'aB3dE5gH7jK9'.repeat(3)}`;
const MARK = '[REDACTED:github_token]';

describe('secrets in error answers and key notes', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  const refused = async (url: string, body: unknown, status: number, code: string) => {
    const r = await post(url, t.agentToken, body);
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    const text = JSON.stringify(r.json);
    expect(text).not.toContain(G);
    return text;
  };

  it('an unknown top-level field named by a token: named redacted', async () => {
    const text = await refused(`${t.url}/v1/events`, { ...sampleEvent(1), [G]: 1 }, 422, 'UNKNOWN_FIELDS');
    expect(text).toContain(MARK);
  });

  it('a token as a key inside a strict object or pii entry: the issue path redacted', async () => {
    const text = await refused(`${t.url}/v1/events`, { ...sampleEvent(1), actor: { type: 'agent', id: 'a', [G]: 1 } }, 422, 'SCHEMA_VIOLATION');
    expect(text).toContain(MARK);
    await refused(`${t.url}/v1/events`, { ...sampleEvent(1), pii: { [G]: { subject: 's' } } }, 422, 'SCHEMA_VIOLATION');
  });

  it('a token as a key of too-deep metadata: the 413 path redacted', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    await refused(`${t.url}/v1/events`, { ...sampleEvent(1), metadata: { [G]: deep } }, 413, 'NESTING_TOO_DEEP');
  });

  it("a batch's own unknown field and each refused item's answer", async () => {
    await refused(`${t.url}/v1/events/batch`, { events: [sampleEvent(1)], [G]: 1 }, 422, 'UNKNOWN_FIELDS');
    const r = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: [sampleEvent(2), { ...sampleEvent(3), [G]: 1 }] });
    expect(JSON.stringify(r.json)).not.toContain(G);
    expect(JSON.stringify(r.json)).toContain(MARK);
  });

  it("the key routes: zod's unknown-key text, and the note stored with a key", async () => {
    const bad = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'acme', [G]: 1 });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.json)).not.toContain(G);

    const made = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'acme', note: `replaces the old one, ${G}` });
    expect(made.status).toBe(201);
    expect(made.json.note).toBe(`replaces the old one, ${MARK}`);
    const listed = await get(`${t.url}/v1/keys`, t.adminToken);
    expect(JSON.stringify(listed.json)).not.toContain(G);
    expect(await byteSearch(t.dataDir, { token: new TextEncoder().encode(G) })).toEqual([]);
  });
});
