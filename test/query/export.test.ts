/** GET /v1/export and `agent-tlog export`: formats, a real CSV parser, tenant boundary, offline-verifiable proofs. */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { decodeRecord, type LogRecord } from '../../src/events/index.js';
import { CSV_COLUMNS } from '../../src/query/csv.js';
import { entryKey } from '../../src/storage/layout.js';
import { verifyReceipt } from '../../src/verifier/index.js';
import { CLI } from '../child.js';
import { get, post, tempDir } from '../helpers.js';
import { buildLog, startQueryServer, type QueryServer } from './helpers.js';

const run = promisify(execFile);
let qs: QueryServer;
let auditor: string;
let records: { index: number; r: LogRecord; leafHash: string }[];

const TRICKY = [
  '=SUM(A1:A9)',
  '+1-1',
  '-2+3',
  '@cmd',
  '\tleading tab',
  'comma, inside',
  'quote " inside "twice"',
  'line\nbreak and\r\nCRLF',
  'ünïcode ✓ 日本語',
  "'already quoted",
];

beforeAll(async () => {
  qs = await startQueryServer();
  await buildLog(qs, 1500, 3);
  auditor = await qs.token('auditor', 'acme');
  const agent = await qs.token('agent', 'acme');
  const events = TRICKY.map((s, i) => ({
    actor: { type: 'agent', id: `tricky-${i}` },
    action: { type: 'shell', name: s.replace(/[\t\r\n]/g, ' ').trim() },
    command: { text: s },
    reasoning: { summary: s, confidence: 0.5 },
    result: { status: 'failure', exit_code: -1 - i, detail: s },
    metadata: { note: s, n: [1, 2] },
    data_accessed: ['a,b', { type: 'x', fields: ['f"1'] }],
    approval: { required: true, status: 'pending' },
    run_id: 'tricky',
  }));
  expect((await post(`${qs.url}/v1/events/batch`, agent, { events })).status).toBe(200);
  records = [];
  let i = 0;
  for await (const leaf of qs.server.log.store.db.values({ gte: entryKey(0), lt: entryKey(qs.server.log.head.treeSize) }))
    records.push({ index: i++, r: decodeRecord(leaf), leafHash: toBase64(qs.server.log.hashLeaf(leaf)) });
}, 60_000);
afterAll(async () => qs?.close());

const acme = () => records.filter((x) => x.r.tenant === 'acme');

