// Per-event CPU of each append stage, in-process (µs/event of CPU time), for
// profiling: `npm run build && node bench/stages.mjs`. Not a target: it says
// where an append's time goes (README, Benchmarks).
import { createHash } from 'node:crypto';
import { parseEvent, encodeCanonical } from '../dist/events/index.js';
import { compileRules, scrubEvent } from '../dist/scrub/index.js';
import { scanJson } from '../dist/http/body.js';
import { eachList } from '../dist/query/indexer.js';
import { encodeRecordFromEventBytes } from '../dist/events/index.js';
import { event } from './lib.mjs';

const N = 20000;
const texts = Array.from({ length: N }, (_, i) => JSON.stringify(event(i)));
const rules = compileRules();
const sha = (b) => createHash('sha256').update(b).digest();
const time = (name, fn) => {
  for (let i = 0; i < 2000; i++) fn(i);
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn(i);
  const d = process.cpuUsage(t0);
  console.log(name.padEnd(28), ((d.user + d.system) / N).toFixed(1), 'µs');
};
const parsed = texts.map((t) => JSON.parse(t));
const events = parsed.map((p) => parseEvent(structuredClone(p)));
const bytes = events.map((e) => encodeCanonical(e));
const leaves = bytes.map((b, i) => encodeRecordFromEventBytes(b, 'bench', 1795000000000 + i));
time('JSON.parse', (i) => JSON.parse(texts[i]));
time('scanJson', (i) => scanJson(texts[i], 64));
time('parseEvent (sanitize+zod)', (i) => parseEvent(parsed[i]));
time('scrubEvent', (i) => scrubEvent(events[i], rules));
time('encodeCanonical', (i) => encodeCanonical(events[i]));
time('sha256 event', (i) => sha(bytes[i]));
time('encodeRecord', (i) => encodeRecordFromEventBytes(bytes[i], 'bench', 1795000000000 + i));
const records = leaves.map((_, i) => ({ v: 1, tenant: 'bench', logged_at: 1795000000000 + i, event: events[i] }));
let lists = 0;
time('index lists of a record', (i) => eachList(records[i], () => lists++));
time('JSON.stringify receipt-ish', (i) => JSON.stringify({ a: Buffer.from(leaves[i]).toString('base64') }));
const { sanitizeJson } = await import('../dist/events/index.js');
const { EventSchema } = await import('../dist/events/schema.js');
time('sanitizeJson', (i) => sanitizeJson(parsed[i], 32));
const clean = parsed.map((p) => sanitizeJson(p, 32));
time('zod safeParse', (i) => EventSchema.safeParse(clean[i]));
