/** Rate limits over HTTP: 429 RATE_LIMITED with Retry-After, per key and per tenant, batches by weight. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

/** Keys straight from the server's key ring: the admin's own read bucket stays out of the counts. */
const mkKey = async (t: TestServer, role: 'agent' | 'auditor', tenant: string): Promise<string> => (await t.server.keys.create({ role, tenant })).token;

describe('rate limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Rates so low that no refill happens during the test: every count is exact.
    t = await startTestServer({
      rateAppendKey: '0.001,5',
      rateAppendTenant: '0.001,8',
      rateReadKey: '0.001,4',
      rateReadTenant: 'off',
    });
  });
  afterAll(() => t.close());

  it('a key past its burst gets 429 RATE_LIMITED with Retry-After; another tenant is not affected', async () => {
    const k = await mkKey(t, 'agent', 'flooder');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(`${t.url}/v1/events`, k, sampleEvent(i))).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    const r = await post(`${t.url}/v1/events`, k, sampleEvent(5));
    expect(r.status).toBe(429);
    expect(r.json.error).toMatchObject({ code: 'RATE_LIMITED', scope: 'key', burst: 5 });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    // Refused before the body is read: even garbage gets 429, not 400.
    expect((await post(`${t.url}/v1/events`, k, '{garbage')).status).toBe(429);
    const other = await mkKey(t, 'agent', 'quiet');
    expect((await post(`${t.url}/v1/events`, other, sampleEvent(6))).status).toBe(201);
  });

  it('the tenant bucket is shared by all its keys', async () => {
    const a = await mkKey(t, 'agent', 'shared');
    const b = await mkKey(t, 'agent', 'shared');
    for (let i = 0; i < 5; i++) expect((await post(`${t.url}/v1/events`, a, sampleEvent(100 + i))).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await post(`${t.url}/v1/events`, b, sampleEvent(110 + i))).status).toBe(201);
    const r = await post(`${t.url}/v1/events`, b, sampleEvent(120));
    expect(r.status).toBe(429);
    expect(r.json.error.scope).toBe('tenant');
  });

  it('a batch counts its events: heavier than the burst passes once from a full bucket, then the key waits', async () => {
    const k = await mkKey(t, 'agent', 'batcher');
    const events = Array.from({ length: 7 }, (_, i) => sampleEvent(200 + i));
    const r = await post(`${t.url}/v1/events/batch`, k, { events });
    expect(r.status).toBe(200);
    expect(r.json.results.every((x: { status: number }) => x.status === 201)).toBe(true);
    const next = await post(`${t.url}/v1/events/batch`, k, { events: [sampleEvent(300)] });
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(1000); // 7 events into debt at 0.001/s
  });

  it('a batch heavier than what is left is refused whole, and nothing of it is logged', async () => {
    const k = await mkKey(t, 'agent', 'partial');
    expect((await post(`${t.url}/v1/events/batch`, k, { events: [sampleEvent(400), sampleEvent(401), sampleEvent(402)] })).status).toBe(200);
    const size = (await get(`${t.url}/v1/log`)).json.tree_size;
    const r = await post(`${t.url}/v1/events/batch`, k, { events: [sampleEvent(403), sampleEvent(404), sampleEvent(405)] });
    expect(r.status).toBe(429);
    expect(r.json.error.code).toBe('RATE_LIMITED');
    expect((await get(`${t.url}/v1/log`)).json.tree_size).toBe(size);
  });

  it('authenticated reads have their own buckets; public reads are not limited', async () => {
    const auditor = await mkKey(t, 'auditor', 'quiet');
    for (let i = 0; i < 4; i++) expect((await get(`${t.url}/v1/entries/0`, auditor)).status).toBeLessThan(429);
    const r = await get(`${t.url}/v1/entries/0`, auditor);
    expect(r.status).toBe(429);
    expect(r.json.error).toMatchObject({ code: 'RATE_LIMITED', scope: 'key' });
    for (let i = 0; i < 20; i++) expect((await get(`${t.url}/checkpoint`)).status).toBe(200);
  });
});

describe('rate limits off', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ rateAppendKey: 'off', rateAppendTenant: '0', rateReadKey: 'off', rateReadTenant: 'off' });
  });
  afterAll(() => t.close());

  it('"off" lifts every limit', async () => {
    const r = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: 1000 }, (_, i) => sampleEvent(i)) });
    expect(r.status).toBe(200);
    const again = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: 1000 }, (_, i) => sampleEvent(2000 + i)) });
    expect(again.status).toBe(200);
    expect(again.json.results.every((x: { status: number }) => x.status === 201)).toBe(true);
  });
});
