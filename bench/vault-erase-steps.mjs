// In-process: time each step of one subject's erasure on a vault holding OTHERS other values.
// node bench/vault-erase-steps.mjs   (after npm run build; OTHERS default 100,000 ≈ a 1M-entry log in bench/privacy.mjs)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vault } from '../dist/vault/vault.js';

const OTHERS = Number(process.env.OTHERS ?? 100_000);
const dir = await mkdtemp(join(tmpdir(), 'tlog-vault-steps-'));
const vault = await Vault.open(dir, { masterKey: new Uint8Array(32).fill(7), retentionMs: 86_400_000 });
const item = (subject, i) => [
  { name: 'email', path: 'pii.email', subject, value: `${subject}@example.org` },
  { name: 'phone', path: 'pii.phone', subject, value: `+1 555 01${String(i % 100).padStart(2, '0')} ${String(i % 10_000).padStart(4, '0')}` },
];
const t0 = performance.now();
const every = Math.max(1, Math.floor(OTHERS / 2 / 1000));
let pending = [];
for (let i = 0, target = 0; i < OTHERS / 2 || target < 1000; i++) {
  const subject = i % every === 0 && target < 1000 ? (target++, 'erase-target') : `other-${i % 5000}`;
  pending.push((async () => { const h = await vault.resolve('bench', [subject]); await vault.seal('bench', `ev-${i}`, item(subject, i), h); })());
  if (pending.length >= 1000) { await Promise.all(pending); pending = []; }
}
await Promise.all(pending);
console.error(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.error((vault).db.getProperty('leveldb.stats'));
globalThis.__steps = [];
const e0 = performance.now();
const out = await vault.erase('bench', 'erase-target', (pseudonym, values) => ({ pseudonym, values }));
console.log(`erase ${out.values} values: ${Math.round(performance.now() - e0)} ms`, JSON.stringify(globalThis.__steps));
await vault.close();
await rm(dir, { recursive: true, force: true });
