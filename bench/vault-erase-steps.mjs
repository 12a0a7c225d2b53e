// In process: the time of each step of one subject's erasure (issue 4: "measure each step"), on a
// vault holding OTHERS values of other subjects beside the subject's 2,000 (default 100,000, about
// what a 1M-entry log in bench/privacy.mjs leaves in the vault). With BUSY_LOG=1 a second LevelDB
// in the same process takes steady writes meanwhile, as the log does in the server: LevelDB runs
// every database's compactions on one shared background thread, so the vault's compactRange waits
// behind the log's compactions.
//   npm run build && node bench/vault-erase-steps.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { Vault } from '../dist/vault/vault.js';

const OTHERS = Number(process.env.OTHERS ?? 100_000);
const root = await mkdtemp(join(tmpdir(), 'tlog-vault-steps-'));
const vault = await Vault.open(join(root, 'vault'), { masterKey: new Uint8Array(32).fill(7), retentionMs: 86_400_000 });
const item = (subject, i) => [
  { name: 'email', path: 'pii.email', subject, value: `${subject}@example.org` },
  { name: 'phone', path: 'pii.phone', subject, value: `+1 555 01${String(i % 100).padStart(2, '0')} ${String(i % 10_000).padStart(4, '0')}` },
];

let busy;
let stopBusy = false;
if (process.env.BUSY_LOG === '1') {
  const log = new Level(join(root, 'log'), { keyEncoding: 'view', valueEncoding: 'view' });
  await log.open();
  busy = (async () => {
    let i = 0;
    while (!stopBusy) {
      const b = log.batch();
      for (let k = 0; k < 500; k++) b.put(new TextEncoder().encode(`e${String(i++).padStart(10, '0')}`), new Uint8Array(600).fill(i & 255));
      await b.write({ sync: true });
    }
    await log.close();
  })();
}

const t0 = performance.now();
const every = Math.max(1, Math.floor(OTHERS / 2 / 1000));
let pending = [];
for (let i = 0, target = 0; i < OTHERS / 2 || target < 1000; i++) {
  const subject = i % every === 0 && target < 1000 ? (target++, 'erase-target') : `other-${i % 5000}`;
  pending.push((async () => vault.seal('bench', `ev-${i}`, item(subject, i), await vault.resolve('bench', [subject])))());
  if (pending.length >= 1000) {
    await Promise.all(pending);
    pending = [];
  }
}
await Promise.all(pending);
console.error(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.error(vault.db.getProperty('leveldb.stats'));
const e0 = performance.now();
const out = await vault.erase('bench', 'erase-target', (pseudonym, values) => ({ pseudonym, values }));
console.log(`erase ${out.values} values${busy ? ' (busy log beside)' : ''}: ${Math.round(performance.now() - e0)} ms, steps ${JSON.stringify(out.steps)}`);
stopBusy = true;
await busy;
await vault.close();
await rm(root, { recursive: true, force: true });