/** What a CSV cell should read back as, after undoing the formula guard. */
function expectedCell(x: (typeof records)[number], path: string): string {
  if (path === '@index') return String(x.index);
  if (path === '@leaf_hash') return x.leafHash;
  let v: any = x.r;
  for (const k of path.split('.')) v = v?.[k];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
const unguard = (s: string) => (/^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s);

describe('GET /v1/export', () => {
  it('NDJSON: one valid JSON record per line, with index and leaf hash, own tenant only', async () => {
    const r = await fetch(`${qs.url}/v1/export?format=ndjson`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await r.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.index)).toEqual(acme().map((x) => x.index));
    lines.forEach((l, i) => {
      expect(l.leaf_hash).toBe(acme()[i]!.leafHash);
      expect(l.record).toEqual(acme()[i]!.r);
    });
  });

  it('CSV: round-trips through csv-parse with the documented columns and formula guard', async () => {
    const r = await fetch(`${qs.url}/v1/export?format=csv`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await r.text();
    const rows: string[][] = parse(text, { relax_column_count: false, record_delimiter: '\r\n' });
    expect(rows[0]).toEqual(CSV_COLUMNS.map(([n]) => n));
    const body = rows.slice(1);
    const want = acme();
    expect(body.length).toBe(want.length);
    body.forEach((row, i) => {
      CSV_COLUMNS.forEach(([name, path], c) => {
        expect(unguard(row[c]!), `${name} of row ${i}`).toBe(expectedCell(want[i]!, path));
      });
    });
    // Dangerous first characters are never left bare in a cell.
    for (const row of body) for (const cellText of row) if (/^[=+@\t\r]/.test(cellText)) throw new Error(`unguarded cell ${JSON.stringify(cellText)}`);
    const tricky = body.filter((row) => row[CSV_COLUMNS.findIndex(([n]) => n === 'run_id')] === 'tricky');
    expect(tricky.length).toBe(TRICKY.length);
    const cmd = CSV_COLUMNS.findIndex(([n]) => n === 'command_text');
    expect(tricky[0]![cmd]).toBe("'=SUM(A1:A9)");
    expect(tricky[2]![cmd]).toBe("'-2+3");
    expect(tricky[7]![cmd]).toBe('line\nbreak and\r\nCRLF');
    const exit = CSV_COLUMNS.findIndex(([n]) => n === 'result_exit_code');
    expect(tricky[0]![exit]).toBe('-1'); // numbers are numbers, never guarded
  });

  it('applies the filters and the tenant of a * key', async () => {
    const r = await fetch(`${qs.url}/v1/export?decision=DENY&q=error`, { headers: { authorization: `Bearer ${auditor}` } });
    const n = (await r.text()).split('\n').filter(Boolean).length;
    const q = await get(`${qs.url}/v1/events?decision=DENY&q=error&limit=1000`, auditor);
    expect(n).toBe(q.json.events.length);
    const other = await fetch(`${qs.url}/v1/export?tenant=other`, { headers: { authorization: `Bearer ${qs.admin}` } });
    const lines = (await other.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.length).toBe(records.filter((x) => x.r.tenant === 'other').length);
    expect(lines.every((l) => l.record.tenant === 'other')).toBe(true);
    expect((await get(`${qs.url}/v1/export?tenant=other`, auditor)).status).toBe(404);
    expect((await get(`${qs.url}/v1/export`, qs.admin)).json.error.code).toBe('MISSING_PARAMETER');
  });

  it('a reader that leaves mid-stream does not wedge the server', async () => {
    for (let i = 0; i < 3; i++) {
      const ac = new AbortController();
      const r = await fetch(`${qs.url}/v1/export`, { headers: { authorization: `Bearer ${auditor}` }, signal: ac.signal });
      const reader = r.body!.getReader();
      await reader.read();
      ac.abort();
      await reader.read().catch(() => undefined);
    }
    const full = await (await fetch(`${qs.url}/v1/export`, { headers: { authorization: `Bearer ${auditor}` } })).text();
    expect(full.split('\n').filter(Boolean).length).toBe(acme().length);
  });

  it.each(['format=xml', 'format=csv&proofs=true', 'proofs=yes', 'risk_min=abc'])('%s → 400', async (q) => {
    const r = await get(`${qs.url}/v1/export?${q}`, auditor);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_PARAMETER');
  });
});

describe('agent-tlog export', () => {
  it('writes CSV and proofs that verify offline against the verifier key', async () => {
    const dir = await tempDir('tlog-export-');
    const out = join(dir, 'out.csv');
    const proofs = join(dir, 'proofs.ndjson');
    const r = await run(process.execPath, [CLI, 'export', '--url', qs.url, '--token', auditor, '--format', 'csv', '--out', out, '--proofs', proofs, '--run-id', 'tricky']);
    expect(r.stdout).toMatch(new RegExp(`exported ${TRICKY.length} rows`));
    expect(r.stderr).toMatch(/exported .*rows\/s/);
    const rows: string[][] = parse(await readFile(out, 'utf8'), { record_delimiter: '\r\n' });
    expect(rows.length).toBe(TRICKY.length + 1);
    const vkey = (await get(`${qs.url}/v1/log`)).json.verifier_key;
    const lines = (await readFile(proofs, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(TRICKY.length);
    lines.forEach((l, i) => {
      const v = verifyReceipt(l.tlog_proof, vkey);
      expect(v.index).toBe(l.index);
      expect(toBase64(v.leafHash)).toBe(l.leaf_hash);
      expect(v.record.event.event_id).toBe(l.event_id);
      expect(String(l.index)).toBe(rows[i + 1]![0]);
      expect(fromBase64(l.leaf_hash)).toBeDefined();
    });
  }, 30_000);

  it('writes NDJSON identical to the server stream', async () => {
    const dir = await tempDir('tlog-export-');
    const out = join(dir, 'out.ndjson');
    await run(process.execPath, [CLI, 'export', '--url', qs.url, '--token', auditor, '--out', out, '--actor', 'bot-a']);
    const direct = await (await fetch(`${qs.url}/v1/export?actor=bot-a`, { headers: { authorization: `Bearer ${auditor}` } })).text();
    expect(await readFile(out, 'utf8')).toBe(direct);
  }, 30_000);

  it('fails clearly on a bad token', async () => {
    const e = await run(process.execPath, [CLI, 'export', '--url', qs.url, '--token', 'nope', '--out', join(await tempDir(), 'x')]).catch((x) => x);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/HTTP 401/);
  });
});
