// npm run bench: the log core's performance beside baselines from the same run.
// Starts every server as a child process (one core for it, one for autocannon),
// on a fresh data folder. Prints a markdown table (quoted in README.md).
//
// BENCH_DURATION (s, default 10), BENCH_ENTRIES (log size for proof/tile
// reads, default 1,000,000), BENCH_OUT (optional file for the table).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirSize, leafBytes } from './disk.mjs';
import { agentKey, cannon, cannonCpu, event, fill, HELLO, printTable, serve, settle, start, stop, summary } from './lib.mjs';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);

const rows = [];
const row = (what, value, baseline, target, ok) => {
  rows.push({ what, value, baseline, target, ok });
  console.error(`${what}: ${value} (baseline ${baseline}) target ${target} ${ok ? 'met' : 'MISSED'}`);
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const root = await mkdtemp(join(tmpdir(), 'tlog-bench-'));
try {
  // Baselines.
  const nodeHello = await start([HELLO, 'node']);
  const rawNode = summary(await cannon({ url: nodeHello.url }));
  await stop(nodeHello);
  const exHello = await start([HELLO, 'express']);
  const rawExpress = summary(await cannon({ url: exHello.url }));
  const exPost = await cannonCpu(exHello, { url: exHello.url, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event(0)) });
  await stop(exHello);
  row('node:http hello-world (GET, 64 conns)', `${fmt(rawNode.rps)} req/s, p99 ${rawNode.p99} ms`, '—', 'baseline', true);
  row('express 5 hello-world (GET, 64 conns)', `${fmt(rawExpress.rps)} req/s, p99 ${rawExpress.p99} ms`, '—', 'baseline', true);
  row('express 5 hello-world (POST, body not read, 64 conns)', `${fmt(exPost.rps)} req/s, p99 ${exPost.p99} ms, server CPU ${fmt(exPost.cpuUs)} µs/req`, '—', 'baseline', true);

  // Single durable appends.
  const dir = join(root, 'main');
  let srv = await serve(dir);
  const token = await agentKey(srv.url, dir);
  const appendHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const single = await cannonCpu(srv, { url: `${srv.url}/v1/events`, method: 'POST', headers: appendHeaders, body: JSON.stringify(event(1)) });
  const ratio = single.rps / exPost.rps;
  row('POST /v1/events, durable, 64 conns', `${fmt(single.rps)} req/s, p99 ${single.p99} ms, non-2xx ${single.non2xx}, server CPU ${fmt(single.cpuUs)} µs/req`,
    `express POST hello ${fmt(exPost.rps)} req/s`, '≥ 70% of express, p99 ≤ 100 ms', ratio >= 0.7 && single.p99 <= 100 && single.non2xx === 0);
  rows[rows.length - 1].value += ` (${Math.round(ratio * 100)}%)`;

  // Batch appends, 1,000 events per request.
  const batchBody = JSON.stringify({ events: Array.from({ length: 1000 }, (_, k) => event(k)) });
  const batch = await cannonCpu(srv, { url: `${srv.url}/v1/events/batch`, method: 'POST', connections: 8, headers: appendHeaders, body: batchBody }, 1000);
  row('POST /v1/events/batch ×1000, 8 conns', `${fmt(batch.rps * 1000)} events/s, p99 ${batch.p99} ms, server CPU ${fmt(batch.cpuUs)} µs/event`, '—', '≥ 20,000 events/s', batch.rps * 1000 >= 20000 && batch.non2xx === 0);

  // Grow to ENTRIES, then read proofs and tiles.
  let size = (await (await fetch(`${srv.url}/v1/log`)).json()).tree_size;
  const t0 = performance.now();
  if (size < ENTRIES) await fill(srv.url, token, ENTRIES, size);
  size = (await (await fetch(`${srv.url}/v1/log`)).json()).tree_size;
  console.error(`filled to ${size} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.error(`compaction settled after ${(await settle(srv)).toFixed(0)} s`);
  // The machine drifts over a long fill: the reads are compared with an
  // express baseline measured again right before them (the first one is shown too).
  const exNear = await start([HELLO, 'express']);
  const nearExpress = summary(await cannon({ url: exNear.url }));
  await stop(exNear);
  const rand = (n) => Math.floor(Math.random() * n);
  const proofs = summary(await cannon({
    url: srv.url,
    requests: [{ setupRequest: (r) => ({ ...r, path: `/v1/proofs/inclusion?index=${rand(size)}&tree_size=${size}` }) }],
  }));
  const fullTiles = Math.floor(size / 256);
  const tiles = summary(await cannon({
    url: srv.url,
    requests: [{ setupRequest: (r) => ({ ...r, path: `/tile/0/${fmtTile(rand(fullTiles))}` }) }],
  }));
  const near = `express GET hello ${fmt(nearExpress.rps)} req/s just before (${fmt(rawExpress.rps)} at the start)`;
  row(`GET /v1/proofs/inclusion, ${fmt(size)} entries`, `${fmt(proofs.rps)} req/s, p99 ${proofs.p99} ms (${Math.round((proofs.rps / nearExpress.rps) * 100)}%)`,
    near, '≥ 70% of express', proofs.rps >= 0.7 * nearExpress.rps && proofs.non2xx === 0);
  row(`GET /tile/0/<N> (random full tiles), ${fmt(size)} entries`, `${fmt(tiles.rps)} req/s, p99 ${tiles.p99} ms (${Math.round((tiles.rps / nearExpress.rps) * 100)}%)`,
    near, '≥ 70% of express', tiles.rps >= 0.7 * nearExpress.rps && tiles.non2xx === 0);

  // Restart time at ENTRIES, then bytes on disk.
  await stop(srv);
  srv = await serve(dir);
  const restartBig = srv.startMs;
  await stop(srv);
  const small = join(root, 'small');
  let s2 = await serve(small);
  await fill(s2.url, await agentKey(s2.url, small), 1000, 0);
  await stop(s2);
  s2 = await serve(small);
  const restartSmall = s2.startMs;
  await stop(s2);
  row('restart to listening', `${fmt(restartBig)} ms at ${fmt(size)} entries`, `${fmt(restartSmall)} ms at 1,000 entries`, 'flat (≤ 1.5× + 100 ms)', restartBig <= restartSmall * 1.5 + 100);
  const disk = await dirSize(join(dir, 'log'));
  const leaves = await leafBytes(join(dir, 'log'));
  row(`bytes on disk, ${fmt(size)} entries`, `${(disk / 1e6).toFixed(1)} MB (${(disk / leaves).toFixed(2)}× leaf bytes)`, `leaf bytes ${(leaves / 1e6).toFixed(1)} MB`, '≤ 2× leaf bytes', disk <= 2 * leaves);
} finally {
  await rm(root, { recursive: true, force: true });
}

function fmtTile(n) {
  let s = String(n % 1000).padStart(3, '0');
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
  return s;
}

await printTable(rows);
