// npm run bench:query — the query layer's performance beside baselines from the same run.
//
// 1. Indexing cost: append throughput with and without query indexes
//    (servers started with --query-index on/off), single POSTs and batches of
//    1,000, plus the same comparison in-process (Log.append, no HTTP).
// 2. A log of BENCH_QUERY_ENTRIES entries (default 1,000,000) built in-process
//    through the real Log and indexer, then served by a child server:
//    selective queries (one ~100-event run; actor + decision) timed
//    server-side (in-process search + serialisation, p50/p99) and over HTTP
//    with autocannon, beside a single-entry read; NDJSON export rows/s beside
//    a raw LevelDB scan of the same leaves.
//
// BENCH_DURATION (s per autocannon run, default 5), BENCH_QUERY_ENTRIES,
// BENCH_OUT (optional file for the markdown table), BENCH_QUERY_PARTS
// (comma-separated: index, search, export; default all), BENCH_QUERY_DIR (a
// folder that keeps the big log between runs: built there when missing,
// reused when present, never deleted; for diagnostic runs).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { printTable, SERVER_NODE_FLAGS, settle, start, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ENTRIES = Number(process.env.BENCH_QUERY_ENTRIES ?? 1_000_000);
const PARTS = new Set((process.env.BENCH_QUERY_PARTS ?? 'index,search,export').split(','));
const KEEP = process.env.BENCH_QUERY_DIR;
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const { LogStore } = await import(dist('storage/store.js'));
const { Log } = await import(dist('log/log.js'));
const { rfc6962Hasher } = await import(dist('merkle/index.js'));
const { nodeSha256 } = await import(dist('server.js'));
const { BlockIndexer } = await import(dist('query/block-indexer.js'));
const { loadOrCreateSigningKey } = await import(dist('log/signing-key.js'));
const { borrowSink, finishPage, returnSink, writeEventsPage } = await import(dist('query/events-page.js'));
const { entryKey } = await import(dist('storage/layout.js'));
const { toBase64 } = await import(dist('bytes/index.js'));

const ORIGIN = 'bench.example/log';
const RUNS = Math.max(1, Math.floor(ENTRIES / 100));

