/**
 * The files a first start writes (log.key, vault.key, admin.token) are
 * written whole or not at all: a kill -9 while one is being written leaves
 * no empty or partial file that would stop every later start, and the first
 * admin token is in its file before its key is stored.
 */

import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { KeyRing } from '../../src/auth/keyring.js';
import { writeSecretFile } from '../../src/secret-file.js';
import { startServer } from '../../src/server.js';
import { LogStore } from '../../src/storage/store.js';
import { get, post, sampleEvent, tempDir } from '../helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const fresh = async () => {
  const d = await tempDir('tlog-first-');
  dirs.push(d);
  return d;
};

describe('writeSecretFile', () => {
  it('never replaces an existing file unless told to, and leaves no temporary file', async () => {
    const d = await fresh();
    const p = join(d, 'k');
    await writeSecretFile(p, 'one\n');
    await expect(writeSecretFile(p, 'two\n')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(p, 'utf8')).toBe('one\n');
    await writeSecretFile(p, 'three\n', { exclusive: false });
    expect(await readFile(p, 'utf8')).toBe('three\n');
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readdir(d)).toEqual(['k']);
  });

  it("removes temporary files a crash left for the same name (a key's copy must not outlive it), and only those", async () => {
    const d = await fresh();
    for (const n of ['log.key.4242.tmp', 'log.key.1.tmp', 'log.keyx.7.tmp', 'log.key.old.tmp', 'vault.key.9.tmp']) await writeFile(join(d, n), 'old key\n');
    await writeSecretFile(join(d, 'log.key'), 'new\n');
    expect((await readdir(d)).sort()).toEqual(['log.key', 'log.key.old.tmp', 'log.keyx.7.tmp', 'vault.key.9.tmp']);
  });

  it('killed while writing, leaves the target absent (never empty or partial)', async () => {
    const d = await fresh();
    const target = join(d, 'vault.key');
    const module = pathToFileURL(join(process.cwd(), 'dist/secret-file.js')).href;
    // 256 MiB: the write is still going when the kill comes.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { writeSecretFile } = await import(${JSON.stringify(module)}); await writeSecretFile(${JSON.stringify(target)}, 'x'.repeat(256 * 1024 * 1024));`], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill once the temporary file has bytes in it.
    for (;;) {
      const names = await readdir(d);
      const tmp = names.find((n) => n.endsWith('.tmp'));
      if (tmp && (await stat(join(d, tmp)).catch(() => undefined))?.size) break;
      if (names.includes('vault.key')) throw new Error('the write finished before the kill: make it larger');
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await exited;
    expect(await readdir(d)).not.toContain('vault.key');
  });
});

describe('the first admin token', () => {
  it('is in its file before its key is stored', async () => {
    const d = await fresh();
    const store = await LogStore.open(join(d, 'log'));
    try {
      const ring = await KeyRing.load(store);
      const stored: number[] = [];
      await ring.create(
        { role: 'admin', tenant: '*' },
        undefined,
        {
          beforeStore: async (token) => {
            await writeSecretFile(join(d, 'admin.token'), token + '\n', { exclusive: false });
            let n = 0;
            for await (const _ of store.keyRecords()) n++;
            stored.push(n);
          },
        },
      );
      expect(stored).toEqual([0]);
      expect((await KeyRing.load(store)).size).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('left by a start that crashed before storing its key, is replaced by a working one', async () => {
    const d = await fresh();
    await writeFile(join(d, 'admin.token'), 'atlk_left_by_a_crashed_start\n', { mode: 0o600 });
    const s = await startServer(loadConfig({}, { port: 0, dataDir: d, logLevel: 'silent' }));
    try {
      const token = (await readFile(join(d, 'admin.token'), 'utf8')).trim();
      expect(token).not.toBe('atlk_left_by_a_crashed_start');
      expect((await get(`${s.url}/v1/keys`, token)).status).toBe(200);
      const agent = (await post(`${s.url}/v1/keys`, token, { role: 'agent', tenant: 'acme' })).json.token;
      expect((await post(`${s.url}/v1/events`, agent, sampleEvent(1))).status).toBe(201);
    } finally {
      await s.close();
    }
  });
});
