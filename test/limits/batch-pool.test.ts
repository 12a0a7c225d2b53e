/**
 * A batch and the sequencer pool (spec/limits.md §1, §2): a batch larger than
 * one tenant's share of the pool can never be admitted, so it gets a
 * permanent 413 BATCH_TOO_LARGE rather than a 503 to retry forever; a batch
 * refused with 503 OVERLOADED because the pool is busy gets its rate-limit
 * charge back (but for one event). The rate limits are checked by what the
 * key can still send afterwards, with a refill too slow to matter.
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { Sequencer } from '../../src/log/sequencer.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const batch = (n: number, from = 0) => ({ events: Array.from({ length: n }, (_, i) => sampleEvent(from + i)) });

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** maxPending 64: one tenant's share is 32. Each key may append 50 events, refilled at one per 1,000 s. */
const SETTINGS = { maxPending: 64, rateAppendKey: '0.001,50' };

describe('a batch and the sequencer pool', () => {
  it('a batch larger than the tenant\'s share of the pool is 413 BATCH_TOO_LARGE (with the most it may hold), charged one event', async () => {
    t = await startTestServer(SETTINGS);
    const r = await post(`${t.url}/v1/events/batch`, t.agentToken, batch(40));
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('BATCH_TOO_LARGE');
    expect(r.json.error.max).toBe(32);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(t.server.log.pending).toBe(0);
    // 49 of 50 left: a batch of the full share passes (had the 40 been charged, 10 left: 429).
    const ok = await post(`${t.url}/v1/events/batch`, t.agentToken, batch(32, 100));
    expect(ok.status).toBe(200);
    expect(ok.json.results.every((x: { status: number }) => x.status === 201)).toBe(true);
    // The limit is the share, not the pool being busy: an empty pool still refuses 33.
    expect((await post(`${t.url}/v1/events/batch`, t.agentToken, batch(33, 200))).json.error.code).toBe('BATCH_TOO_LARGE');
  });

  it('a batch refused with 503 OVERLOADED while the pool is busy is charged one event, not its size', async () => {
    // A burst of 100: the refused batch of 32 fits the bucket, so it is the pool that refuses it.
    t = await startTestServer({ ...SETTINGS, rateAppendKey: '0.001,100' });
    const server = t;
    // Hold commits back so appends stay waiting in the pool.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sequencer = (server.server.log as unknown as { sequencer: Sequencer }).sequencer;
    const held = sequencer.exclusive(() => gate);
    const singles = Array.from({ length: 20 }, (_, i) => post(`${server.url}/v1/events`, server.agentToken, sampleEvent(i)));
    // Once one append waits in the pool it stays there until the gate opens.
    while ((await get(`${server.url}/healthz`)).json.pending < 1) await new Promise((r) => setImmediate(r));

    // A full share (32) with anything waiting: refused whole, for now.
    const busy = await post(`${server.url}/v1/events/batch`, server.agentToken, batch(32, 100));
    expect(busy.status).toBe(503);
    expect(busy.json.error.code).toBe('OVERLOADED');
    expect(busy.headers.get('retry-after')).toBe('1');

    release();
    await held;
    expect((await Promise.all(singles)).map((r) => r.status)).toEqual(Array(20).fill(201));
    // 100 − 20 singles − 1 for the refused batch = 79 left; had the 32 stayed charged, 48,
    // and the second batch below would be 429.
    for (const [n, from] of [
      [32, 200],
      [32, 300],
      [15, 400],
    ] as const) {
      const r = await post(`${server.url}/v1/events/batch`, server.agentToken, batch(n, from));
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.results.every((x: { status: number }) => x.status === 201)).toBe(true);
    }
    // And now the key is spent.
    expect((await post(`${server.url}/v1/events`, server.agentToken, sampleEvent(500))).status).toBe(429);
  });
});
