/** Real witness servers for tests: a LevelDB in a temp folder, node:http on a loopback port. */

import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSignerKey } from '../../src/note/index.js';
import { loadWitnessConfig } from '../../src/witness/config.js';
import { startWitness, type RunningWitness } from '../../src/witness/server.js';
import { tempDir } from '../helpers.js';

export interface TestWitness {
  w: RunningWitness;
  url: string;
  dataDir: string;
  /** Stops the server; keeps the data folder unless `wipe`. */
  close(opts?: { wipe?: boolean }): Promise<void>;
}

export async function startTestWitness(
  logs: string[],
  opts: { name?: string; dataDir?: string; seed?: Uint8Array; nowSeconds?: () => number; port?: number } = {},
): Promise<TestWitness> {
  const dataDir = opts.dataDir ?? (await tempDir('tlog-witness-'));
  const name = opts.name ?? 'witness.test/w';
  if (opts.seed) await writeFile(join(dataDir, 'witness.key'), formatSignerKey(name, opts.seed) + '\n', { mode: 0o600 });
  const config = loadWitnessConfig({}, { port: opts.port ?? 0, dataDir, name, logs, logLevel: 'silent' });
  const w = await startWitness(config, opts.nowSeconds ? { nowSeconds: opts.nowSeconds } : {});
  return {
    w,
    url: w.url,
    dataDir,
    async close(o = {}) {
      await w.close();
      if (o.wipe) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function postText(url: string, body: string | Uint8Array): Promise<{ status: number; text: string; contentType: string | null }> {
  const r = await fetch(url, { method: 'POST', body: body as BodyInit });
  return { status: r.status, text: await r.text(), contentType: r.headers.get('content-type') };
}
