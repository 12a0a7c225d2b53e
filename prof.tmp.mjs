import { spawn } from 'node:child_process';
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
const dist = (p) => import(new URL(`./dist/${p}`, import.meta.url).href);
const { nodeSha256 } = await dist('server.js');
const { Log } = await dist('log/log.js');
const { LogStore } = await dist('storage/store.js');
const { loadOrCreateSigningKey } = await dist('log/signing-key.js');
const { rfc6962Hasher } = await dist('merkle/index.js');
const { parseEvent, createUuidV7Generator } = await dist('events/index.js');
const { LogClient } = await dist('monitor/client.js');
const { catchUp } = await dist('monitor/monitor.js');
const big = '/tmp/prof-big';
const N = 50000;
function event(i) { return { ts: '2026-11-23T10:00:00.000Z', run_id: `run-${i % 997}`, session_id: 'sess-1', actor: { type: 'agent', id: `invoice-agent-${i % 7}`, version: '1.4.2', on_behalf_of: 'user-1234' }, action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp.invoices.approve' }, target: { system: 'erp', resource: `invoice/INV-${100000 + i}`, environment: 'prod' }, data_accessed: [{ type: 'invoice', id: `INV-${100000 + i}`, fields: ['amount', 'vendor', 'due_date'] }], reasoning: { summary: 'Amount under the auto-approval threshold and vendor is on the allow list.', model: 'model-x', confidence: 0.93 }, policy: { decision: 'ALLOW', matched_rule: 'invoices.auto_approve.under_5k' }, risk: { score: 12, factors: ['known_vendor'] }, result: { status: 'success', duration_ms: 84 } }; }
try { await readFile(join(big,'log.key')); } catch {
  await mkdir(big, { recursive: true, mode: 0o700 });
  const { signer } = await loadOrCreateSigningKey(big, 'bench.example/log');
  const store = await LogStore.open(join(big, 'log'));
  const log = await Log.open(store, { origin: 'bench.example/log', hasher: rfc6962Hasher(nodeSha256), signer, sha256: nodeSha256, maxBatch: 4096, maxPending: 65536 });
  const g = createUuidV7Generator();
  for (let i = 0; i < N; i += 8192) { const n = Math.min(8192, N - i); await Promise.all(Array.from({ length: n }, (_, k) => log.append('bench', parseEvent(event(i + k), { generateId: g }), { assignedId: true }))); }
  await log.close();
}
const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--data', big, '--origin', 'bench.example/log'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res) => { let b=''; child.stdout.on('data', (d) => { b += d; for (const l of b.split('\n')) { try { const j = JSON.parse(l); if (j.url) res(j.url); } catch {} } }); });
const admin = (await readFile(join(big, 'admin.token'), 'utf8')).trim();
const tok = (await (await fetch(`${url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'auditor', tenant: '*' }) })).json()).token;
const vkey = (await (await fetch(`${url}/v1/log`)).json()).verifier_key;
const client = new LogClient(url, { token: tok });
// raw fetch of bundles
let t0 = performance.now();
await Promise.all(Array.from({length: 8}, async (_, w) => { for (let k = w; k < 195; k += 8) await client.tile({ level: 'entries', index: k, width: 256 }); }));
console.log('bundles only', (195*256 / ((performance.now()-t0)/1000)).toFixed(0), 'entries/s');
t0 = performance.now();
await Promise.all(Array.from({length: 8}, async (_, w) => { for (let k = w; k < 195; k += 8) await client.tile({ level: 0, index: k, width: 256 }); }));
console.log('tiles only', (195*256 / ((performance.now()-t0)/1000)).toFixed(0), 'entries/s');
const h = rfc6962Hasher(nodeSha256);
for (const decode of [false, true]) {
  t0 = performance.now();
  const r = await catchUp(client, undefined, { verifierKey: vkey, hasher: h, decodeLeaves: decode });
  console.log('catchUp decode', decode, (r.entries / ((performance.now()-t0)/1000)).toFixed(0), 'entries/s');
}
child.kill();
