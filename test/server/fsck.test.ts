/** verify-store: a clean store passes; one changed byte is caught and named. */

import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { entryKey, tileKey } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { CLI } from '../child.js';
import { post, sampleEvent, startTestServer } from '../helpers.js';

const run = promisify(execFile);

async function verifyStoreCli(dir: string, extra: string[] = []): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'verify-store', '--data', dir, ...extra]);
    return { code: 0, out: r.stdout };
  } catch (e: any) {
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

async function populatedDir(n: number): Promise<string> {
  const t = await startTestServer();
  for (let i = 0; i < n; i += 100)
    await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: Math.min(100, n - i) }, (_, k) => sampleEvent(i + k)) });
  await t.close({ keepData: true });
  return t.dataDir;
}

describe('verify-store', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('passes on an intact store', async () => {
    const dir = await populatedDir(600);
    dirs.push(dir);
    const r = await verifyStoreCli(dir);
    expect(r.code).toBe(0);
    // + 3: startTestServer's three keys, each a logged key.create event.
    expect(r.out).toContain('ok: 603 entries');
    // A bad --key is a bad argument (2), not a store that failed its check (1).
    const bad = await verifyStoreCli(dir, ['--key', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--key: malformed verifier key');
  });

  it('names the first bad index when one byte of a leaf changes', async () => {
    const dir = await populatedDir(600);
    dirs.push(dir);
    const store = await LogStore.open(join(dir, 'log'));
    const leaf = new Uint8Array((await store.readEntry(333))!);
    leaf[leaf.length - 20]! ^= 0x01;
    await store.db.put(entryKey(333), leaf);
    await store.close();
    const r = await verifyStoreCli(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('first bad index: 333');
  });

  it('catches a changed byte in a hash tile', async () => {
    const dir = await populatedDir(600);
    dirs.push(dir);
    const store = await LogStore.open(join(dir, 'log'));
    const tile = new Uint8Array((await store.readTile(0, 1))!);
    tile[40 * 32 + 7]! ^= 0x80;
    await store.db.put(tileKey(0, 1), tile);
    await store.close();
    const r = await verifyStoreCli(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('first bad index: 296');
  });

  it('catches a byte flipped directly in a LevelDB file', async () => {
    const dir = await populatedDir(300);
    dirs.push(dir);
    // Compact so the leaves sit in .ldb tables, then flip a byte inside a leaf's text.
    const store = await LogStore.open(join(dir, 'log'));
    await store.compact(entryKey(0), entryKey(1e6));
    await store.close();
    const files = (await readdir(join(dir, 'log'))).filter((f) => f.endsWith('.ldb') || f.endsWith('.log'));
    let flipped = false;
    for (const f of files) {
      const p = join(dir, 'log', f);
      const b = await readFile(p);
      const at = b.indexOf('invoice/17');
      if (at >= 0) {
        b[at + 8] = 'X'.charCodeAt(0);
        await writeFile(p, b);
        flipped = true;
        break;
      }
    }
    expect(flipped).toBe(true);
    const r = await verifyStoreCli(dir);
    expect(r.code).not.toBe(0);
  });
});
