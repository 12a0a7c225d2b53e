/** Run timelines and listings, over real appends, checked against hand-computed and brute-force answers. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord, type LogRecord } from '../../src/events/index.js';
import { entryKey } from '../../src/storage/layout.js';
import { get, post } from '../helpers.js';
import { buildLog, startQueryServer, type QueryServer } from './helpers.js';

let qs: QueryServer;
let auditor: string;
const ids = (n: number) => `019a1111-0000-7000-8000-${String(n).padStart(12, '0')}`;

beforeAll(async () => {
  qs = await startQueryServer();
  await buildLog(qs, 2000, 5);
  auditor = await qs.token('auditor', 'acme');
  const agent = await qs.token('agent', 'acme');
  const other = await qs.token('agent', 'other');
  const base = { actor: { type: 'agent', id: 'planner' }, run_id: 'run-story' };
  const events = [
    { ...base, event_id: ids(1), ts: '2026-11-02T10:00:00Z', action: { type: 'plan' }, result: { status: 'success' }, risk: { score: 10 } },
    { ...base, event_id: ids(2), parent_event_id: ids(1), ts: '2026-11-02T10:00:05Z', action: { type: 'shell' }, policy: { decision: 'REQUIRE_APPROVAL' }, approval: { status: 'pending' }, risk: { score: 80 } },
    { ...base, event_id: ids(3), parent_event_id: ids(2), ts: '2026-11-02T10:02:05Z', action: { type: 'shell' }, actor: { type: 'human', id: 'alice' }, approval: { status: 'approved', approver: 'alice', approved_at: '2026-11-02T10:02:05Z' } },
    { ...base, event_id: ids(4), parent_event_id: ids(3), ts: '2026-11-02T10:02:06Z', action: { type: 'shell' }, policy: { decision: 'ALLOW' }, result: { status: 'success' }, risk: { score: 55 } },
    { ...base, event_id: ids(5), parent_event_id: ids(1), ts: '2026-11-02T10:03:00Z', action: { type: 'email.send' }, policy: { decision: 'DENY' }, result: { status: 'blocked' } },
  ];
  for (const e of events) {
    expect((await post(`${qs.url}/v1/events`, agent, e)).status).toBe(201);
    qs.clock.now += 1000;
  }
  // The same run_id in another tenant must never show up.
  expect((await post(`${qs.url}/v1/events`, other, { ...events[0], event_id: ids(9), risk: { score: 99 } })).status).toBe(201);
  expect((await post(`${qs.url}/v1/events`, other, { ...events[0], event_id: ids(10), run_id: 'run-only-other' })).status).toBe(201);
}, 60_000);
afterAll(async () => qs?.close());

describe('GET /v1/runs/<run_id>', () => {
  it('returns the timeline in log order with the causal tree and the summary', async () => {
    const r = await get(`${qs.url}/v1/runs/run-story`, auditor);
    expect(r.status).toBe(200);
    const t = r.json;
    expect(t.run_id).toBe('run-story');
    expect(t.events.map((e: any) => e.record.event.event_id)).toEqual([1, 2, 3, 4, 5].map(ids));
    const idx = t.events.map((e: any) => e.index);
    expect(idx).toEqual([...idx].sort((a: number, b: number) => a - b));
    expect(t.events.every((e: any) => e.record.tenant === 'acme')).toBe(true);
    expect(t.roots).toEqual([idx[0]]);
    expect(t.events.map((e: any) => e.parent)).toEqual([null, idx[0], idx[1], idx[2], idx[0]]);
    expect(t.events.map((e: any) => e.depth)).toEqual([0, 1, 2, 3, 1]);
    expect(t.events[0].children).toEqual([idx[1], idx[4]]);
    expect(t.events).toHaveLength(5);
    expect(t.start).toBe(t.events[0].record.logged_at);
    expect(t.end).toBe(t.events[4].record.logged_at);
    expect(t.duration_ms).toBe(4000);
    expect(t.decisions).toEqual({ REQUIRE_APPROVAL: 1, ALLOW: 1, DENY: 1 });
    expect(t.results).toEqual({ success: 2, blocked: 1 });
    expect(t.highest_risk).toEqual({ score: 80, index: idx[1], event_id: ids(2) });
    expect(t.status).toBe('denied');
    expect(t.actors).toEqual(['alice', 'planner']);
    const decided = t.approvals.find((a: any) => a.status === 'approved');
    expect(decided).toMatchObject({ event_id: ids(3), approver: 'alice', latency_ms: 120_000 });
    expect(t.approvals.find((a: any) => a.status === 'pending')).toMatchObject({ event_id: ids(2), latency_ms: null });
  });

  it('answers 404 for an unknown run and for another tenant\'s run', async () => {
    expect((await get(`${qs.url}/v1/runs/no-such-run`, auditor)).status).toBe(404);
    expect((await get(`${qs.url}/v1/runs/run-only-other`, auditor)).status).toBe(404);
    const admin = await get(`${qs.url}/v1/runs/run-only-other?tenant=other`, qs.admin);
    expect(admin.status).toBe(200);
    expect(admin.json.events).toHaveLength(1);
    expect((await get(`${qs.url}/v1/runs/run-story`, qs.admin)).json.error.code).toBe('MISSING_PARAMETER');
  });
});

describe('GET /v1/runs', () => {
  let records: { index: number; r: LogRecord }[];
  beforeAll(async () => {
    records = [];
    let i = 0;
    for await (const leaf of qs.server.log.store.db.values({ gte: entryKey(0), lt: entryKey(qs.server.log.head.treeSize) })) records.push({ index: i++, r: decodeRecord(leaf) });
  });

  function brute(f: { actor?: string; status?: string; from?: number; to?: number }): string[] {
    const runs = new Map<string, { index: number; r: LogRecord }[]>();
    for (const x of records) {
      const run = x.r.event.run_id;
      if (x.r.tenant !== 'acme' || typeof run !== 'string') continue;
      runs.set(run, [...(runs.get(run) ?? []), x]);
    }
    const out: string[] = [];
    for (const [run, evs] of runs) {
      const es = evs.map((x) => x.r.event as any);
      const status = es.some((e) => ['failure', 'error'].includes(e.result?.status))
        ? 'failed'
        : es.some((e) => e.policy?.decision === 'DENY' || e.result?.status === 'blocked' || e.approval?.status === 'denied')
          ? 'denied'
          : es.at(-1).result?.status === 'pending' || es.at(-1).approval?.status === 'pending'
            ? 'pending'
            : 'ok';
      const start = evs[0]!.r.logged_at;
      const end = evs.at(-1)!.r.logged_at;
      if (f.actor && !es.some((e) => e.actor.id === f.actor)) continue;
      if (f.status && status !== f.status) continue;
      if (f.from !== undefined && end < f.from) continue;
      if (f.to !== undefined && start > f.to) continue;
      out.push(run);
    }
    return out.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
  }

  async function listAll(params: Record<string, string>, limit: number): Promise<any[]> {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const qp = new URLSearchParams({ ...params, limit: String(limit), ...(cursor ? { cursor } : {}) });
      const r = await get(`${qs.url}/v1/runs?${qp}`, auditor);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      out.push(...r.json.runs);
      cursor = r.json.next_cursor;
    } while (cursor);
    return out;
  }

  it('lists every run of the tenant, paged, with summaries', async () => {
    const all = await listAll({}, 37);
    expect(all.map((r) => r.run_id)).toEqual(brute({}));
    const story = all.find((r) => r.run_id === 'run-story');
    expect(story).toMatchObject({ events: 5, status: 'denied', highest_risk: { score: 80 } });
    expect(all.find((r) => r.run_id === 'run-only-other')).toBeUndefined();
  });

  it.each<[string, Record<string, string>]>([
    ['actor', { actor: 'bot-c' }],
    ['status failed', { status: 'failed' }],
    ['status ok', { status: 'ok' }],
    ['status pending + actor', { status: 'pending', actor: 'bot-a' }],
  ])('filters by %s', async (_n, params) => {
    expect((await listAll(params, 200)).map((r) => r.run_id)).toEqual(brute(params));
  });

  it('filters by time overlap', async () => {
    const times = records.map((x) => x.r.logged_at);
    const mid = times[Math.floor(times.length / 2)]!;
    const f = { from: mid - 60_000, to: mid + 60_000 };
    expect((await listAll({ from: String(f.from), to: new Date(f.to).toISOString() }, 200)).map((r) => r.run_id)).toEqual(brute(f));
  });

  it('rejects bad parameters', async () => {
    for (const q of ['status=weird', 'limit=201', 'limit=0', 'from=x', 'cursor=@@', 'from=2000&to=1000']) {
      const r = await get(`${qs.url}/v1/runs?${q}`, auditor);
      expect(r.status, q).toBe(400);
    }
  });
});
