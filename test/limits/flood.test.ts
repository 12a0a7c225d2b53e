/**
 * One tenant floods at 10× its append limit while another appends at a
 * normal rate. Asserted here: no 5xx for anyone, the flooder gets 429s, the
 * other tenant none, and every acknowledged event is in the log, provable.
 * (The latency side — the other tenant's p99 — is measured in bench/fairness.mjs.)
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

describe('a flooding tenant', () => {
  let t: TestServer;
  beforeAll(async () => {
    // A burst of 40 and almost no refill, so the counts below do not depend on how fast this machine is.
    t = await startTestServer({ rateAppendKey: '0.01,40', rateAppendTenant: '0.01,40', rateReadKey: 'off', rateReadTenant: 'off' });
  });
  afterAll(() => t.close());

  it('gets 429s while the other tenant loses nothing and sees no 5xx', async () => {
    const flooder = (await t.server.keys.create({ role: 'agent', tenant: 'flood' })).token;
    const quiet = (await t.server.keys.create({ role: 'agent', tenant: 'quiet' })).token;
    const auditors = {
      flood: (await t.server.keys.create({ role: 'auditor', tenant: 'flood' })).token,
      quiet: (await t.server.keys.create({ role: 'auditor', tenant: 'quiet' })).token,
    };
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;

    // The flood: 400 appends, 10× what its bucket holds, 20 in flight at a time, some as batches.
    let next = 0;
    const floodResults: { status: number; json: any }[] = [];
    const floodWorker = async () => {
      while (next < 400) {
        const i = next++;
        if (i % 10 === 0) floodResults.push(await post(`${t.url}/v1/events/batch`, flooder, { events: [sampleEvent(i), sampleEvent(i + 100_000)] }));
        else floodResults.push(await post(`${t.url}/v1/events`, flooder, sampleEvent(i)));
      }
    };
    // The other tenant: 20 appends, one every 25 ms, within its own buckets.
    const quietResults: { status: number; json: any }[] = [];
    const quietWorker = async () => {
      for (let i = 0; i < 20; i++) {
        quietResults.push(await post(`${t.url}/v1/events`, quiet, sampleEvent(50_000 + i)));
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await Promise.all([...Array.from({ length: 20 }, floodWorker), quietWorker()]);

    const all = [...floodResults, ...quietResults];
    expect(all.filter((r) => r.status >= 500)).toEqual([]);
    expect(floodResults.filter((r) => r.status === 429).length).toBeGreaterThan(300);
    for (const r of floodResults) expect([200, 201, 429]).toContain(r.status);
    expect(quietResults.map((r) => r.status)).toEqual(Array(20).fill(201));

    // Every acknowledged event is in the log, under its tenant, and its receipt verifies.
    const acked: { tenant: 'flood' | 'quiet'; receipt: any }[] = [];
    for (const r of floodResults) {
      if (r.status === 201) acked.push({ tenant: 'flood', receipt: r.json });
      if (r.status === 200) for (const x of r.json.results) if (x.status === 201) acked.push({ tenant: 'flood', receipt: x });
    }
    for (const r of quietResults) acked.push({ tenant: 'quiet', receipt: r.json });
    expect(new Set(acked.map((a) => a.receipt.index)).size).toBe(acked.length);
    for (const a of acked) {
      verifyReceipt(a.receipt.tlog_proof, vkey);
      const e = await get(`${t.url}/v1/entries/${a.receipt.index}`, auditors[a.tenant]);
      expect(e.status).toBe(200);
      expect(e.json.record.tenant).toBe(a.tenant);
      expect(e.json.leaf_hash).toBe(a.receipt.leaf_hash);
    }
    expect((await get(`${t.url}/healthz`)).status).toBe(200);
  });
});
