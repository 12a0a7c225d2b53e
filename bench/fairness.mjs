// npm run bench:fairness: does a flooding tenant hurt another tenant's appends?
//
// One server (a child process, so it has a core to itself), per-key and
// per-tenant append limits of RATE events/s. A steady tenant appends at a
// normal rate (STEADY_RPS, open loop: each request leaves on schedule, so a
// slow answer cannot hide later ones). Phase 1 measures its latency alone;
// phase 2 measures it again while a flooding tenant sends 10× its limit.
// Target: the steady tenant's p99 under the flood within 2× of its unloaded
// p99, no 5xx for anyone, and no 429 for the steady tenant.
//
// BENCH_DURATION (s per phase, default 5), FAIR_ROUNDS (alone/flood pairs,
// default 3), FAIR_RATE (default 100), STEADY_RPS (default 20), FLOOD_CONNS
// (connections the flood is spread over, default 32), FLOOD_RATE
// (default 10 × FAIR_RATE), FLOOD_MODE (paced or burst, see --flood below),
// FAIR_BURST (bucket capacity, default FAIR_RATE: one second of the rate),
// FAIR_DEBUG=1 (print the 20 slowest steady appends under the flood as
// [round offset, ms into the phase, latency ms]).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { CLI, start } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.FAIR_ROUNDS ?? 3);
const RATE = Number(process.env.FAIR_RATE ?? 100);
const STEADY_RPS = Number(process.env.STEADY_RPS ?? 20);
const BURST = Number(process.env.FAIR_BURST ?? RATE);

function serve(dir) {
  return start([CLI, 'serve', '--port', '0', '--data', dir, '--log-level', 'info', '--origin', 'bench.example/fair',
    '--rate-append-key', `${RATE},${BURST}`, '--rate-append-tenant', `${RATE},${BURST}`]);
}

const event = (i) => ({
  ts: '2026-11-23T10:00:00.000Z',
  run_id: `run-${i % 97}`,
  actor: { type: 'agent', id: `agent-${i % 7}`, on_behalf_of: 'user-1234' },
  action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp.invoices.approve' },
  target: { system: 'erp', resource: `invoice/INV-${100000 + i}` },
  policy: { decision: 'ALLOW', matched_rule: 'invoices.auto_approve.under_5k' },
  result: { status: 'success', duration_ms: 84 },
});

