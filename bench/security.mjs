// Costs of the security checks on the request path, each printed beside a
// baseline measured in the same run (npm run build first):
//  - token authentication (SHA-256 look-up + constant-time compare) vs a
//    plain Map look-up keyed by the raw token (the cache this replaced);
//  - agent-signature verification: node:crypto (what the server uses, see
//    src/http/signed-events.ts) vs noble strict (what the offline verifier uses).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing } from '../dist/auth/keyring.js';
import { agentSignedBytes, signEventAsAgent, uuidv7, verifyAgentSignature } from '../dist/events/index.js';
import { fromBase64 } from '../dist/bytes/index.js';
import { LogStore } from '../dist/storage/store.js';


function time(name, n, f) {
  for (let i = 0; i < Math.min(n, 1000); i++) f(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`}/op`);
  return ns;
}

const dir = await mkdtemp(join(tmpdir(), 'tlog-bench-sec-'));
const store = await LogStore.open(join(dir, 'log'));
const ring = await KeyRing.load(store);
const tokens = [];
for (let i = 0; i < 100; i++) tokens.push((await ring.create({ role: 'agent', tenant: 'acme' })).token);
const cache = new Map(tokens.map((t) => [t, ring.get(ring.list()[0].id)]));

console.log('token authentication (100 keys)');
const base = time('  baseline: Map.get(raw token)', 1_000_000, (i) => cache.get(tokens[i % 100]));
const auth = time('  KeyRing.authenticate (SHA-256 + timingSafeEqual)', 1_000_000, (i) => ring.authenticate(tokens[i % 100]));
console.log(`  → ${(auth - base).toFixed(0)} ns more per request`);

const seed = crypto.getRandomValues(new Uint8Array(32));
const signed = signEventAsAgent(
  {
    event_id: uuidv7(),
    actor: { type: 'agent', id: 'agent-1' },
    action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp' },
    target: { system: 'erp', resource: 'invoice/1' },
    result: { status: 'success', duration_ms: 12 },
  },
  seed,
);
const pub = fromBase64(signed.agent_signature.public_key);
const sig = fromBase64(signed.agent_signature.signature);
const keyObj = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
console.log('agent signature verification (one small event)');
const nodeNs = time('  server: node:crypto Ed25519 verify', 5_000, () => nodeVerify(null, agentSignedBytes(signed), keyObj, sig));
const nobleNs = time('  verifier library: verifyAgentSignature (noble, strict)', 5_000, () => verifyAgentSignature(signed));
console.log(`  → a 1,000-event signed batch costs the server ~${((nodeNs * 1000) / 1e6).toFixed(0)} ms of verification (noble would take ${(nobleNs / nodeNs).toFixed(1)}× that)`);

await store.close();
await rm(dir, { recursive: true, force: true });
