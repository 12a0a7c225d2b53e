/**
 * Export streams in constant memory: 100,000 events (~170 MB of NDJSON)
 * from a child server whose JavaScript heap is capped at 64 MB
 * (--max-old-space-size: buffering the export would crash it) and whose
 * anonymous resident memory, sampled from /proc while a slow reader stalls
 * it, must stay within a fixed bound above its idle size (buffering in the
 * socket, off the JS heap, would exceed it).
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer, type Child } from '../child.js';
import { post } from '../helpers.js';
import type { AuditEvent } from '../../src/events/index.js';
import { startQueryServer } from './helpers.js';

const N = 100_000;
const BOUND = 112 * 1024 * 1024;

async function rss(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  // Anonymous memory only: LevelDB reads tables through mmap, and those
  // file-backed pages count in VmRSS without being the server's memory.
  return Number(/RssAnon:\s+(\d+) kB/.exec(s)![1]) * 1024;
}

describe('export memory', () => {
  let dir: string | undefined;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`streams ${N} events under a fixed memory bound`, async () => {
    const qs = await startQueryServer();
    dir = qs.dataDir;
    const t0 = Date.now();
    // Valid events built directly (no per-event validation): this test is about the export, not the append path.
    const pad = 'p'.repeat(1400);
    for (let i = 0; i < N; i += 5000) {
      const batch: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(N, i + 5000); k++) {
        const event = {
          event_id: `019a2222-0000-7000-8000-${k.toString(16).padStart(12, '0')}`,
          run_id: `run-${k % 500}`,
          actor: { type: 'agent', id: `bot-${k % 5}` },
          action: { type: 'tool.call' },
          metadata: { pad },
        } as AuditEvent;
        batch.push(qs.server.log.append('acme', event, { assignedId: true }));
      }
      await Promise.all(batch);
    }
    await qs.close({ keepData: true });
    console.log(`built ${N} events in ${Date.now() - t0} ms`);

    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${saved ?? ''} --max-old-space-size=64`.trim();
    try {
      child = await spawnServer(dir, ['--origin', 'query.example/log']);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const token = (await post(`${child.url}/v1/keys`, admin, { role: 'auditor', tenant: 'acme' })).json.token;
    // Warm up (JIT, LevelDB caches), then take the idle size.
    await (await fetch(`${child.url}/v1/export?run_id=run-1`, { headers: { authorization: `Bearer ${token}` } })).text();
    const pid = child.proc.pid!;
    const idle = await rss(pid);
    let peak = idle;
    const sampler = setInterval(() => void rss(pid).then((r) => (peak = Math.max(peak, r)), () => {}), 20);

    // Only the built events (the log also holds the server's logged key creation for this tenant).
    const res = await fetch(`${child.url}/v1/export?format=ndjson&action=tool.call`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let bytes = 0;
    let lines = 0;
    let stalls = 0;
    let lastIndex = -1;
    let carry = '';
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      const text = carry + dec.decode(value, { stream: true });
      const parts = text.split('\n');
      carry = parts.pop()!;
      for (const p of parts) {
        const j = JSON.parse(p) as { index: number };
        expect(j.index).toBeGreaterThan(lastIndex);
        lastIndex = j.index;
        lines++;
      }
      // A slow reader: the server must wait, not buffer.
      if (bytes > (stalls + 1) * 40e6) {
        stalls++;
        await new Promise((r) => setTimeout(r, 700));
      }
    }
    clearInterval(sampler);
    console.log(`exported ${bytes} bytes; rss idle ${idle}, peak ${peak}`);
    expect(carry).toBe('');
    expect(lines).toBe(N);
    expect(bytes).toBeGreaterThan(1.4 * BOUND);
    expect(stalls).toBeGreaterThan(0);
    expect(peak - idle).toBeLessThan(BOUND);
  }, 240_000);
});
