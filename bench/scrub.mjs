// Secrets scrubbing cost per event, beside baselines from the same run:
// JSON.stringify of the same event (what serializing it costs anyway) and
// a parse of that JSON (a deep copy). Run: npm run build && node bench/scrub.mjs
// BENCH_SCRUB_MS (per measurement, default 1000).
// Then the worst cases: scrubText on 64 KiB hostile strings (a rule's prefix repeated with its own
// characters), beside 64 KiB of ordinary text; each should cost milliseconds, not seconds.
import { compileRules, scrubEvent, scrubText } from '../dist/scrub/index.js';

const MS = Number(process.env.BENCH_SCRUB_MS ?? 1000);
const rules = compileRules();

// A typical event: ~600 bytes of text, no secret (the common case).
const clean = {
  event_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  ts: '2026-11-23T12:00:00.000Z',
  run_id: 'run-2026-11-23-0042',
  session_id: 'sess-7f3a9c',
  actor: { type: 'agent', id: 'invoice-agent', version: '1.4.2', on_behalf_of: 'user-42' },
  action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp' },
  target: { system: 'erp', resource: 'https://erp.example.com/api/invoices/INV-2026-0042', environment: 'production' },
  data_accessed: [{ type: 'invoice', id: 'INV-2026-0042', fields: ['amount', 'vendor', 'due_date'] }, 'vendor/ACME-17'],
  reasoning: { summary: 'Invoice matches the purchase order and is below the auto-approval threshold of 5,000 EUR.', model: 'claude-x', confidence: 0.93 },
  policy: { decision: 'ALLOW', matched_rule: 'invoices.small' },
  risk: { score: 12, factors: ['amount_below_threshold', 'known_vendor'] },
  command: { text: 'erp-cli invoices approve INV-2026-0042 --comment "auto-approved by policy invoices.small"', shell: 'bash', cwd: '/srv/agents/invoice' },
  result: { status: 'success', detail: 'approved', exit_code: 0, duration_ms: 184 },
  metadata: { request_id: 'req-5a1e', retries: 0, tags: ['finance', 'auto'], sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
};
// The same event with two secrets in it (the rare, slow path).
const dirty = structuredClone(clean);
dirty.command.text = "curl -H 'Authorization: Bearer ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5' https://api.example.com/x";
dirty.metadata.password = 'hunter2';

// The clean event with its tool call's arguments as JSON text (OpenAI-style), no secret: the
// string is parsed and its arrays read as command lines.
const withJson = structuredClone(clean);
withJson.metadata.arguments = JSON.stringify({ argv: ['erp-cli', 'invoices', 'approve', 'INV-2026-0042', '--comment', 'auto-approved'], cwd: '/srv/agents/invoice', timeout_ms: 120000 });

function measure(name, fn) {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    t = performance.now();
  }
  const perSec = n / ((t - t0) / 1000);
  return { name, perSec, usPer: 1e6 / perSec };
}

const bytes = JSON.stringify(clean).length;
const line = `2026-11-23T12:00:00Z info request done ${JSON.stringify(clean.command)}`;
const rows = [
  measure('baseline: JSON.stringify(event)', () => JSON.stringify(clean)),
  measure('baseline: JSON.parse(JSON.stringify(event)) (deep copy)', () => JSON.parse(JSON.stringify(clean))),
  measure('scrubEvent, clean event', () => scrubEvent(clean, rules)),
  measure('scrubEvent, event with 2 secrets', () => scrubEvent(dirty, rules)),
  measure('scrubEvent, clean event + JSON tool arguments string', () => scrubEvent(withJson, rules)),
  measure('scrubText, clean log line', () => scrubText(line, rules)),
];
console.log(`event: ${bytes} bytes of JSON; ${rules.rules.length} text rules`);
console.log('| what | events/s | µs each |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.usPer.toFixed(2)} |`);

// Hostile 64 KiB strings: the shapes that once cost quadratic time (a match could start at every
// repetition and scan the rest of the run), beside ordinary text of the same length. Milliseconds
// each (the best of 3 runs); a rule that grows quadratic shows here as seconds.
const fill = (unit) => unit.repeat(Math.ceil(65_536 / unit.length)).slice(0, 65_536);
const hostile = [
  ['baseline: 64 KiB of log text', fill('2026-11-23 info request done path=/api/v1/x status=200 ')],
  ['-eyJ repeated (jwt)', fill('-eyJ')],
  ['-eyJaaaaaaaa repeated (jwt)', fill('-eyJaaaaaaaa')],
  ['-sk- repeated (openai_key)', fill('-sk-')],
  ['a://b:c repeated (url_password)', fill('a://b:c')],
  ['password=" repeated', fill('password="')],
  ['curl  repeated (curl -u)', fill('curl ')],
  // A glued `-u` that can end at nine places, then a long word without `:` (the user part is bounded).
  ['curl- x100, -uuuuuuuuu, a… (curl -u glued)', ('curl-'.repeat(100) + ' -uuuuuuuuu' + 'a'.repeat(65_536)).slice(0, 65_536)],
  ['mysql -pa  repeated (tool-anchored flag)', fill('mysql -pa ')],
];
console.log('');
console.log('| hostile input (64 KiB) | ms |');
console.log('|---|---:|');
for (const [name, text] of hostile) {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    scrubText(text, rules);
    best = Math.min(best, performance.now() - t);
  }
  console.log(`| ${name} | ${best.toFixed(1)} |`);
}
