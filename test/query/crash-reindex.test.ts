/**
 * Indexes never drift: kill -9 a server under load, then the stored index
 * entries are exactly those the stored leaves call for, and `reindex`
 * rebuilds the very same bytes (the CLI, run on the data folder).
 */

import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { INDEX_RANGE } from '../../src/query/keys.js';
import { agrees, compareIndexes } from '../../src/query/reindex.js';
import { LogStore } from '../../src/storage/store.js';
import { childKey, CLI, spawnServer, type Child } from '../child.js';
import { post, tempDir } from '../helpers.js';
import { randomEvent, rng } from './helpers.js';

const run = promisify(execFile);

async function snapshot(dir: string): Promise<string[]> {
  const store = await LogStore.open(join(dir, 'log'));
  try {
    const out: string[] = [];
    for await (const [k, v] of store.db.iterator(INDEX_RANGE)) out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`);
    return out;
  } finally {
    await store.close();
  }
}

describe('index and log agree after kill -9', () => {
  let dir: string;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('agree after a kill under load, and reindex rebuilds identical bytes', async () => {
    dir = await tempDir('tlog-qcrash-');
    child = await spawnServer(dir);
    const agent = await childKey(child, dir, 'agent', 'acme');
    const agent2 = await childKey(child, dir, 'agent', 'beta');
    let acked = 0;
    let stop = false;
    const worker = async (w: number) => {
      const r = rng(w);
      for (let i = 0; !stop; i++) {
        try {
          const res = await post(`${child!.url}/v1/events/batch`, w % 2 ? agent : agent2, { events: Array.from({ length: 10 }, (_, k) => randomEvent(r, i * 10 + k)) });
          if (res.status === 200) acked += res.json.results.filter((x: any) => x.status === 201).length;
        } catch {
          return;
        }
      }
    };
    const workers = Array.from({ length: 12 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 1500));
    child.proc.kill('SIGKILL');
    await child.exited;
    stop = true;
    await Promise.all(workers);
    child = undefined;
    expect(acked).toBeGreaterThan(100);

    const store = await LogStore.open(join(dir, 'log'));
    const c = await compareIndexes(store);
    await store.close();
    expect(c.entries).toBeGreaterThanOrEqual(acked);
    expect(c.missing).toBe(0);
    expect(c.extra).toBe(0);
    expect(agrees(c)).toBe(true);
    // Block keys: far fewer than one per entry and list, but every list of every block.
    expect(c.stored).toBeGreaterThan(c.entries / 256 * 10);

    const before = await snapshot(dir);
    const check = await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir]);
    expect(check.stdout).toMatch(/^ok: /);
    const rebuilt = await run(process.execPath, [CLI, 'reindex', '--data', dir]);
    expect(rebuilt.stdout).toMatch(/before: matched/);
    expect(rebuilt.stdout).toMatch(/^ok: rebuilt/m);
    expect(await snapshot(dir)).toEqual(before);
  }, 60_000);

  it('reindex --check reports a damaged index, and reindex repairs it', async () => {
    const store = await LogStore.open(join(dir, 'log'));
    const keys = await store.db.keys({ ...INDEX_RANGE, limit: 3 }).all();
    await store.db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    await store.db.put(new Uint8Array([...INDEX_RANGE.gte, 0x7a, 0x7a]), new Uint8Array(0));
    await store.close();
    const bad = await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir]).catch((e: { stdout: string; code: number }) => e);
    expect((bad as { code?: number }).code).toBe(1);
    expect(bad.stdout).toMatch(/MISMATCH: .* 3 missing or different, 1 extra/);
    const fixed = await run(process.execPath, [CLI, 'reindex', '--data', dir]);
    expect(fixed.stdout).toMatch(/before: did not match/);
    expect(fixed.stdout).toMatch(/^ok: rebuilt/m);
    expect((await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir])).stdout).toMatch(/^ok: /);
  }, 60_000);
});
