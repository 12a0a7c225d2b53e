/**
 * GET /v1/events against a brute-force scan of every leaf, on a randomized
 * log of 10,000 events in two tenants, for each filter, fixed combinations
 * and fast-check's random combinations, paged through with cursors in both
 * orders. The reference predicate below is written independently of
 * src/query (its own tokenizer and field reads).
 */

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord, type LogRecord } from '../../src/events/index.js';
import { entryKey } from '../../src/storage/layout.js';
import { get } from '../helpers.js';
import { buildLog, startQueryServer, VOCAB, type QueryServer } from './helpers.js';

const N = 10_000;
let qs: QueryServer;
let auditor: string;
let records: LogRecord[] = [];
let t0 = 0;
let t1 = 0;

beforeAll(async () => {
  qs = await startQueryServer();
  t0 = qs.clock.now;
  await buildLog(qs, N, 7);
  t1 = qs.clock.now;
  auditor = await qs.token('auditor', 'acme');
  records = [];
  for await (const leaf of qs.server.log.store.db.values({ gte: entryKey(0), lt: entryKey(qs.server.log.head.treeSize) })) records.push(decodeRecord(leaf));
}, 120_000);
afterAll(async () => qs?.close());

type Params = Record<string, string>;

const words = (s: string): string[] => s.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

function reference(p: Params, tenant: string): number[] {
  const out: number[] = [];
  const time = (s: string) => (/^\d+$/.test(s) ? Number(s) : Date.parse(s));
  records.forEach((r, index) => {
    const e = r.event as any;
    if (r.tenant !== tenant) return;
    if (p.from && r.logged_at < time(p.from)) return;
    if (p.to && r.logged_at > time(p.to)) return;
    if (p.run_id && e.run_id !== p.run_id) return;
    if (p.session_id && e.session_id !== p.session_id) return;
    if (p.actor && e.actor?.id !== p.actor) return;
    if (p.action && e.action?.type !== p.action && e.action?.name !== p.action) return;
    if (p.decision && e.policy?.decision !== p.decision) return;
    if (p.approval && e.approval?.status !== p.approval) return;
    if (p.approver && e.approval?.approver !== p.approver) return;
    if (p.target && e.target?.system !== p.target && e.target?.resource !== p.target) return;
    if (p.risk_min && !(e.risk?.score >= Number(p.risk_min))) return;
    if (p.risk_max && !(e.risk?.score <= Number(p.risk_max))) return;
    if (p.q) {
      const have = new Set(words([e.action?.name, e.target?.system, e.target?.resource, e.command?.text, e.reasoning?.summary, e.result?.detail].filter((x) => typeof x === 'string').join(' ')));
      if (!words(p.q).every((w) => have.has(w))) return;
    }
    out.push(index);
  });
  return out;
}

async function queryAll(p: Params, limit: number, order: 'asc' | 'desc', token = auditor): Promise<number[]> {
  const got: number[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const qp = new URLSearchParams({ ...p, limit: String(limit), order, ...(cursor ? { cursor } : {}) });
    const r = await get(`${qs.url}/v1/events?${qp}`, token);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.events.length).toBeLessThanOrEqual(limit);
    for (const h of r.json.events) {
      expect(h.record.tenant).toBe('acme');
      expect(typeof h.leaf_hash).toBe('string');
      got.push(h.index);
    }
    cursor = r.json.next_cursor;
    if (cursor === null) return got;
  }
  throw new Error('too many pages');
}

