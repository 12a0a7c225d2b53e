// In process: CPU per event of the vault's append path alone (resolve + seal of an event with two
// personal values of one returning subject, 1,000 events at a time as a batch request makes them),
// on a vault that already knows SUBJECTS subjects. Prints process CPU (main thread and LevelDB's
// threads) and main-thread busy time (event-loop utilisation) per event, median of ROUNDS.
// DIST=<folder>[,<folder>…] runs several builds of the code in one process, their rounds
// alternated, so an A/B on a shared, noisy machine sees the same load on both sides.
//   npm run build && node bench/vault-seal-cpu.mjs
//   DIST=dist,/path/to/other/dist node bench/vault-seal-cpu.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const DISTS = (process.env.DIST ?? 'dist').split(',').map((d) => resolve(d));
const SUBJECTS = Number(process.env.SUBJECTS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const PER_ROUND = Number(process.env.PER_ROUND ?? 10_000);

const root = await mkdtemp(join(tmpdir(), 'tlog-vault-seal-'));
const items = (subject, i) => [
  { name: 'email', path: 'pii.email', subject, value: `${subject}@example.org` },
  { name: 'phone', path: 'pii.phone', subject, value: `+1 555 01${String(i % 100).padStart(2, '0')} ${String(i % 10_000).padStart(4, '0')}` },
];

async function setup(dist, k) {
  const { Vault } = await import(pathToFileURL(join(dist, 'vault/vault.js')).href);
  // The server's base64 (src/server.ts installs Buffer's for the shared byte helpers).
  const { useNativeBase64 } = await import(pathToFileURL(join(dist, 'bytes/index.js')).href);
  useNativeBase64((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'));
  const vault = await Vault.open(join(root, `vault-${k}`), { masterKey: new Uint8Array(32).fill(7), retentionMs: 86_400_000 });
  let n = 0;
  const events = async (count, subjectOf) => {
    for (let done = 0; done < count; done += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, count - done) }, async () => {
          const i = n++;
          const subject = subjectOf(i);
          const handles = await vault.resolve('bench', [subject]);
          return vault.seal('bench', `0193b2c4-7f00-7000-8000-${String(i).padStart(12, '0')}`, items(subject, i), handles);
        }),
      );
    }
  };
  await events(SUBJECTS, (i) => `customer-${i}`); // every subject's first contact
  return { dist, vault, events, results: [] };
}

const runs = [];
for (const [k, d] of DISTS.entries()) runs.push(await setup(d, k));
for (let r = 0; r < ROUNDS; r++) {
  for (const run of runs) {
    const c0 = process.cpuUsage();
    const e0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await run.events(PER_ROUND, (i) => `customer-${i % SUBJECTS}`);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const e = performance.eventLoopUtilization(e0);
    run.results.push({ cpu: (c.user + c.system) / PER_ROUND, main: (e.active * 1000) / PER_ROUND, rate: PER_ROUND / (wall / 1000) });
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const run of runs) {
  const m = (k) => median(run.results.map((x) => x[k]));
  console.log(
    `${run.dist}: process CPU ${m('cpu').toFixed(1)} µs/event, main thread ${m('main').toFixed(1)} µs/event, ${Math.round(m('rate'))} events/s (median of ${ROUNDS}; cpu/main: ${run.results
      .map((x) => `${x.cpu.toFixed(0)}/${x.main.toFixed(0)}`)
      .join(' ')})`,
  );
  await run.vault.close();
}
await rm(root, { recursive: true, force: true });
