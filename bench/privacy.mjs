// npm run bench:privacy — issue 4's targets beside same-run baselines:
//  * appends of events with two personal values cost ≤ 1.3× the same events without them:
//    single appends at 64 connections, first with every event about a subject new to the vault
//    (its first contact costs a key, a pseudonym and a wrapped key), then with returning
//    subjects; and batches of 1,000 with returning subjects. Beside each, the same events with the
//    two values in the clear (under `metadata`, no vault), for what the vault costs over that;
//  * erasing one subject with 1,000 events on a BENCH_ERASE_ENTRIES-entry log (default 1,000,000)
//    takes < 1 s, compaction included.
// Every server is a fresh child process on its own data folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentKey, batchRate, cannonCpu, event, fill, printTable, serve, stop } from './lib.mjs';

const ERASE_ENTRIES = Number(process.env.BENCH_ERASE_ENTRIES ?? 1_000_000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 60);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** The same event with two personal values (an email and a phone number) of one of 10,000 customers. */
function piiEvent(i, subject = `customer-${i % 10_000}`) {
  return {
    ...event(i),
    pii: {
      email: { subject, value: `${subject}@example.org` },
      phone: { subject, value: `+1 555 01${String(i % 100).padStart(2, '0')} ${String(i % 10_000).padStart(4, '0')}` },
    },
  };
}

/**
 * The same event with the same two values in the clear: the `pii` object's bytes under `metadata`
 * (free-form), so the client sends the same values and the leaf keeps them, and nothing goes to the
 * vault. Not the target's baseline (that is the event without them): a second comparison, printed
 * beside it, for what the vault costs over storing the values in the clear.
 */
function clearEvent(i, subject = `customer-${i % 10_000}`) {
  return { ...event(i), metadata: piiEvent(i, subject).pii };
}

const rows = [];
const row = (what, value, baseline, target, ok) => {
  rows.push({ what, value, baseline, target, ok });
  console.error(`${what}: ${value} (baseline ${baseline}) target ${target} ${ok ? 'met' : 'MISSED'}`);
};

/**
 * On a fresh server: single appends (autocannon, 64 connections) whose every
 * subject is new to the vault (the first contact: a key, a pseudonym and a
 * wrapped key are made per event), the same with returning subjects (all
 * already in the vault), then batches of 1,000 (a fixed BATCHES of them) with
 * returning subjects. `make(i, subject)`.
 */
async function appendRates(root, name, make) {
  const dir = join(root, name);
  const srv = await serve(dir);
  const token = await agentKey(srv.url, dir);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let i = 0;
  const first = await cannonCpu(srv, {
    url: `${srv.url}/v1/events`, method: 'POST', headers,
    requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify(make(i, `customer-${i++}`)) }) }],
  });
  const known = i;
  const returning = await cannonCpu(srv, {
    url: `${srv.url}/v1/events`, method: 'POST', headers,
    requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify(make(i, `customer-${i++ % known}`)) }) }],
  });
  const bodies = Array.from({ length: BATCHES }, () => JSON.stringify({ events: Array.from({ length: 1000 }, () => make(i, `customer-${i++ % known}`)) }));
  const batch = await batchRate(srv, token, bodies, 1000);
  await stop(srv);
  await rm(dir, { recursive: true, force: true });
  return { first, returning, batch };
}

