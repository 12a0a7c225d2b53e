// Run by tile-memory.test.ts as `node --expose-gc heap-probe.mjs`: appends
// through the real Log (dist/) and prints how much V8 heap each logged entry
// keeps while the log stays open. The log's bounded caches (hash tiles above
// all) must not hold per-entry objects: thousands of cached tiles of 511 small
// Uint8Arrays each once made the heap grow ~300 bytes per entry, and every
// full GC had to mark them (src/merkle/tiles.ts, TileTree).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
const { LogStore } = await import(dist('storage/store.js'));
const { Log } = await import(dist('log/log.js'));
const { rfc6962Hasher } = await import(dist('merkle/index.js'));
const { nodeSha256 } = await import(dist('server.js'));
const { BlockIndexer } = await import(dist('query/block-indexer.js'));
const { loadOrCreateSigningKey } = await import(dist('log/signing-key.js'));

const dir = await mkdtemp(join(tmpdir(), 'tlog-heap-'));
const origin = 'heap.example/log';
const { signer } = await loadOrCreateSigningKey(dir, origin);
const log = await Log.open(await LogStore.open(join(dir, 'log')), { origin, hasher: rfc6962Hasher(nodeSha256), signer, sha256: nodeSha256, indexer: new BlockIndexer() });
const event = (i) => ({
  event_id: `019a4444-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
  ts: '2026-11-23T10:00:00.000Z',
  run_id: `run-${i % 100}`,
  actor: { type: 'agent', id: `agent-${i % 7}` },
  action: { type: 'tool.call', name: 'approve_invoice' },
  target: { system: 'erp', resource: `invoice/INV-${i}` },
  result: { status: 'success' },
});
async function append(from, n) {
  for (let i = from; i < from + n; i += 2000) await Promise.all(Array.from({ length: Math.min(2000, from + n - i) }, (_, k) => log.append('t', event(i + k), { assignedId: true })));
}
const heap = () => {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const N = 40_000;
await append(0, 4_000); // warm-up: JIT, the open index block, the first tiles
const before = heap();
await append(4_000, N);
const after = heap();
await log.close();
await rm(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ entries: N, heapPerEntry: (after - before) / N }) + '\n');
