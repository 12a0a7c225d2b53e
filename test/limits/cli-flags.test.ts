/** The limit settings reach the server from CLI flags and from the environment. */

import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type Child } from '../child.js';
import { post, sampleEvent, tempDir } from '../helpers.js';

describe('serve flags for rate limits and timeouts', () => {
  let child: Child;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    // The request timeout comes from the environment, the rest from flags.
    process.env.TLOG_REQUEST_TIMEOUT_MS = '600';
    try {
      child = await spawnServer(dir, ['--rate-append-key', '0.001,2', '--headers-timeout', '300']);
    } finally {
      delete process.env.TLOG_REQUEST_TIMEOUT_MS;
    }
  });
  afterAll(async () => {
    child.proc.kill('SIGTERM');
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('--rate-append-key limits appends; TLOG_REQUEST_TIMEOUT_MS cuts a stalled body with 408', async () => {
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const agent = (await post(`${child.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json.token as string;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(`${child.url}/v1/events`, agent, sampleEvent(i))).status);
    expect(statuses).toEqual([201, 201, 429]);

    // A fresh key (the first is limited now, and a 429 is answered before the body is read).
    const fresh = (await post(`${child.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json.token as string;
    const u = new URL(child.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname, () =>
        s.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${fresh}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ac`),
      );
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('hang')));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
  });
});

describe('serve flags for the body budget and connections', () => {
  it('--body-budget reaches the configuration: one below twice the largest body limit stops the server with its name', async () => {
    const dir = await tempDir();
    try {
      const err = await spawnServer(dir, ['--max-connections', '100', '--max-batch-body', '65536', '--body-budget', '131071']).then(
        (c) => {
          c.proc.kill('SIGTERM');
          return 'started';
        },
        (e: Error) => e.message,
      );
      expect(err).toMatch(/TLOG_BODY_BUDGET: must be at least twice the largest body limit \(2 × 262144/);
      // With room for two of the largest bodies it starts.
      const ok = await spawnServer(dir, ['--max-connections', '100', '--max-batch-body', '65536', '--body-budget', '524288']);
      expect((await fetch(`${ok.url}/healthz`)).status).toBe(200);
      ok.proc.kill('SIGTERM');
      await ok.exited;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
