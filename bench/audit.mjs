// npm run bench:audit — the auditor's tools beside a raw SHA-256 rate from the same run.
//
//  1. verifyReceipt (agent-tlog/verifier, pure JS: @noble/hashes + @noble/ed25519) on
//     real receipts: each with its own checkpoint (one Ed25519 verification each), and
//     receipts sharing checkpoints (the verifier remembers verified checkpoints).
//  2. `agent-tlog monitor --once` over a fresh log of BENCH_MONITOR_ENTRIES entries
//     (default 250,000, so the run takes a few minutes; README quotes 1,000,000),
//     served by a child process: every entry bundle and hash tile over loopback
//     HTTP, every leaf hashed (and decoded with --check-leaves), the tree recomputed.
//
// The large log is built by driving the Log class directly (no HTTP), like a server
// would under load, then served by `agent-tlog serve` on the same data folder.
// BENCH_RECEIPTS (default 2,000), BENCH_OUT (optional file for the table).
import { spawn } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { event, post, printTable } from './lib.mjs';

const ENTRIES = Number(process.env.BENCH_MONITOR_ENTRIES ?? 250_000);
const RECEIPTS = Number(process.env.BENCH_RECEIPTS ?? 2_000);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);

const { verifyReceipt, verifyReceiptAsync } = await dist('verifier/index.js');
const { startServer, nodeSha256 } = await dist('server.js');
const { loadConfig } = await dist('config.js');
const { Log } = await dist('log/log.js');
const { LogStore } = await dist('storage/store.js');
const { loadOrCreateSigningKey } = await dist('log/signing-key.js');
const { rfc6962Hasher } = await dist('merkle/index.js');
const { parseEvent, createUuidV7Generator } = await dist('events/index.js');

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = [];
const row = (what, value, baseline, target, ok) => {
  rows.push({ what, value, baseline, target, ok });
  console.error(`${what}: ${value} (baseline ${baseline}) target ${target} ${ok ? 'met' : 'MISSED'}`);
};

/** Hashes per second of `fn` over `data` for ~1 s. */
function rate(fn, data) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 200; i++) fn(data);
    n += 200;
  }
  return n / ((performance.now() - t0) / 1000);
}