async function key(url, admin, tenant) {
  const r = await fetch(`${url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'agent', tenant }) });
  if (r.status !== 201) throw new Error(`key: ${r.status}`);
  return (await r.json()).token;
}

/** Open-loop appends at `rps` for `seconds`; latencies in ms and status counts. */
async function steady(url, token, rps, seconds, offset) {
  const lat = [];
  const statuses = {};
  const inflight = [];
  const t0 = performance.now();
  const n = Math.round(rps * seconds);
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rps;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    inflight.push(
      fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(event(offset + i)) })
        .then(async (r) => {
          await r.arrayBuffer();
          lat.push(performance.now() - start);
          if (process.env.FAIR_DEBUG) (globalThis.__dbg ??= []).push([offset, Math.round(start - t0), Math.round(performance.now() - start)]);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        })
        .catch(() => (statuses.error = (statuses.error ?? 0) + 1)),
    );
  }
  await Promise.all(inflight);
  return { lat, statuses };
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * `node fairness.mjs --flood <url> <token> <rate>`: the flooding tenant, one
 * long-lived process. It prints `ready`, then floods for N seconds on each
 * `go N` line of stdin and prints that flood's result as a JSON line; stdin's
 * end stops it. One process for the warm-up and every round, like a real
 * flooding client: its own start-up and JIT warm-up (a core for the first
 * second of a cold Node process, on a 2-core machine that also runs the
 * server and the steady client) are not inside a measured phase.
 *
 * FLOOD_MODE=paced (default): open loop, requests leave evenly spaced at
 * `rate`/s over FLOOD_CONNS keep-alive connections: a flood at 10× the limit.
 * FLOOD_MODE=burst: autocannon's `overallRate`, where each connection sends
 * back to back until it has made its share of the second, then waits for the
 * next second: the same average, delivered as a full-speed burst at the top
 * of every second (the worst case for a neighbour's tail).
 */
if (process.argv[2] === '--flood') {
  const [url, token, rate] = process.argv.slice(3);
  const conns = Number(process.env.FLOOD_CONNS ?? 32);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = JSON.stringify(event(1));
  const { default: http } = await import('node:http');
  const { createInterface } = await import('node:readline');
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  const burst = (seconds) =>
    new Promise((resolve, reject) => {
      autocannon({ url: `${url}/v1/events`, method: 'POST', connections: conns, overallRate: Number(rate), duration: seconds, headers, body }, (err, r) => {
        if (err) reject(err);
        else resolve({ rps: r.requests.average, codes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([c, v]) => [c, v.count])) });
      });
    });
  const paced = async (seconds) => {
    const codes = {};
    let sent = 0;
    const inflight = new Set();
    const send = () => {
      const p = new Promise((done) => {
        const req = http.request(`${url}/v1/events`, { method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            codes[res.statusCode] = (codes[res.statusCode] ?? 0) + 1;
            done();
          });
        });
        req.on('error', () => {
          codes.error = (codes.error ?? 0) + 1;
          done();
        });
        req.end(body);
      });
      inflight.add(p);
      p.then(() => inflight.delete(p));
      sent++;
    };
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    // Catch up to the schedule every millisecond: a late timer sends what it owes.
    await new Promise((stop) => {
      const tick = setInterval(() => {
        const now = performance.now();
        const due = Math.floor(((Math.min(now, end) - t0) * Number(rate)) / 1000);
        while (sent < due) send();
        if (now >= end) {
          clearInterval(tick);
          stop();
        }
      }, 1);
    });
    await Promise.all(inflight);
    return { rps: sent / seconds, codes };
  };
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const seconds = Number(line.split(' ')[1]);
    const r = process.env.FLOOD_MODE === 'burst' ? await burst(seconds) : await paced(seconds);
    process.stdout.write(JSON.stringify(r) + '\n');
  }
  agent.destroy();
} else {
  await main();
}

/** Starts the flood process; resolves once it is loaded, with `flood(seconds)` resolving to each flood's result. */
async function startFlooder(url, token, rate) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--flood', url, token, String(rate)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiting = [];
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    let cut;
    while ((cut = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, cut);
      buf = buf.slice(cut + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  proc.once('exit', (c) => {
    if (c !== 0) for (const w of waiting.splice(0)) w(JSON.stringify({ error: `flood exited ${c}` }));
  });
  const next = () => new Promise((r) => (lines.length ? r(lines.shift()) : waiting.push(r)));
  await next(); // 'ready'
  return {
    async flood(seconds) {
      proc.stdin.write(`go ${seconds}\n`);
      const r = JSON.parse(await next());
      if (r.error) throw new Error(r.error);
      return r;
    },
    stop() {
      proc.stdin.end();
      return new Promise((r) => proc.once('exit', r));
    },
  };
}

async function main() {
const root = await mkdtemp(join(tmpdir(), 'tlog-fair-'));
const srv = await serve(join(root, 'data'));
try {
  const admin = (await readFile(join(root, 'data', 'admin.token'), 'utf8')).trim();
  const steadyToken = await key(srv.url, admin, 'steady');
  const floodToken = await key(srv.url, admin, 'flood');
  // Warm-up, then ROUNDS × (the steady tenant alone; the same beside the flood). Alternating
  // the phases spreads this shared machine's drifting load over both figures alike.
  const floodRate = Number(process.env.FLOOD_RATE ?? 10 * RATE);
  // Warm-up of both sides: the steady appends, and a flood, so its code paths
  // (the 429 answer above all) are compiled before anything is measured. Cold,
  // the first second of the first flood runs them in V8's interpreter and
  // measures the JIT, not the server; every later flood finds them compiled.
  const flooder = await startFlooder(srv.url, floodToken, floodRate);
  await Promise.all([flooder.flood(3), steady(srv.url, steadyToken, STEADY_RPS, 3, 0)]);
  await new Promise((r) => setTimeout(r, 1000)); // the flood's bucket refills, as before every round
  const alone = { lat: [], statuses: {} };
  const loaded = { lat: [], statuses: {} };
  const f = { rps: 0, codes: {} };
  const merge = (into, r) => {
    into.lat.push(...r.lat);
    for (const [c, n] of Object.entries(r.statuses)) into.statuses[c] = (into.statuses[c] ?? 0) + n;
  };
  for (let round = 0; round < ROUNDS; round++) {
    merge(alone, await steady(srv.url, steadyToken, STEADY_RPS, DURATION, 10_000 + round * 100_000));
    // The flood runs in its own process, so its load generator does not delay the steady client's timers.
    const flood = flooder.flood(DURATION + 1);
    merge(loaded, await steady(srv.url, steadyToken, STEADY_RPS, DURATION, 50_000 + round * 100_000));
    const r = await flood;
    f.rps += r.rps / ROUNDS;
    for (const [c, n] of Object.entries(r.codes)) f.codes[c] = (f.codes[c] ?? 0) + n;
  }
  await flooder.stop();

  if (process.env.FAIR_DEBUG) console.log(JSON.stringify(globalThis.__dbg.filter((x) => x[0] >= 50000 && x[0] % 100000 === 50000).sort((a, b) => b[2] - a[2]).slice(0, 20)));
  const p99a = pct(alone.lat, 99);
  const p99b = pct(loaded.lat, 99);
  const ratio = p99b / p99a;
  const floodCodes = f.codes;
  const flood5xx = Object.entries(floodCodes).filter(([c]) => Number(c) >= 500).reduce((s, [, v]) => s + v, 0);
  const steady5xx = Object.entries(loaded.statuses).filter(([c]) => c === 'error' || Number(c) >= 500).reduce((s, [, v]) => s + v, 0);
  const ok = ratio <= 2 && flood5xx === 0 && steady5xx === 0 && !loaded.statuses[429];
  const fmt = (x) => x.toFixed(1);
  const rows = [
    '| what | measured | baseline (same run) | target | met |',
    '|---|---|---|---|---|',
    `| steady tenant p99, ${STEADY_RPS} appends/s, beside a flood of ${floodRate} req/s (10× its limit of ${RATE}/s, burst ${BURST}) over ${process.env.FLOOD_CONNS ?? 32} connections, ${process.env.FLOOD_MODE === 'burst' ? 'in bursts (autocannon overallRate)' : 'paced'} | ${fmt(p99b)} ms (p50 ${fmt(pct(loaded.lat, 50))} ms), statuses ${JSON.stringify(loaded.statuses)} | alone: p99 ${fmt(p99a)} ms (p50 ${fmt(pct(alone.lat, 50))} ms) | ≤ 2× (${fmt(ratio)}×), no 429, no 5xx | ${ok ? 'yes' : '**no**'} |`,
    `| flooding tenant | ${Math.round(f.rps)} req/s sent; ${Object.entries(floodCodes).map(([c, v]) => `${c}: ${v}`).join(', ')} | limit ${RATE} events/s | 429 beyond the limit, no 5xx | ${flood5xx === 0 ? 'yes' : '**no**'} |`,
  ];
  console.log(`Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${ROUNDS} rounds of ${DURATION} s alone + ${DURATION} s beside the flood.\n`);
  console.log(rows.join('\n'));
} finally {
  srv.proc.kill('SIGTERM');
  await new Promise((r) => srv.proc.once('exit', r));
  await rm(root, { recursive: true, force: true });
}
}
