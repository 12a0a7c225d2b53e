// Run by young-generation.test.ts as `node --expose-gc promotion-probe.mjs <mode>`:
// serves requests in this process and prints how many old-generation bytes
// each request left behind once young collections have run. Short-lived
// request objects should die young; promoted ones cost a copy per scavenge
// and wait for a full GC (src/http/request-classes.ts says why it matters).
//   mode "server":  the real server (dist/), answering GET /healthz
//   mode "express": a bare express hello world, the control that shows the
//                   probe sees promotion where it happens
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import express from 'express';

const mode = process.argv[2];
const N = 3000;

function oldBytes() {
  // Two young collections: survivors of the first are promoted by the second.
  globalThis.gc({ type: 'minor' });
  globalThis.gc({ type: 'minor' });
  return getHeapSpaceStatistics().filter((s) => s.space_name === 'old_space').reduce((n, s) => n + s.space_used_size, 0);
}

let url;
let close;
if (mode === 'express') {
  const app = express();
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  const server = http.createServer(app);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
  close = () => new Promise((r) => server.close(r));
} else {
  const { loadConfig } = await import('../../dist/config.js');
  const { startServer } = await import('../../dist/server.js');
  const dir = await mkdtemp(join(tmpdir(), 'tlog-promo-'));
  const s = await startServer(loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', origin: 'probe.example/log' }));
  url = s.url;
  close = async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const get = () =>
  new Promise((resolve, reject) => {
    http.get(`${url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
async function load(n) {
  for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: 8 }, get));
}

await load(500); // warm-up: JIT, lazily built caches, the sockets
const before = oldBytes();
await load(N);
const after = oldBytes();
agent.destroy();
await close();
process.stdout.write(JSON.stringify({ mode, requests: N, promotedPerRequest: (after - before) / N }) + '\n');
