// Shared by the benchmarks: child servers, autocannon, a realistic event, log filling.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const DURATION = Number(process.env.BENCH_DURATION ?? 10);
export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
export const HELLO = fileURLToPath(new URL('./hello.mjs', import.meta.url));
/**
 * The server's V8 flags, as `npm start` and the Dockerfile run it: a 64 MiB
 * young generation (the default is 16) cut GC from ~20% to ~13% of CPU on
 * batch appends, whose requests allocate far more than a V8 default expects.
 */
// BENCH_NODE_FLAGS adds flags for a diagnostic run (e.g. "--trace-gc", "--cpu-prof").
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];

/** Starts a child process and resolves once it logs the `ready` message (the server's by default). */
export function start(args, ready = 'agent-tlog listening') {
  if (args[0] === CLI) args = [...SERVER_NODE_FLAGS, ...args];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const line of lines) {
        try {
          const j = JSON.parse(line);
          if (j.msg === ready) {
            // Keep draining the pipe (a full pipe would block the child) without parsing.
            proc.stdout.off('data', onData);
            proc.stdout.resume();
            resolve({ ...j, proc, startMs: performance.now() - t0 });
          }
        } catch {}
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}
export const stop = (c) => new Promise((r) => { c.proc.removeAllListeners('exit'); c.proc.once('exit', r); c.proc.kill('SIGTERM'); });
// Rate limits off: the benchmarks measure raw capacity (bench/fairness.mjs measures the limits).
export const serve = (dir, extra = []) => start([CLI, 'serve', '--port', '0', '--data', dir, '--log-level', 'info', '--origin', 'bench.example/log',
  '--rate-append-key', 'off', '--rate-append-tenant', 'off', '--rate-read-key', 'off', '--rate-read-tenant', 'off', ...extra]);

/** CPU time (ms, user + system, all threads) a child has used so far. */
export async function cpuMs(proc) {
  const { readFile } = await import('node:fs/promises');
  const f = (await readFile(`/proc/${proc.pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (CLK_TCK = 100)
}

/**
 * Waits until a server child is idle: after a big fill, LevelDB compacts in
 * background threads for a while, and a read benchmark run meanwhile would
 * measure the compaction (it competes with autocannon for the second core).
 * Idle = under 5% of a core over one second; gives up after `maxS` seconds.
 */
export async function settle(srv, maxS = 120) {
  const t0 = performance.now();
  let last = await cpuMs(srv.proc);
  while (performance.now() - t0 < maxS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await cpuMs(srv.proc);
    if (now - last < 50) return (performance.now() - t0) / 1000;
    last = now;
  }
  return maxS;
}

export function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ duration: DURATION, connections: 64, ...opts }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}
/**
 * cannon() against a child server, also reporting the server's CPU time per
 * request (µs, all its threads): unlike requests/s, it barely moves when the
 * machine is busy, so it compares runs made at different times.
 */
export async function cannonCpu(srv, opts, perRequest = 1) {
  const c0 = await cpuMs(srv.proc);
  const r = summary(await cannon(opts));
  const c1 = await cpuMs(srv.proc);
  const requests = r.rps * (opts.duration ?? DURATION);
  return { ...r, cpuUs: requests > 0 ? ((c1 - c0) * 1000) / (requests * perRequest) : NaN };
}
/**
 * Batch appends measured by a fixed amount of work: `bodies` (pre-built JSON
 * strings, `perBatch` events each) posted by `connections` workers, timed
 * from the first send to the last acknowledgement, with the server's CPU
 * time per event. autocannon's requests/s is the mean of per-second counts,
 * and at 3–6 batches a second that count moves in steps of a whole batch.
 */
export async function batchRate(srv, token, bodies, perBatch, connections = 8) {
  const url = `${srv.url}/v1/events/batch`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let next = 0;
  let bad = 0;
  const c0 = await cpuMs(srv.proc);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next < bodies.length) {
      const r = await fetch(url, { method: 'POST', headers, body: bodies[next++] });
      const j = await r.json();
      if (r.status !== 200) bad += perBatch;
      else bad += j.results.filter((x) => x.status >= 400).length;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  const c1 = await cpuMs(srv.proc);
  const events = bodies.length * perBatch;
  return { eventsPerS: events / s, cpuUs: ((c1 - c0) * 1000) / events, bad };
}
export const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });

export function event(i) {
  return {
    ts: '2026-11-23T10:00:00.000Z',
    run_id: `run-${i % 997}`,
    session_id: 'sess-1',
    actor: { type: 'agent', id: `invoice-agent-${i % 7}`, version: '1.4.2', on_behalf_of: 'user-1234' },
    action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp.invoices.approve' },
    target: { system: 'erp', resource: `invoice/INV-${100000 + i}`, environment: 'prod' },
    data_accessed: [{ type: 'invoice', id: `INV-${100000 + i}`, fields: ['amount', 'vendor', 'due_date'] }],
    reasoning: { summary: 'Amount under the auto-approval threshold and vendor is on the allow list.', model: 'model-x', confidence: 0.93 },
    policy: { decision: 'ALLOW', matched_rule: 'invoices.auto_approve.under_5k' },
    risk: { score: 12, factors: ['known_vendor'] },
    result: { status: 'success', duration_ms: 84 },
  };
}

export async function post(url, token, body) {
  const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}
export async function agentKey(url, dir, role = 'agent', tenant = 'bench') {
  const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  return (await post(`${url}/v1/keys`, admin, { role, tenant })).token;
}
export async function fill(url, token, target, have, make = event) {
  const per = 1000;
  let next = have;
  const worker = async () => {
    while (next < target) {
      const n = Math.min(per, target - next);
      const base = next;
      next += n;
      await post(`${url}/v1/events/batch`, token, { events: Array.from({ length: n }, (_, k) => make(base + k)) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}


/** A results table in the README's format, printed (and written to BENCH_OUT when set). */
export async function printTable(rows, note = `${DURATION} s per autocannon run`) {
  const { cpus } = await import('node:os');
  const { writeFile } = await import('node:fs/promises');
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, Node ${process.version}, ${note}.`,
    '',
    '| what | measured | baseline (same run) | target | met |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.what} | ${r.value} | ${r.baseline} | ${r.target} | ${r.ok === undefined ? '—' : r.ok ? 'yes' : '**no**'} |`),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, table + '\n');
}
