/**
 * A start that fails after the log's database is open (a port in use, an
 * unreadable vault key) leaves nothing behind in the process: the databases
 * are closed (their LevelDB locks released) and no timer keeps running, so
 * an embedding process can fix the cause and start again.
 */

import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { get, tempDir } from '../helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const config = (dataDir: string, over: Record<string, unknown> = {}) =>
  loadConfig({}, { port: 0, dataDir, logLevel: 'silent', origin: 'test.example/log', retentionSweepSeconds: 1, ...over });

describe('a start that fails part-way', () => {
  it('on a port in use: rejects, and a second start on the same data folder serves', async () => {
    const dir = await tempDir('tlog-startfail-');
    dirs.push(dir);
    const busy: Server = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(startServer(config(dir, { port }))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((ok) => busy.close(ok));
    }
    const s = await startServer(config(dir));
    try {
      expect((await get(`${s.url}/checkpoint`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('on a vault that cannot open: rejects, and the log database is not left locked', async () => {
    const dir = await tempDir('tlog-startfail-');
    dirs.push(dir);
    const keyFile = join(dir, 'elsewhere', 'vault.key');
    await mkdir(keyFile, { recursive: true }); // a folder where the vault key should be
    await expect(startServer(config(dir, { vaultKeyFile: keyFile }))).rejects.toThrow();
    await rm(keyFile, { recursive: true });
    const s = await startServer(config(dir, { vaultKeyFile: keyFile }));
    try {
      expect((await get(`${s.url}/checkpoint`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