async function check(p: Params, limit = 1000): Promise<void> {
  const want = reference(p, 'acme');
  expect(await queryAll(p, limit, 'asc'), JSON.stringify(p)).toEqual(want);
  expect(await queryAll(p, limit, 'desc'), JSON.stringify(p)).toEqual([...want].reverse());
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('GET /v1/events matches a brute-force scan', () => {
  it('builds a log with both tenants and spread-out times', () => {
    // The log also holds the server's own entries (logged key creations), which the queries index too.
    expect(records.filter((r) => (r.event as { actor?: { type?: string } }).actor?.type !== 'system').length).toBe(N);
    expect(new Set(records.map((r) => r.tenant))).toEqual(new Set(['_system', 'acme', 'other']));
    expect(t1 - t0).toBeGreaterThan(30 * 60_000);
  });

  it.each<[string, Params]>([
    ['no filter', {}],
    ['run_id', { run_id: 'run-17' }],
    ['session_id', { session_id: 'sess-3' }],
    ['actor', { actor: 'bot-b' }],
    ['action type', { action: 'shell' }],
    ['action name', { action: 'Approve_Invoice' }],
    ['decision', { decision: 'DENY' }],
    ['approval', { approval: 'pending' }],
    ['approver', { approver: 'carol' }],
    ['target system', { target: 'github' }],
    ['target resource', { target: 'res/12' }],
    ['risk range', { risk_min: '12.5', risk_max: '40.25' }],
    ['risk_min 100', { risk_min: '100' }],
    ['risk_max 0', { risk_max: '0' }],
    ['q one word, any case', { q: 'KUBECTL' }],
    ['q two words', { q: 'db-01.prod restart' }],
    ['q unicode', { q: 'ünïcode' }],
    ['q absent word', { q: 'zebra' }],
    ['actor + decision', { actor: 'bot-a', decision: 'ALLOW' }],
    ['run + q', { run_id: 'run-3', q: 'alpha' }],
    ['target + approval + approver', { target: 'k8s', approval: 'approved', approver: 'bob' }],
  ])('%s', async (_name, p) => {
    await check(p);
  });

  it('time ranges in ISO 8601 and unix ms, alone and combined', async () => {
    const mid = t0 + Math.floor((t1 - t0) / 3);
    await check({ from: iso(mid), to: iso(mid + 20 * 60_000) });
    await check({ from: String(mid) });
    await check({ to: String(mid) });
    await check({ from: String(mid), to: String(mid + 3_600_000), decision: 'DENY', q: 'error' });
    await check({ from: iso(t1 + 1000) });
  });

  it('pages of 1, 7 and 100 give the same sequence', async () => {
    const p = { run_id: 'run-5' };
    const want = reference(p, 'acme');
    expect(want.length).toBeGreaterThan(5);
    for (const limit of [1, 7, 100]) expect(await queryAll(p, limit, 'asc')).toEqual(want);
    expect(await queryAll(p, 3, 'desc')).toEqual([...want].reverse());
  });

  it('random filter combinations (fast-check)', async () => {
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
    const params = fc.record({
      run_id: opt(fc.integer({ min: 0, max: 310 }).map((n) => `run-${n}`)),
      session_id: opt(fc.integer({ min: 0, max: 45 }).map((n) => `sess-${n}`)),
      actor: opt(fc.constantFrom(...VOCAB.actors, 'nobody')),
      action: opt(fc.constantFrom(...VOCAB.actionTypes, ...VOCAB.actionNames)),
      decision: opt(fc.constantFrom(...VOCAB.decisions)),
      approval: opt(fc.constantFrom(...VOCAB.approvals)),
      approver: opt(fc.constantFrom(...VOCAB.approvers)),
      target: opt(fc.oneof(fc.constantFrom(...VOCAB.systems), fc.integer({ min: 0, max: 65 }).map((n) => `res/${n}`))),
      risk_min: opt(fc.integer({ min: 0, max: 10000 }).map((n) => String(n / 100))),
      risk_max: opt(fc.integer({ min: 0, max: 10000 }).map((n) => String(n / 100))),
      q: opt(fc.array(fc.constantFrom(...VOCAB.words), { minLength: 1, maxLength: 3 }).map((w) => w.join(' '))),
      from: opt(fc.integer({ min: -3_600_000, max: 40 * 3_600_000 })),
      to: opt(fc.integer({ min: -3_600_000, max: 40 * 3_600_000 })),
      iso: fc.boolean(),
      limit: fc.constantFrom(13, 250, 1000),
    });
    await fc.assert(
      fc.asyncProperty(params, async (g) => {
        const p: Params = {};
        for (const [k, v] of Object.entries(g)) if (v !== undefined && !['iso', 'limit', 'from', 'to'].includes(k)) p[k] = String(v);
        if (p.risk_min && p.risk_max && Number(p.risk_min) > Number(p.risk_max)) [p.risk_min, p.risk_max] = [p.risk_max, p.risk_min];
        let from = g.from === undefined ? undefined : t0 + g.from;
        let to = g.to === undefined ? undefined : t0 + g.to;
        if (from !== undefined && to !== undefined && from > to) [from, to] = [to, from];
        if (from !== undefined && from >= 0) p.from = g.iso ? iso(from) : String(from);
        if (to !== undefined && to >= 0) p.to = g.iso ? iso(to) : String(to);
        await check(p, g.limit);
      }),
      { numRuns: 20, seed: 20261123 },
    );
  }, 60_000);
});

describe('GET /v1/events: tenants and bad parameters', () => {
  it('a * key names the tenant; a tenant key never sees another tenant', async () => {
    const admin = qs.admin;
    const r = await get(`${qs.url}/v1/events?limit=5`, admin);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('MISSING_PARAMETER');
    const other = await get(`${qs.url}/v1/events?tenant=other&limit=1000`, admin);
    expect(other.status).toBe(200);
    expect(other.json.events.map((h: any) => h.index)).toEqual(reference({}, 'other').slice(0, 1000));
    const cross = await get(`${qs.url}/v1/events?tenant=other`, auditor);
    expect(cross.status).toBe(404);
    const none = await get(`${qs.url}/v1/events?tenant=nobody`, admin);
    expect(none.json.events).toEqual([]);
    const agent = await get(`${qs.url}/v1/events`, await qs.token('agent', 'acme'));
    expect(agent.status).toBe(403);
  });

  it.each([
    ['limit=0', 'INVALID_PARAMETER'],
    ['limit=1001', 'INVALID_PARAMETER'],
    ['limit=abc', 'INVALID_PARAMETER'],
    ['order=up', 'INVALID_PARAMETER'],
    ['decision=allow', 'INVALID_PARAMETER'],
    ['approval=yes', 'INVALID_PARAMETER'],
    ['risk_min=101', 'INVALID_PARAMETER'],
    ['risk_min=-1', 'INVALID_PARAMETER'],
    ['risk_min=50&risk_max=10', 'INVALID_PARAMETER'],
    ['from=yesterday', 'INVALID_PARAMETER'],
    ['from=2026-13-45T99:00:00Z', 'INVALID_PARAMETER'],
    // Dates Date.parse would roll over to another day, and hours or offsets out of range.
    ['from=2026-02-30', 'INVALID_PARAMETER'],
    ['from=2026-02-29T10:00:00Z', 'INVALID_PARAMETER'],
    ['to=2026-04-31', 'INVALID_PARAMETER'],
    ['from=2026-01-01T24:00:00Z', 'INVALID_PARAMETER'],
    ['from=2026-01-01T10:00:60Z', 'INVALID_PARAMETER'],
    ['from=2026-01-01T10:00:00%2B24:00', 'INVALID_PARAMETER'],
    ['from=2000&to=1000', 'INVALID_PARAMETER'],
    ['q=%20%2C%3B', 'INVALID_PARAMETER'],
    ['q=' + Array.from({ length: 17 }, (_, i) => `w${i}`).join('+'), 'INVALID_PARAMETER'],
    ['actor=a&actor=b', 'INVALID_PARAMETER'],
    ['actor=%00x', 'INVALID_PARAMETER'],
    ['cursor=garbage!', 'INVALID_CURSOR'],
    ['cursor=eyJ2IjoxfQ', 'INVALID_CURSOR'],
  ])('%s → 400 %s', async (query, code) => {
    const r = await get(`${qs.url}/v1/events?${query}`, auditor);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe(code);
  });

  it('takes real calendar dates, leap days included', async () => {
    for (const q of ['from=2028-02-29', 'from=2026-12-31T23:59:59.999Z', 'from=2026-01-01T10:00%2B05:30', 'to=2026-04-30']) {
      const r = await get(`${qs.url}/v1/events?${q}`, auditor);
      expect(r.status, q).toBe(200);
    }
  });

  it('a cursor is bound to its filters and order', async () => {
    const r = await get(`${qs.url}/v1/events?actor=bot-a&limit=2`, auditor);
    const cursor = r.json.next_cursor;
    expect(typeof cursor).toBe('string');
    expect((await get(`${qs.url}/v1/events?actor=bot-b&limit=2&cursor=${cursor}`, auditor)).json.error.code).toBe('INVALID_CURSOR');
    expect((await get(`${qs.url}/v1/events?actor=bot-a&limit=2&order=desc&cursor=${cursor}`, auditor)).json.error.code).toBe('INVALID_CURSOR');
    expect((await get(`${qs.url}/v1/events?actor=bot-a&limit=2&cursor=${cursor}`, auditor)).status).toBe(200);
  });

  it('each hit is provable: leaf_hash matches the entry and an inclusion proof exists', async () => {
    const r = await get(`${qs.url}/v1/events?q=rollback&limit=3`, auditor);
    for (const h of r.json.events) {
      const e = await get(`${qs.url}/v1/entries/${h.index}`, auditor);
      expect(e.json.leaf_hash).toBe(h.leaf_hash);
      expect(e.json.record).toEqual(h.record);
      const p = await get(`${qs.url}/v1/proofs/inclusion?leaf_hash=${encodeURIComponent(h.leaf_hash)}&tree_size=${r.json.tree_size}`);
      expect(p.json.index).toBe(h.index);
    }
  });
});
