/** `agent-tlog subjects show|erase|hold` and `retention run` work through the API (the built CLI, a real server). */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../child.js';
import { makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const run = promisify(execFile);

describe('subjects and retention CLI', () => {
  let t: TestServer;
  let common: string[];
  beforeAll(async () => {
    t = await startTestServer();
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    common = ['--url', t.url, '--token', privacy];
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'cli@example.org', value: 'cli.value@example.org' } } }));
  });
  afterAll(() => t.close());

  it('shows, holds, refuses erasure under hold, lifts, erases', async () => {
    const cli = async (...args: string[]) => JSON.parse((await run(process.execPath, [CLI, ...args])).stdout);
    const shown = await cli('subjects', 'show', 'cli@example.org', '--purpose', 'DSR-7', ...common);
    expect(shown.values[0].value).toBe('cli.value@example.org');
    expect((await cli('subjects', 'hold', 'cli@example.org', '--reason', 'case 9', ...common)).hold).toBe(true);
    const refused = await run(process.execPath, [CLI, 'subjects', 'erase', 'cli@example.org', '--reason', 'DSR-7', ...common]).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toContain('409 LEGAL_HOLD');
    expect((await cli('subjects', 'hold', 'cli@example.org', '--lift', ...common)).hold).toBe(false);
    const erased = await cli('subjects', 'erase', 'cli@example.org', '--reason', 'DSR-7', ...common);
    expect(erased.values_erased).toBe(1);
    expect(erased.receipt.tlog_proof).toContain('c2sp.org/tlog-proof@v1');
  });

  it('subjects commands need a privacy token: without one they say so, and never fall back to admin.token (whose key gets 403)', async () => {
    const env = { ...process.env };
    delete env.TLOG_TOKEN;
    const r = await run(process.execPath, [CLI, 'subjects', 'show', 'cli@example.org', '--purpose', 'x', '--url', t.url], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toContain('needs a privacy-role token: give --token or set TLOG_TOKEN');
    // --data (where admin.token lives) is not an option of these commands.
    const d = await run(process.execPath, [CLI, 'subjects', 'show', 'x', '--purpose', 'x', '--data', t.dataDir], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((d as { stderr: string }).stderr).toContain("unknown option '--data'");
  });

  it('retention run is a dry run unless --apply', async () => {
    const dry = JSON.parse((await run(process.execPath, [CLI, 'retention', 'run', '--url', t.url, '--token', t.adminToken])).stdout);
    expect(dry.dry_run).toBe(true);
    const applied = JSON.parse((await run(process.execPath, [CLI, 'retention', 'run', '--apply', '--url', t.url, '--token', t.adminToken])).stdout);
    expect(applied).toMatchObject({ dry_run: false, status: 'done' });
    // --no-wait prints the started run; `retention status` reads it, done or not.
    const started = JSON.parse((await run(process.execPath, [CLI, 'retention', 'run', '--no-wait', '--url', t.url, '--token', t.adminToken])).stdout);
    expect(started).toMatchObject({ id: expect.stringMatching(/^ret_/), dry_run: true, status: 'running' });
    const status = JSON.parse((await run(process.execPath, [CLI, 'retention', 'status', started.id, '--url', t.url, '--token', t.adminToken])).stdout);
    expect(status).toMatchObject({ id: started.id, dry_run: true, status: expect.stringMatching(/^(running|done)$/) });
  });
});

describe('retention run lists what it would erase', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 5, 1);
  let index: number;
  beforeAll(async () => {
    t = await startTestServer({ piiRetentionDays: 90, retentionOperationalDays: 30, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    index = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'operational', pii: { email: { subject: 'lee@example.org', value: 'lee.value@example.org' } } }))).json.index;
  });
  afterAll(() => t.close());

  it('a dry run prints the subjects by pseudonym and the entry ranges; --apply then erases and prunes them', async () => {
    now += 91 * 86_400_000;
    const cli = async (...args: string[]) => JSON.parse((await run(process.execPath, [CLI, 'retention', 'run', ...args, '--url', t.url, '--token', t.adminToken])).stdout);
    const dry = await cli();
    expect(dry.pii.details).toEqual([{ tenant: 'acme', pseudonym: expect.stringMatching(/^ps_[A-Za-z0-9_-]{22}$/), values: 1 }]);
    expect(dry.entries.ranges).toEqual([[index, index]]); // the key events before it are compliance-class
    expect(JSON.stringify(dry)).not.toContain('lee');
    const applied = await cli('--apply');
    expect(applied.pii).toEqual({ subjects: 1, values: 1, held: 0 });
    expect(applied.entries).toEqual({ pruned: 1, held: 0 });
  });
});
