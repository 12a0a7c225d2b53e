/**
 * Fair turns over real HTTP (a child server, so client and server do not
 * share an event loop): one tenant's 1,000-event batch is read and answered
 * in turns, so another tenant's single append, sent once the batch is on its
 * way, is logged before the batch's events and answered before the batch. Without turns the batch's parse holds
 * the event loop, its 1,000 appends are queued first, and the single append
 * waits for them: it gets a later log index than the batch's first event.
 * Ordering, not timing, is asserted.
 */

import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childKey, spawnServer, type Child } from '../child.js';
import { get, post, sampleEvent, tempDir } from '../helpers.js';

describe('fair turns over HTTP', () => {
  let child: Child;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    child = await spawnServer(dir, ['--rate-append-key', 'off', '--rate-append-tenant', 'off', '--rate-read-key', 'off', '--rate-read-tenant', 'off']);
  });
  afterAll(async () => {
    child.proc.kill('SIGTERM');
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it("a single append of one tenant is answered before another tenant's 1,000-event batch sent first", async () => {
    const big = await childKey(child, dir, 'agent', 'bulk');
    const small = await childKey(child, dir, 'agent', 'small');
    const order: string[] = [];
    const events = Array.from({ length: 1000 }, (_, i) => sampleEvent(i, { reasoning: { summary: `batch event ${i} `.repeat(8) } }));
    // The batch goes out on node:http, so the test knows when its last byte
    // has been handed to the kernel; the single append follows 10 ms later,
    // while the server is reading the batch's events.
    const body = JSON.stringify({ events });
    let sent!: () => void;
    const bodySent = new Promise<void>((r) => (sent = r));
    const batch = new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request(`${child.url}/v1/events/batch`, { method: 'POST', headers: { authorization: `Bearer ${big}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          order.push('batch');
          resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        });
      });
      req.on('error', reject);
      req.on('finish', sent);
      req.end(body);
    });
    await bodySent;
    await new Promise((r) => setTimeout(r, 10));
    const single = post(`${child.url}/v1/events`, small, sampleEvent(5000)).then((r) => {
      order.push('single');
      return r;
    });
    const [b, s] = await Promise.all([batch, single]);
    expect(b.status).toBe(200);
    expect(b.json.results.filter((x: { status: number }) => x.status === 201)).toHaveLength(1000);
    expect(s.status).toBe(201);
    expect(order).toEqual(['single', 'batch']);
    // The single append reached the log between the batch's turns, before
    // any of the batch's events (which are queued once all are read).
    const batchFirst = Math.min(...b.json.results.map((x: { index: number }) => x.index));
    expect(s.json.index).toBeLessThan(batchFirst);
    const health = await get(`${child.url}/healthz`);
    expect(health.json.waiting_turns).toBe(0);
  });
});
