// node bench/witness.mjs (after npm run build): durable appends with witness
// cosigning (2-of-3, witnesses as child processes on loopback) beside the same
// log without witnesses, measured in the same run. BENCH_DURATION (s, default 5).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CLI, start, stop } from './lib.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const { ed25519Signer, formatSignerKey } = await import(new URL('../dist/note/index.js', import.meta.url).href);
// One origin per measured log: witnesses remember each log's tree, so reusing
// one origin and key for a fresh log would be (rightly) refused as a fork.
const RUNS = ['baseline', 'all-up', 'one-down'];
const originOf = (run) => `bench.example/${run}`;
const SEED = new Uint8Array(32).fill(42);

async function logDir(root, run) {
  const dir = join(root, run);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'log.key'), formatSignerKey(originOf(run), SEED) + '\n', { mode: 0o600 });
  return dir;
}
const root = await mkdtemp(join(tmpdir(), 'tlog-wbench-'));
const children = [];
try {
  const follow = RUNS.flatMap((run) => ['--log', ed25519Signer(originOf(run), SEED).verifierKey]);
  const witnesses = [];
  for (let i = 0; i < 3; i++) {
    const w = await start([CLI, 'witness', '--port', '0', '--data', join(root, `w${i}`), '--name', `bench.example/w${i}`, ...follow], 'agent-tlog witness listening');
    children.push(w);
    witnesses.push(w);
  }
  const event = JSON.stringify({
    ts: '2026-11-23T10:00:00.000Z', run_id: 'run-1', actor: { type: 'agent', id: 'a', on_behalf_of: 'u' },
    action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp' }, target: { system: 'erp', resource: 'invoice/1' },
    policy: { decision: 'ALLOW', matched_rule: 'r' }, risk: { score: 1 }, result: { status: 'success', duration_ms: 1 },
  });
  const measure = async (name, run, extra) => {
    const dir = await logDir(root, run);
    const ORIGIN = originOf(run);
    // Start with the log logging at info to read its URL, then create an agent key.
    const srv = await start([CLI, 'serve', '--port', '0', '--data', dir, '--origin', ORIGIN, '--rate-append-key', 'off', '--rate-append-tenant', 'off', '--rate-read-key', 'off', '--rate-read-tenant', 'off', ...extra], 'agent-tlog listening');
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const token = (await (await fetch(`${srv.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'agent', tenant: 'bench' }) })).json()).token;
    const r = await new Promise((ok, fail) => autocannon({
      url: `${srv.url}/v1/events`, method: 'POST', duration: DURATION, connections: 64,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: event,
    }, (e, res) => (e ? fail(e) : ok(res))));
    const cp = await (await fetch(`${srv.url}/checkpoint`)).text();
    const size = (await (await fetch(`${srv.url}/v1/log`)).json()).tree_size;
    await stop(srv);
    const cosigs = cp.split('\n').filter((l) => l.startsWith('— ') && !l.startsWith(`— ${ORIGIN} `)).length;
    console.log(`| ${name} | ${Math.round(r.requests.average).toLocaleString('en-US')} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${cp.split('\n')[1]} of ${size}, ${cosigs} cosignature(s) |`);
  };
  console.log(`POST /v1/events, 64 connections, ${DURATION} s each, 2 cores shared by the log, autocannon and 3 witnesses\n`);
  console.log('| log | req/s | p50 ms | p99 ms | non-2xx | /checkpoint afterwards |');
  console.log('|---|---|---|---|---|---|');
  await measure('no witnesses (baseline)', 'baseline', []);
  const specs = witnesses.map((w) => ['--witness', `${w.verifier_key}@${w.url}`]).flat();
  await measure('2-of-3 witnesses, all up', 'all-up', [...specs, '--witness-quorum', '2']);
  await stop(witnesses[2]);
  children.pop();
  await measure('2-of-3 witnesses, one down', 'one-down', [...specs, '--witness-quorum', '2']);
} finally {
  for (const c of children) await stop(c);
  await rm(root, { recursive: true, force: true });
}
