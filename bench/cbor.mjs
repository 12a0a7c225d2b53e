// The pure deterministic CBOR encoder (dist/events/cbor-encode.js) beside the
// cbor-x encoder it replaced (pinned settings, rebuilt value: spec/events.md §3.1),
// in the same run. Target: at least as fast as cbor-x for a realistic event.
import { Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { encodeCanonical } from '../dist/events/cbor-encode.js';
import { sortKeys } from '../dist/events/cbor-keys.js';
import { event, printTable } from './lib.mjs';

const cborx = new Encoder({
  useRecords: false, structuredClone: false, pack: false, bundleStrings: false, useFloat32: FLOAT32_OPTIONS.NEVER,
  alwaysUseFloat: false, useTag259ForMaps: false, variableMapSize: true, tagUint8Array: false, useSelfDescribedHeader: false, useToJSON: false,
});
// The baseline's value rebuild (validation left out, so the baseline is if anything flattered).
function model(v) {
  if (typeof v === 'number') return Number.isSafeInteger(v) && (v >= 2 ** 32 || v < -(2 ** 32)) ? BigInt(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(model);
  const m = new Map();
  for (const k of sortKeys(Object.keys(v))) m.set(k, model(v[k]));
  return m;
}
const baseline = (v) => Uint8Array.from(cborx.encode(model(v)));

const record = (i) => ({ v: 1, tenant: 'bench', logged_at: 1_763_892_000_000 + i, event: { ...event(i), event_id: `0192f0c4-1b2c-7d3e-8f40-${String(i).padStart(12, '0')}` } });
const long = (i) => ({ ...record(i), event: { ...record(i).event, command: { text: `é${'x'.repeat(16000)}${i}` } } });

function opsPerSec(f, make, n) {
  const values = Array.from({ length: 1000 }, (_, i) => make(i));
  for (let i = 0; i < n / 4; i++) f(values[i % 1000]); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(values[i % 1000]);
  return (n / (performance.now() - t0)) * 1000;
}
for (const [a, b] of [[record(1), record(2)], [long(1), long(2)]]) {
  if (Buffer.compare(encodeCanonical(a), baseline(a)) !== 0 || Buffer.compare(encodeCanonical(b), baseline(b)) !== 0) throw new Error('encoders disagree');
}
const rows = [];
for (const [what, make, n] of [['a log record (typical event)', record, 200_000], ['a record with a 16,000-character command', long, 20_000]]) {
  const mine = opsPerSec(encodeCanonical, make, n);
  const base = opsPerSec(baseline, make, n);
  rows.push({ what: `encode ${what}`, value: `${Math.round(mine).toLocaleString('en')}/s`, baseline: `${Math.round(base).toLocaleString('en')}/s (cbor-x)`, target: '≥ baseline', ok: mine >= base });
}
await printTable(rows, 'single thread, encodes per second');
