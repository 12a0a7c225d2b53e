/** Bad input on every route: a stable JSON error code and status, never a 500 or a crash. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from 'cbor-x';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

describe('bad input gets a clear JSON error', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1));
  });
  afterAll(() => t.close());

  const expectError = (r: { status: number; json: any }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.json?.error?.code).toBe(code);
    expect(typeof r.json.error.message).toBe('string');
  };

  it('POST /v1/events: malformed JSON, wrong types, unknown fields, missing fields', async () => {
    const url = `${t.url}/v1/events`;
    expectError(await post(url, t.agentToken, '{"actor":'), 400, 'MALFORMED_JSON');
    expectError(await post(url, t.agentToken, ''), 400, 'MALFORMED_JSON');
    // The offset counts the body's UTF-8 bytes (the 4 emoji are 16 bytes, 8 UTF-16 code units), not characters.
    const emoji = await post(url, t.agentToken, '{"a":"😀😀😀😀", x}');
    expectError(emoji, 400, 'MALFORMED_JSON');
    expect(emoji.json.error.message).toContain('at byte offset 25');
    // A leading byte-order mark is ignored, and still counted in the offset (3 bytes).
    const bom = await post(url, t.agentToken, '\uFEFF{"a":"😀😀😀😀", x}');
    expect(bom.json.error.message).toContain('at byte offset 28');
    expectError(await post(url, t.agentToken, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, 'MALFORMED_JSON');
    expectError(await post(url, t.agentToken, 'null'), 422, 'SCHEMA_VIOLATION');
    expectError(await post(url, t.agentToken, '[]'), 422, 'SCHEMA_VIOLATION');
    const missing = await post(url, t.agentToken, { actor: { type: 'agent' }, action: {} });
    expectError(missing, 422, 'SCHEMA_VIOLATION');
    const paths = JSON.stringify(missing.json.error.issues);
    expect(paths).toContain('actor.id');
    expect(paths).toContain('action.type');
    const unknown = await post(url, t.agentToken, { ...sampleEvent(2), colour: 'red', size: 3 });
    expectError(unknown, 422, 'UNKNOWN_FIELDS');
    expect(unknown.json.error.fields).toEqual(expect.arrayContaining(['colour', 'size']));
    expectError(await post(url, t.agentToken, { ...sampleEvent(3), policy: { decision: 'MAYBE' } }), 422, 'SCHEMA_VIOLATION');
    expectError(await post(url, t.agentToken, { ...sampleEvent(4), risk: { score: 101 } }), 422, 'SCHEMA_VIOLATION');
    expectError(await post(url, t.agentToken, 'x', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('does not echo secrets from invalid values in error messages', async () => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(5), policy: { decision: 'sk-live-SECRETVALUE123' } });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.json)).not.toContain('SECRETVALUE123');
  });

  it('limits: an 8 MiB body is 413, 5,000-deep nesting is 413, a 1,001-event batch is 413', async () => {
    const big = JSON.stringify({ ...sampleEvent(6), metadata: { blob: 'x'.repeat(8 * 1024 * 1024) } });
    expectError(await post(`${t.url}/v1/events`, t.agentToken, big), 413, 'BODY_TOO_LARGE');
    const deep = `{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    expectError(await post(`${t.url}/v1/events`, t.agentToken, deep), 413, 'NESTING_TOO_DEEP');
    const deepArr = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expectError(await post(`${t.url}/v1/events`, t.agentToken, deepArr), 413, 'NESTING_TOO_DEEP');
    const batch = { events: Array.from({ length: 1001 }, (_, i) => ({ actor: { type: 'agent', id: 'a' }, action: { type: `t${i}` } })) };
    expectError(await post(`${t.url}/v1/events/batch`, t.agentToken, batch), 413, 'BATCH_TOO_LARGE');
    // A leaf over 65,535 bytes (inside the body limit) is refused too.
    const wide = { ...sampleEvent(7), metadata: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'y'.repeat(2000)])) };
    const r = await post(`${t.url}/v1/events`, t.agentToken, wide);
    expect([413, 422]).toContain(r.status);
    expect(['LEAF_TOO_LARGE', 'SCHEMA_VIOLATION']).toContain(r.json.error.code);
  });

  it('CBOR bodies: valid ones are accepted, garbage is MALFORMED_CBOR', async () => {
    const ok = await post(`${t.url}/v1/events`, t.agentToken, encode(sampleEvent(8)), { 'content-type': 'application/cbor' });
    expect(ok.status).toBe(201);
    expectError(await post(`${t.url}/v1/events`, t.agentToken, new Uint8Array([0xa1, 0x61]), { 'content-type': 'application/cbor' }), 400, 'MALFORMED_CBOR');
  });

  it('batch: one bad event does not sink the others', async () => {
    const r = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: [sampleEvent(9), { actor: {} }, sampleEvent(10)] });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: any) => x.status)).toEqual([201, 422, 201]);
    expect(r.json.results[1].error.code).toBe('SCHEMA_VIOLATION');
    expectError(await post(`${t.url}/v1/events/batch`, t.agentToken, { events: [], extra: 1 }), 422, 'UNKNOWN_FIELDS');
    expectError(await post(`${t.url}/v1/events/batch`, t.agentToken, { events: 'no' }), 422, 'SCHEMA_VIOLATION');
  });

  it('proof parameters: out of range or garbage is 400, never 500', async () => {
    const bad = [
      '/v1/proofs/inclusion',
      '/v1/proofs/inclusion?index=0',
      '/v1/proofs/inclusion?index=-1&tree_size=1',
      '/v1/proofs/inclusion?index=abc&tree_size=1',
      '/v1/proofs/inclusion?index=01&tree_size=2',
      '/v1/proofs/inclusion?index=1e3&tree_size=2',
      '/v1/proofs/inclusion?index=5&tree_size=3',
      '/v1/proofs/inclusion?index=0&tree_size=99999999',
      '/v1/proofs/inclusion?index=0&tree_size=99999999999999999999',
      '/v1/proofs/inclusion?index=0&tree_size=0',
      '/v1/proofs/inclusion?leaf_hash=zzz&tree_size=1',
      '/v1/proofs/inclusion?index=0&index=1&tree_size=1',
      '/v1/proofs/consistency?from=2&to=1',
      '/v1/proofs/consistency?from=0&to=99999999',
      '/v1/proofs/consistency?from=x&to=1',
      '/v1/proofs/consistency',
    ];
    for (const path of bad) {
      const r = await get(`${t.url}${path}`);
      expect(r.status, path).toBe(400);
      expect(['INVALID_PARAMETER', 'MISSING_PARAMETER']).toContain(r.json.error.code);
    }
    for (const path of ['/v1/proofs/inclusion?index=0&index=1&tree_size=1', '/v1/proofs/consistency?from=1&from=1&to=2', `/v1/proofs/inclusion?leaf_hash=${'A'.repeat(43)}%3D&leaf_hash=x&tree_size=1`])
      expect((await get(`${t.url}${path}`)).json.error.message, path).toMatch(/must be given once$/);
    const unknownLeaf = await get(`${t.url}/v1/proofs/inclusion?leaf_hash=${encodeURIComponent('A'.repeat(43) + '=')}&tree_size=1`);
    expectError(unknownLeaf, 404, 'NOT_FOUND');
  });

  it('tiles, entries and ids: garbage paths are 400/404 with a code', async () => {
    for (const p of ['/tile/x/000', '/tile/0/0', '/tile/0/000.p/0', '/tile/64/000', '/tile/0/x001', '/tile/0/000.p/', '/tile/0/..%2f..%2fetc'])
      expect([400, 404], p).toContain((await get(`${t.url}${p}`)).status);
    // A tile under a second, escaped URL is not canonical: never answered (let alone as immutable).
    expect((await get(`${t.url}/tile/0/000.p/1`)).status).toBe(200);
    for (const p of ['/tile/0%2f000.p%2f1', '/tile/0/000%2ep/1', '/tile/0/000.p/%31', '/tile/%30/000.p/1', '/tile/entries/000.p%2f1'])
      expectError(await get(`${t.url}${p}`, t.adminToken), 400, 'INVALID_PARAMETER');
    expectError(await get(`${t.url}/v1/entries/abc`, t.auditorToken), 400, 'INVALID_PARAMETER');
    // A cross-tenant key naming a tenant no key can have: a bad parameter on every route, as on the query routes.
    for (const p of ['/v1/entries/0?tenant=acme%00', '/v1/entries/0?tenant=a%20b', '/v1/events?tenant=acme%00'])
      expectError(await get(`${t.url}${p}`, t.adminToken), 400, 'INVALID_PARAMETER');
    expectError(await get(`${t.url}/v1/entries/999999`, t.auditorToken), 404, 'NOT_FOUND');
    expectError(await get(`${t.url}/v1/events/..%2F..%2Fetc%2Fpasswd/receipt`, t.agentToken), 400, 'INVALID_PARAMETER');
    expectError(await get(`${t.url}/v1/nope`), 404, 'NOT_FOUND');
  });

  it('auth: no token 401, bad token 401, wrong role 403', async () => {
    expectError(await post(`${t.url}/v1/events`, '', sampleEvent(11)), 401, 'UNAUTHENTICATED');
    expectError(await post(`${t.url}/v1/events`, 'atlk_nope', sampleEvent(11)), 401, 'UNAUTHENTICATED');
    expectError(await post(`${t.url}/v1/events`, t.auditorToken, sampleEvent(11)), 403, 'FORBIDDEN');
    expectError(await get(`${t.url}/v1/keys`, t.agentToken), 403, 'FORBIDDEN');
    expectError(await post(`${t.url}/v1/events`, t.adminToken, sampleEvent(11)), 403, 'FORBIDDEN');
  });

  it('keys: create, list without tokens, rotate, revoke', async () => {
    expectError(await post(`${t.url}/v1/keys`, t.adminToken, { role: 'root', tenant: 'a' }), 422, 'SCHEMA_VIOLATION');
    expectError(await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'A B' }), 422, 'SCHEMA_VIOLATION');
    // A note that a strict JSON reader of GET /v1/keys could not read, or that hides characters.
    for (const note of ['\ud800', 'a\u0000b', 'ci\u202ebot', 'line\nbreak', ' ci'])
      expectError(await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'initech', note }), 422, 'SCHEMA_VIOLATION');
    expect((await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'initech', note: 'CI bot – nightly 🌙' })).status).toBe(201);
    const k = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'initech', note: 'ci' });
    expect(k.status).toBe(201);
    expect(k.json.token).toMatch(/^atlk_/);
    const list = await get(`${t.url}/v1/keys`, t.adminToken);
    expect(JSON.stringify(list.json)).not.toContain(k.json.token);
    expect(JSON.stringify(list.json)).not.toContain('token_hash');
    expect(list.json.keys.some((x: any) => x.id === k.json.id)).toBe(true);
    expect((await post(`${t.url}/v1/events`, k.json.token, sampleEvent(12))).status).toBe(201);
    const rot = await post(`${t.url}/v1/keys/${k.json.id}/rotate`, t.adminToken, { grace_seconds: 0 });
    expect(rot.status).toBe(200);
    expect((await post(`${t.url}/v1/events`, k.json.token, sampleEvent(13))).status).toBe(401);
    expect((await post(`${t.url}/v1/events`, rot.json.token, sampleEvent(13))).status).toBe(201);
    const del = await fetch(`${t.url}/v1/keys/${k.json.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(del.status).toBe(200);
    expect((await post(`${t.url}/v1/events`, rot.json.token, sampleEvent(14))).status).toBe(401);
  });

  it('malformed personal data is refused without echoing the value or the subject', async () => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(20), pii: { email: { subject: 'alice', value: 'alice@example.com', extra: 1 } } });
    expectError(r, 422, 'SCHEMA_VIOLATION');
    expect(JSON.stringify(r.json)).not.toContain('alice');
    expect(r.json.error.issues[0].path).toMatch(/^pii\.email/);
    const noSubject = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(21), pii: { email: { value: 'alice@example.com' } } });
    expectError(noSubject, 422, 'SCHEMA_VIOLATION');
    expect(JSON.stringify(noSubject.json)).not.toContain('alice');
  });

  it('a malformed-JSON answer does not quote the body', async () => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, '{"actor": hunter2-password}');
    expectError(r, 400, 'MALFORMED_JSON');
    expect(JSON.stringify(r.json)).not.toContain('hunter2');
  });

  it('a tenant-bound admin manages only its own tenant\'s keys', async () => {
    const admin2 = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'admin', tenant: 'hooli' });
    const tok = admin2.json.token;
    // Other tenants (and "*") do not exist for a tenant-bound admin: 404, never 403.
    expectError(await post(`${t.url}/v1/keys`, tok, { role: 'admin', tenant: '*' }), 404, 'NOT_FOUND');
    expectError(await post(`${t.url}/v1/keys`, tok, { role: 'agent', tenant: 'acme' }), 404, 'NOT_FOUND');
    expect((await post(`${t.url}/v1/keys`, tok, { role: 'agent', tenant: 'hooli' })).status).toBe(201);
    const list = await get(`${t.url}/v1/keys`, tok);
    expect(list.json.keys.every((k: any) => k.tenant === 'hooli')).toBe(true);
    const acmeKey = (await get(`${t.url}/v1/keys`, t.adminToken)).json.keys.find((k: any) => k.tenant === 'acme');
    const del = await fetch(`${t.url}/v1/keys/${acmeKey.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${tok}` } });
    expect(del.status).toBe(404);
  });

  it('the server is still healthy after all of the above', async () => {
    const h = await get(`${t.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.json.status).toBe('ok');
    expect(h.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
