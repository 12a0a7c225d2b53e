/** A full sequencer pool answers 503 with Retry-After; the keys CLI works through the API. */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { CLI } from '../child.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const run = promisify(execFile);

describe('backpressure', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxPending: 4, maxBatch: 2 });
  });
  afterAll(() => t.close());

  it('answers 503 OVERLOADED with Retry-After when the pool is full, and loses nothing it acknowledged', async () => {
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i))));
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].every((s) => s === 201 || s === 503)).toBe(true);
    const rejected = results.filter((r) => r.status === 503);
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) {
      expect(r.json.error.code).toBe('OVERLOADED');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const ok = results.filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of ok) verifyReceipt(r.json.tlog_proof, vkey);
    // A batch larger than a tenant's share of the pool (2 of 4) can never fit: refused whole, for good (test/limits/batch-pool.test.ts).
    const batch = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: 10 }, (_, i) => sampleEvent(900 + i)) });
    expect(batch.status).toBe(413);
    expect(batch.json.error.code).toBe('BATCH_TOO_LARGE');
  });
});

describe('agent-tlog keys', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('creates, lists and revokes keys with the admin token from the data folder', async () => {
    const common = ['--url', t.url, '--data', t.dataDir];
    const created = JSON.parse((await run(process.execPath, [CLI, 'keys', 'create', '--role', 'agent', '--tenant', 'cli-test', ...common])).stdout);
    expect(created.token).toMatch(/^atlk_/);
    expect(created.tenant).toBe('cli-test');
    expect((await post(`${t.url}/v1/events`, created.token, sampleEvent(1))).status).toBe(201);
    const listed = JSON.parse((await run(process.execPath, [CLI, 'keys', 'list', ...common])).stdout);
    expect(listed.keys.some((k: { id: string }) => k.id === created.id)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    await run(process.execPath, [CLI, 'keys', 'revoke', created.id, ...common]);
    expect((await post(`${t.url}/v1/events`, created.token, sampleEvent(2))).status).toBe(401);
    // A bad token is a clean non-zero exit with the server's code.
    const bad = await run(process.execPath, [CLI, 'keys', 'list', '--url', t.url, '--token', 'atlk_wrong']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toContain('UNAUTHENTICATED');
  });
});
