// node bench/prune-entries.mjs [DIST ...] — what an applied entry prune costs (spec/privacy.md §6).
//
// Builds one log of BENCH_PRUNE_ENTRIES entries (default 100,000; random events with indexed
// words, two tenants) through the log's own append path, then for each build given (default
// ./dist; pass an older build's dist folder to compare), on a fresh copy of that data folder,
// times one applied retention run that prunes: `half` (every other entry is operational, so
// every block keeps some) and `all` (every entry). Runs alternate between builds, BENCH_REPS
// times each. Prints the run's time, split into its batches (the deletions, and since the
// index change the index planning) and its compaction, and the log database's size after.
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const N = Number(process.env.BENCH_PRUNE_ENTRIES ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 2);
const dists = (process.argv.slice(2).length ? process.argv.slice(2) : ['dist']).map((d) => resolve(d));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

const load = async (dist) => ({
  dist,
  startServer: (await import(join(dist, 'server.js'))).startServer,
  loadConfig: (await import(join(dist, 'config.js'))).loadConfig,
  parseEvent: (await import(join(dist, 'events/index.js'))).parseEvent,
});

const config = (m, dir) =>
  m.loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', origin: 'bench.example/log', retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 });

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'deploy restart payments invoice rollback timeout kubectl ledger quota replica shard backup audit cache token vendor refund export schema'.split(' ');

function event(r, i, scenario) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const words = Array.from({ length: 3 + Math.floor(r() * 6) }, () => (r() < 0.2 ? `w${Math.floor(r() * 5000)}` : pick(WORDS))).join(' ');
  return {
    ts: new Date(T0 + i).toISOString(),
    run_id: `run-${Math.floor(i / 20)}`,
    session_id: `sess-${Math.floor(r() * 500)}`,
    actor: { type: 'agent', id: `agent-${Math.floor(r() * 40)}` },
    action: { type: pick(['tool.call', 'shell', 'http.request']), name: pick(WORDS) },
    target: { system: pick(['erp', 'k8s', 'github']), resource: `res/${Math.floor(r() * 20000)}` },
    policy: { decision: pick(['ALLOW', 'DENY', 'REQUIRE_APPROVAL']) },
    risk: { score: Math.floor(r() * 100) },
    reasoning: { summary: words },
    retention: scenario === 'all' || i % 2 === 0 ? 'operational' : 'compliance',
  };
}

async function build(m, dir, scenario) {
  const srv = await m.startServer(config(m, dir), { now: () => T0 });
  const r = rng(7);
  let seq = 0;
  const ids = { generateId: () => `019a9999-0000-7000-8000-${(seq++).toString(16).padStart(12, '0')}` };
  for (let i = 0; i < N; ) {
    const group = [];
    for (let k = 0; k < 1000 && i < N; k++, i++) group.push(srv.log.append(r() < 0.8 ? 'acme' : 'other', m.parseEvent(event(r, i, scenario), ids), { assignedId: true }));
    await Promise.all(group);
  }
  await srv.close();
}

async function size(dir) {
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}

async function pruneRun(m, src) {
  const dir = await mkdtemp(join(tmpdir(), 'tlog-prune-run-'));
  await cp(src, dir, { recursive: true });
  const srv = await m.startServer(config(m, dir), { now: () => T0 + 31 * DAY });
  const log = srv.log;
  let batches = 0;
  let purge = 0;
  const prune = log.prune.bind(log);
  log.prune = async (...a) => {
    const t = performance.now();
    await prune(...a);
    batches += performance.now() - t;
  };
  const purgePruned = log.purgePruned.bind(log);
  log.purgePruned = async (...a) => {
    const t = performance.now();
    await purgePruned(...a);
    purge += performance.now() - t;
  };
  const t = performance.now();
  const rep = await srv.privacy.retention({ dryRun: false, entries: true });
  const total = performance.now() - t;
  await srv.close();
  const bytes = await size(join(dir, 'log'));
  await rm(dir, { recursive: true, force: true });
  return { pruned: rep.entries.pruned, total, batches, purge, bytes };
}

const mods = [];
for (const d of dists) mods.push(await load(d));
const root = await mkdtemp(join(tmpdir(), 'tlog-prune-bench-'));
try {
  for (const scenario of ['half', 'all']) {
    const data = join(root, scenario);
    const t = performance.now();
    await build(mods[0], data, scenario);
    console.error(`${scenario}: built ${N} entries in ${((performance.now() - t) / 1000).toFixed(1)} s, log database ${(await size(join(data, 'log')) / 1e6).toFixed(1)} MB`);
    for (let rep = 0; rep < REPS; rep++)
      for (const m of mods) {
        const x = await pruneRun(m, data);
        console.log(
          `${scenario}\t${m.dist}\tpruned ${x.pruned}\ttotal ${(x.total / 1000).toFixed(2)} s\tbatches ${(x.batches / 1000).toFixed(2)} s\tcompaction ${(x.purge / 1000).toFixed(2)} s\tlog db after ${(x.bytes / 1e6).toFixed(1)} MB`,
        );
      }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