const root = await mkdtemp(join(tmpdir(), 'tlog-bench-privacy-'));
try {
  // BENCH_PRIVACY=erase runs only the erasure part, =appends only the appends.
  const part = process.env.BENCH_PRIVACY ?? 'all';
  if (part !== 'erase') {
  // Alternating fresh servers, best of two each: one run swings ±20% on a 2-core machine.
  const runs = { plain: [], pii: [], clear: [] };
  for (let rep = 0; rep < 2; rep++) {
    runs.plain.push(await appendRates(root, `plain-${rep}`, event));
    runs.pii.push(await appendRates(root, `pii-${rep}`, piiEvent));
    runs.clear.push(await appendRates(root, `clear-${rep}`, clearEvent));
  }
  const best = (rs, k, rate) => rs.map((r) => r[k]).reduce((x, y) => (rate(y) > rate(x) ? y : x));
  const cpu = (r, unit) => `server CPU ${fmt(r.cpuUs)} µs/${unit}`;
  for (const [k, what] of [['first', 'each event a new subject'], ['returning', 'returning subjects']]) {
    const plain = best(runs.plain, k, (r) => r.rps);
    const pii = best(runs.pii, k, (r) => r.rps);
    const clear = best(runs.clear, k, (r) => r.rps);
    const cost = plain.rps / pii.rps;
    row(`POST /v1/events with 2 PII values, ${what}, 64 conns (best of 2)`, `${fmt(pii.rps)} req/s, p99 ${pii.p99} ms, ${cpu(pii, 'req')} (cost ${cost.toFixed(2)}×; ${(clear.rps / pii.rps).toFixed(2)}× the values in the clear)`,
      `same events without PII: ${fmt(plain.rps)} req/s, p99 ${plain.p99} ms, ${cpu(plain, 'req')}; with the 2 values in the clear: ${fmt(clear.rps)} req/s, ${cpu(clear, 'req')}`,
      '≤ 1.3× the cost without PII', cost <= 1.3 && pii.non2xx === 0);
  }
  const plainB = best(runs.plain, 'batch', (r) => r.eventsPerS);
  const piiB = best(runs.pii, 'batch', (r) => r.eventsPerS);
  const clearB = best(runs.clear, 'batch', (r) => r.eventsPerS);
  const batchCost = plainB.eventsPerS / piiB.eventsPerS;
  row(`POST /v1/events/batch ×1000 with 2 PII values each, returning subjects, 8 conns, ${BATCHES} batches (best of 2)`,
    `${fmt(piiB.eventsPerS)} events/s, ${cpu(piiB, 'event')} (cost ${batchCost.toFixed(2)}×; ${(clearB.eventsPerS / piiB.eventsPerS).toFixed(2)}× the values in the clear)`,
    `same events without PII: ${fmt(plainB.eventsPerS)} events/s, ${cpu(plainB, 'event')}; with the 2 values in the clear: ${fmt(clearB.eventsPerS)} events/s, ${cpu(clearB, 'event')}`,
    '≤ 1.3× the cost without PII', batchCost <= 1.3 && piiB.bad === 0);
  }

  if (part !== 'appends') {
  // Erasure on a large log: 1,000 events of the target subject spread over the log, 1 in 20 of
  // the rest carrying PII of 5,000 other subjects, so the vault is not trivially small.
  const dir = join(root, 'erase');
  const srv = await serve(dir, ['--retention-sweep-seconds', '0']);
  // The server logs each erasure's step timings ('subject erased', ms: {scan, flush, shred, purge}).
  let steps;
  let lines = '';
  srv.proc.stdout.on('data', (d) => {
    lines += d;
    const cut = lines.lastIndexOf('\n');
    for (const line of lines.slice(0, cut + 1).split('\n')) {
      if (!line.includes('subject erased')) continue;
      try {
        steps = JSON.parse(line).ms;
      } catch {}
    }
    lines = lines.slice(cut + 1);
  });
  const token = await agentKey(srv.url, dir);
  const privacy = await agentKey(srv.url, dir, 'privacy');
  const every = Math.max(1, Math.floor(ERASE_ENTRIES / 1000));
  const make = (i) => (i % every === 0 ? piiEvent(i, 'erase-target') : i % 20 === 1 ? piiEvent(i, `other-${i % 5000}`) : event(i));
  const t0 = performance.now();
  await fill(srv.url, token, ERASE_ENTRIES, 0, make);
  console.error(`filled ${fmt(ERASE_ENTRIES)} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const auth = { authorization: `Bearer ${privacy}` };
  const a0 = performance.now();
  const access = await (await fetch(`${srv.url}/v1/subjects/erase-target?purpose=bench`, { headers: auth })).json();
  const accessMs = performance.now() - a0;
  const s0 = performance.now();
  for (let k = 0; k < 20; k++) {
    const r = await fetch(`${srv.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(event(k)) });
    await r.arrayBuffer();
  }
  const appendMs = (performance.now() - s0) / 20;
  const e0 = performance.now();
  const erased = await (await fetch(`${srv.url}/v1/subjects/erase-target?reason=bench`, { method: 'DELETE', headers: auth })).json();
  const eraseMs = performance.now() - e0;
  await new Promise((r) => setTimeout(r, 100)); // the log line may trail the response
  await stop(srv);
  const stepText = steps ? `: ${Object.entries(steps).map(([k, v]) => `${k} ${v}`).join(', ')} ms` : '';
  row(`DELETE /v1/subjects/<id>: ${fmt(erased.values_erased)} values of ${fmt(access.values.length / 2)} events, ${fmt(ERASE_ENTRIES)}-entry log`,
    `${fmt(eraseMs)} ms (compaction included${stepText})`, `one durable append ${appendMs.toFixed(1)} ms; subject access ${fmt(accessMs)} ms`, '< 1 s', eraseMs < 1000 && erased.values_erased === 2000);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

await printTable(rows);