const root = await mkdtemp(join(tmpdir(), 'tlog-bench-audit-'));
try {
  // Baselines: SHA-256 over a typical leaf (~700 bytes) and over a tree node (65 bytes).
  const leaf = new Uint8Array(700).fill(7);
  const node = new Uint8Array(65).fill(1);
  const nodeLeaf = rate((d) => hash('sha256', d, 'buffer'), leaf);
  const nobleLeaf = rate((d) => sha256(d), leaf);
  const nobleNode = rate((d) => sha256(d), node);
  row('raw SHA-256, 700-byte leaf, node:crypto', `${fmt(nodeLeaf)} hashes/s`, '—', 'baseline', true);
  row('raw SHA-256, 700-byte leaf, @noble/hashes', `${fmt(nobleLeaf)} hashes/s`, '—', 'baseline', true);
  row('raw SHA-256, 65-byte node, @noble/hashes', `${fmt(nobleNode)} hashes/s`, '—', 'baseline', true);

  // 1. verifyReceipt on real receipts from a server in this process.
  const dir = join(root, 'receipts');
  const srv = await startServer(loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', origin: 'bench.example/log', rateAppendKey: 'off', rateAppendTenant: 'off', rateReadKey: 'off', rateReadTenant: 'off' }));
  const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  const token = (await post(`${srv.url}/v1/keys`, admin, { role: 'agent', tenant: 'bench' })).token;
  const vkey = srv.verifierKey;
  // Sequential single appends: every receipt carries its own checkpoint.
  const distinct = [];
  for (let i = 0; i < Math.min(RECEIPTS, 1500) + 50; i++) distinct.push((await post(`${srv.url}/v1/events`, token, event(i))).tlog_proof);
  const shared = [];
  for (let i = 0; shared.length < RECEIPTS; i += 1000) {
    const r = await post(`${srv.url}/v1/events/batch`, token, { events: Array.from({ length: 1000 }, (_, k) => event(10_000 + i + k)) });
    shared.push(...r.results.map((x) => x.tlog_proof));
  }
  await srv.close();
  const time = (proofs) => {
    const t0 = performance.now();
    for (const p of proofs) verifyReceipt(p, vkey);
    return proofs.length / ((performance.now() - t0) / 1000);
  };
  const timeAsync = async (proofs) => {
    const t0 = performance.now();
    for (const p of proofs) await verifyReceiptAsync(p, vkey);
    return proofs.length / ((performance.now() - t0) / 1000);
  };
  // Warm up the JIT on receipts not measured afterwards (the verifier remembers verified checkpoints).
  const warmup = distinct.splice(0, 50);
  time(warmup.slice(0, 25));
  await timeAsync(warmup.slice(25));
  const third = Math.floor(distinct.length / 3);
  const cold = time(distinct.slice(0, third));
  const coldAsync = await timeAsync(distinct.slice(third, 2 * third));
  // An auditor checking a pile of receipts keeps them in flight together: WebCrypto verifies on libuv's threads.
  const parallel = distinct.slice(2 * third);
  const t1 = performance.now();
  await Promise.all(parallel.map((p) => verifyReceiptAsync(p, vkey)));
  const coldParallel = parallel.length / ((performance.now() - t1) / 1000);
  const warm = time(shared);
  const checkpoints = new Set(shared.map((p) => p.slice(p.indexOf('\n\n')))).size;
  row(`verifyReceipt (pure JS), ${fmt(third)} receipts each with its own checkpoint`, `${fmt(cold)} receipts/s`, `SHA-256 (noble, node) ${fmt(nobleNode)} hashes/s`, '≥ 2,000/s', cold >= 2000);
  row(`verifyReceiptAsync (WebCrypto Ed25519), ${fmt(third)} receipts each with its own checkpoint, one at a time`, `${fmt(coldAsync)} receipts/s`, `SHA-256 (noble, node) ${fmt(nobleNode)} hashes/s`, '≥ 2,000/s', coldAsync >= 2000);
  row(`verifyReceiptAsync (WebCrypto Ed25519), ${fmt(parallel.length)} receipts each with its own checkpoint, all in flight`, `${fmt(coldParallel)} receipts/s`, `SHA-256 (noble, node) ${fmt(nobleNode)} hashes/s`, '≥ 2,000/s', coldParallel >= 2000);
  row(`verifyReceipt, ${fmt(shared.length)} receipts sharing ${checkpoints} checkpoints`, `${fmt(warm)} receipts/s`, `SHA-256 (noble, node) ${fmt(nobleNode)} hashes/s`, '≥ 2,000/s', warm >= 2000);

  // 2. monitor --once over a large log.
  const big = join(root, 'big');
  const t0 = performance.now();
  {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(big, { recursive: true, mode: 0o700 });
    const { signer } = await loadOrCreateSigningKey(big, 'bench.example/log');
    const store = await LogStore.open(join(big, 'log'));
    const log = await Log.open(store, { origin: 'bench.example/log', hasher: rfc6962Hasher(nodeSha256), signer, sha256: nodeSha256, maxBatch: 4096, maxPending: 65536 });
    const generateId = createUuidV7Generator();
    const CHUNK = 8192;
    for (let i = 0; i < ENTRIES; i += CHUNK) {
      const n = Math.min(CHUNK, ENTRIES - i);
      await Promise.all(Array.from({ length: n }, (_, k) => log.append('bench', parseEvent(event(i + k), { generateId }), { assignedId: true })));
      if (process.stderr.isTTY) process.stderr.write(`\rbuilt ${fmt(i + n)} entries`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    await log.close();
  }
  console.error(`built a log of ${fmt(ENTRIES)} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Query indexes off: the log above was built without them (the monitor reads tiles and entries), and
  // a server with them on refuses a log that has entries but no indexes (QUERY_INDEX_STALE).
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', big, '--origin', 'bench.example/log', '--query-index', 'off', '--log-level', 'info', '--rate-append-key', 'off', '--rate-append-tenant', 'off', '--rate-read-key', 'off', '--rate-read-tenant', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.msg === 'agent-tlog listening') resolve(j.url);
        } catch {}
      }
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  try {
    const admin2 = (await readFile(join(big, 'admin.token'), 'utf8')).trim();
    const auditor = (await post(`${url}/v1/keys`, admin2, { role: 'auditor', tenant: '*' })).token;
    const bigKey = (await (await fetch(`${url}/v1/log`)).json()).verifier_key;
    for (const [label, extra] of [['default: hashes, tiles and roots', []], ['--check-leaves: each leaf also a canonical record', ['--check-leaves']]]) {
      const state = join(root, `monitor-${extra.length}.json`);
      const m0 = performance.now();
      const out = await new Promise((resolve, reject) => {
        const p = spawn(process.execPath, [CLI, 'monitor', url, '--once', '--key', bigKey, '--state', state, '--token', auditor, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
        let s = '';
        p.stdout.on('data', (d) => (s += d));
        p.once('exit', (c) => (c === 0 ? resolve(s) : reject(new Error(`monitor exited ${c}: ${s}`))));
      });
      const secs = (performance.now() - m0) / 1000;
      const verified = Number(/; (\d+) new entries verified/.exec(out)?.[1] ?? 0);
      const perSec = verified / secs;
      row(
        `monitor --once, ${fmt(verified)} entries over loopback HTTP, ${label}`,
        `${fmt(perSec)} entries/s (${secs.toFixed(1)} s, whole process)`,
        `SHA-256 (node:crypto, 700 B) ${fmt(nodeLeaf)} hashes/s`,
        '≥ 50,000 entries/s',
        perSec >= 50_000,
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

await printTable(rows, `BENCH_MONITOR_ENTRIES=${ENTRIES}`);
