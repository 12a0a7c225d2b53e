/**
 * Long retention runs over HTTP: a waited-for run keeps its connection past the server's
 * silent-connection limit (2× the request deadline), and a stop ends a run between prune
 * batches, before the databases close under it; the rest is pruned by the next run.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const DAY = 86_400_000;
const N = 30_000;

async function fill(t: TestServer, n: number, offset: number) {
  for (let i = 0; i < n; i += 1000) {
    const events = Array.from({ length: Math.min(1000, n - i) }, (_, k) => sampleEvent(offset + i + k, { retention: 'operational' }));
    expect((await post(`${t.url}/v1/events/batch`, t.agentToken, { events })).status).toBe(200);
  }
}

describe('long retention runs', () => {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const lines: string[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
  let t: TestServer;
  beforeAll(async () => {
    // A 500 ms request deadline: the server drops connections silent for 1 s.
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0, requestTimeout: 500, headersTimeout: 500 }, undefined, { now: clock, logger });
    await fill(t, N, 0);
    now += 31 * DAY;
  }, 120_000);
  afterAll(() => t.close());

  it('a stop ends an applied run between batches: no database closes under it, and the next run prunes the rest', async () => {
    const r = await fetch(`${t.url}/v1/retention/run?apply=true&wait=false`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(r.status).toBe(202);
    // Stop once the first batch is pruned (entry 100 is one of the operational events): the run is
    // then surely under way, and far from done.
    while ((await get(`${t.url}/v1/entries/100`, t.auditorToken)).status !== 410) await new Promise((ok) => setTimeout(ok, 5));
    const dir = t.dataDir;
    await t.close({ keepData: true });
    const log = lines.join('');
    expect(log).not.toMatch(/not open/i);
    expect(log).toContain('the server is stopping: the retention run ended early');
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0, requestTimeout: 500, headersTimeout: 500 }, dir, { now: clock, logger });
    const left = await post(`${t.url}/v1/retention/run`, t.adminToken, '');
    expect(left.json.entries.pruned).toBeGreaterThan(0);
    expect(left.json.entries.pruned).toBeLessThan(N);
  }, 120_000);

  it('a waited-for run answers after the silent-connection limit has passed', async () => {
    const t0 = Date.now();
    const r = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    const ms = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(r.json.entries.pruned).toBeGreaterThan(0);
    // The run outlasted the 1 s limit (else this test proves nothing).
    expect(ms).toBeGreaterThan(1000);
    expect((await get(`${t.url}/v1/retention/runs/${r.json.id}`, t.adminToken)).json.status).toBe('done');
  }, 120_000);
});