function event(i) {
  return {
    event_id: `019a4444-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    ts: '2026-11-23T10:00:00.000Z',
    run_id: `run-${i % RUNS}`,
    session_id: `sess-${i % 5000}`,
    actor: { type: 'agent', id: `invoice-agent-${i % 7}`, version: '1.4.2', on_behalf_of: 'user-1234' },
    action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp.invoices.approve' },
    target: { system: 'erp', resource: `invoice/INV-${100000 + i}`, environment: 'prod' },
    data_accessed: [{ type: 'invoice', id: `INV-${100000 + i}`, fields: ['amount', 'vendor', 'due_date'] }],
    reasoning: { summary: 'Amount under the auto-approval threshold and vendor is on the allow list.', model: 'model-x', confidence: 0.93 },
    policy: { decision: i % 50 === 0 ? 'DENY' : 'ALLOW', matched_rule: 'invoices.auto_approve.under_5k' },
    risk: { score: i % 100 },
    result: { status: 'success', duration_ms: 84 },
  };
}
const httpEvent = (i) => {
  const { event_id, ...e } = event(i);
  return e;
};

const serve = (dir, index = 'on') => start([CLI, 'serve', '--port', '0', '--data', dir, '--log-level', 'info', '--origin', ORIGIN, '--query-index', index,
  // Rate limits off: this measures capacity (bench/fairness.mjs measures the limits).
  '--rate-append-key', 'off', '--rate-append-tenant', 'off', '--rate-read-key', 'off', '--rate-read-tenant', 'off']);
function cannon(opts) {
  return new Promise((resolve, reject) => autocannon({ duration: DURATION, connections: 64, ...opts }, (err, r) => (err ? reject(err) : resolve(r))));
}
async function post(url, token, body) {
  const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}
async function key(url, dir, role) {
  const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  return (await post(`${url}/v1/keys`, admin, { role, tenant: 'bench' })).token;
}
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
};
const rand = (n) => Math.floor(Math.random() * n);
const rows = [];
const row = (what, value, baseline, target, ok) => {
  rows.push({ what, value, baseline, target, ok });
  console.error(`${what}: ${value} (baseline ${baseline}) target ${target} ${ok === undefined ? '' : ok ? 'met' : 'MISSED'}`);
};

async function openLog(dir, indexed) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { signer } = await loadOrCreateSigningKey(dir, ORIGIN);
  const store = await LogStore.open(join(dir, 'log'));
  return Log.open(store, { origin: ORIGIN, hasher: rfc6962Hasher(nodeSha256), signer, sha256: nodeSha256, ...(indexed ? { indexer: new BlockIndexer() } : {}) });
}

async function appendInProcess(log, from, n) {
  const t0 = performance.now();
  for (let i = from; i < from + n; i += 4000) {
    const group = [];
    for (let k = i; k < Math.min(from + n, i + 4000); k++) group.push(log.append('bench', event(k), { assignedId: true }));
    await Promise.all(group);
  }
  return performance.now() - t0;
}

/**
 * `node query.mjs --time-queries DIR`: opens the log like a server after a
 * restart (and with its V8 flags), waits for LevelDB to settle, times selective pages through the
 * route's own page writer (src/query/events-page.ts: search, leaf hashes,
 * JSON bytes) and prints the figures as JSON.
 */
// The bench's events hold no personal data, so a page never reads the vault (erasure-marks.ts); this one fails loudly if it did.
const NO_VAULT = { erasedTimes: async () => { throw new Error('the bench log holds no references'); } };

async function timeQueries(dir) {
  const log = await openLog(dir, true);
  const treeSize = log.head.treeSize;
  console.error(`compaction settled after ${(await settle({ proc: process })).toFixed(0)} s`);
  const page = async (filter) => {
    const t0 = performance.now();
    const out = borrowSink();
    const { hits } = await writeEventsPage(out, log.store, (i, leaf) => log.leafHashIfCached(i) ?? log.hashLeaf(leaf), 'bench', filter, { order: 'asc', treeSize, limit: 100, budget: 20000 }, NO_VAULT);
    finishPage(out, null, treeSize);
    returnSink(out);
    return [performance.now() - t0, hits];
  };
  const timeIt = async (n, f) => {
    const ms = [];
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const [t, h] = await f(i);
      ms.push(t);
      hits += h;
    }
    return { p50: pct(ms, 50), p99: pct(ms, 99), hits: hits / n };
  };
  console.error('timing selective queries…');
  await timeIt(100, () => page({ run_id: `run-${rand(RUNS)}` })); // warm-up
  const runQ = await timeIt(1000, () => page({ run_id: `run-${rand(RUNS)}` }));
  const adQ = await timeIt(700, (i) => page({ actor: `invoice-agent-${i % 7}`, decision: 'DENY' }));
  const one = await timeIt(1000, async () => {
    const t0 = performance.now();
    const e = await log.entry(rand(treeSize));
    JSON.stringify({ leaf: toBase64(e.leaf), leaf_hash: toBase64(e.leafHash) });
    return [performance.now() - t0, 1];
  });
  await log.close();
  return { treeSize, runQ, adQ, one };
}

if (process.argv[2] === '--time-queries') {
  process.stdout.write(JSON.stringify(await timeQueries(process.argv[3])));
  process.exit(0);
}

const root = await mkdtemp(join(tmpdir(), 'tlog-qbench-'));
try {
  // 1a. In-process append throughput, alternating without/with indexes.
  if (PARTS.has('index')) {
  const inproc = { off: [], on: [] };
  for (let rep = 0; rep < 3; rep++) {
    for (const mode of ['off', 'on']) {
      const dir = join(root, `inproc-${mode}-${rep}`);
      const log = await openLog(dir, mode === 'on');
      const n = 20000;
      inproc[mode].push(n / ((await appendInProcess(log, 0, n)) / 1000));
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const ipOff = Math.max(...inproc.off);
  const ipOn = Math.max(...inproc.on);
  row('append in-process (Log.append, 20k, best of 3 alternating), with indexes', `${fmt(ipOn)} events/s (${((ipOff / ipOn - 1) * 100).toFixed(0)}% more time per event)`, `without indexes ${fmt(ipOff)} events/s`, 'informational', undefined);

  // 1b. Over HTTP, fresh servers with --query-index off and on, alternating,
  // best of two each: one 5 s run swings ±20% on this machine.
  const http = { off: { single: 0, batch: 0, bad: 0 }, on: { single: 0, batch: 0, bad: 0 } };
  for (let rep = 0; rep < 2; rep++) {
    for (const mode of ['off', 'on']) {
      const dir = join(root, `http-${mode}-${rep}`);
      const srv = await serve(dir, mode);
      const token = await key(srv.url, dir, 'agent');
      const single = await cannon({ url: `${srv.url}/v1/events`, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(httpEvent(1)) });
      const batchBody = JSON.stringify({ events: Array.from({ length: 1000 }, (_, k) => httpEvent(k)) });
      const batch = await cannon({ url: `${srv.url}/v1/events/batch`, method: 'POST', connections: 8, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: batchBody });
      const h = http[mode];
      h.single = Math.max(h.single, single.requests.average);
      h.batch = Math.max(h.batch, batch.requests.average * 1000);
      h.bad += single.non2xx + batch.non2xx;
      await stop(srv);
      await rm(dir, { recursive: true, force: true });
    }
  }
  const addSingle = http.off.single / http.on.single - 1;
  const addBatch = http.off.batch / http.on.batch - 1;
  row('POST /v1/events with indexes (64 conns, best of 2)', `${fmt(http.on.single)} req/s (${addSingle >= 0 ? "+" : ""}${(addSingle * 100).toFixed(0)}% cost)`, `--query-index off ${fmt(http.off.single)} req/s`, '< 25% added', addSingle < 0.25 && http.on.bad === 0);
  row('POST /v1/events/batch ×1000 with indexes (8 conns, best of 2)', `${fmt(http.on.batch)} events/s (${addBatch >= 0 ? "+" : ""}${(addBatch * 100).toFixed(0)}% cost)`, `--query-index off ${fmt(http.off.batch)} events/s`, '< 25% added', addBatch < 0.25 && http.on.bad === 0);
  }
  if (PARTS.has('search') || PARTS.has('export')) {

  // 2. The big log, built in-process through the real Log and indexer.
  const dir = KEEP ?? join(root, 'big');
  let log = await openLog(dir, true);
  if (log.head.treeSize < ENTRIES) {
    const tb = performance.now();
    await appendInProcess(log, log.head.treeSize, ENTRIES - log.head.treeSize);
    console.error(`built ${fmt(ENTRIES)} indexed entries in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
  }
  await log.close();

  // Server-side time of selective pages, in a fresh process (timeQueries
  // below): the server's view, not that of this process, which has just
  // appended a million events.
  if (PARTS.has('search')) {
    // With the server's V8 flags (lib.mjs SERVER_NODE_FLAGS, as `npm start` runs it): its young generation sets how often a page meets a scavenge.
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, fileURLToPath(import.meta.url), '--time-queries', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`query timing exited ${code}`);
    const { treeSize, runQ, adQ, one } = JSON.parse(out);
    row(`selective query, one run (~${Math.round(runQ.hits)} events), ${fmt(treeSize)} entries, server-side`, `p50 ${runQ.p50.toFixed(2)} ms, p99 ${runQ.p99.toFixed(2)} ms`, `one entry read p99 ${one.p99.toFixed(2)} ms`, 'p99 < 10 ms', runQ.p99 < 10);
    row(`selective query, actor + decision=DENY (first 100), server-side`, `p50 ${adQ.p50.toFixed(2)} ms, p99 ${adQ.p99.toFixed(2)} ms`, `one entry read p99 ${one.p99.toFixed(2)} ms`, 'p99 < 10 ms', adQ.p99 < 10);
  }

  // Baseline for export: a raw LevelDB scan of every leaf (no decode, no JSON).
  if (PARTS.has('export')) {
  log = await openLog(dir, true);
  const treeSize = log.head.treeSize;
  let t0 = performance.now();
  let raw = 0;
  for await (const v of log.store.db.values({ gte: entryKey(0), lt: entryKey(treeSize) })) raw += v.length > 0 ? 1 : 0;
  const rawRate = raw / ((performance.now() - t0) / 1000);
  await log.close();

  const srv = await serve(dir, 'on');
  const auditor = await key(srv.url, dir, 'auditor');
  const httpRun = await cannon({ url: srv.url, connections: 8, headers: { authorization: `Bearer ${auditor}` }, requests: [{ setupRequest: (r) => ({ ...r, path: `/v1/events?run_id=run-${rand(RUNS)}` }) }] });
  row(`GET /v1/events?run_id=… over HTTP (8 conns)`, `${fmt(httpRun.requests.average)} req/s, p99 ${httpRun.latency.p99} ms`, '—', 'informational', undefined);
  t0 = performance.now();
  const res = await fetch(`${srv.url}/v1/export?format=ndjson`, { headers: { authorization: `Bearer ${auditor}` } });
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  const exportRate = lines / ((performance.now() - t0) / 1000);
  await stop(srv);
  row(`GET /v1/export NDJSON, ${fmt(lines)} rows (${(bytes / 1e6).toFixed(0)} MB)`, `${fmt(exportRate)} rows/s`, `raw LevelDB leaf scan ${fmt(rawRate)} leaves/s`, '≥ 100,000 rows/s', exportRate >= 100_000);
  }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

await printTable(rows, `${DURATION} s per autocannon run, BENCH_QUERY_ENTRIES=${ENTRIES}`);
