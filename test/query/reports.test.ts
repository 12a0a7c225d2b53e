/**
 * GET /v1/reports/summary: the JSON against a brute-force tally of the
 * leaves, and the HTML page rendered in real Chromium (Debian's chromium
 * driven by playwright-core): it renders its charts, fetches nothing, runs
 * nothing, and shows the same numbers as the JSON.
 */

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord, type LogRecord } from '../../src/events/index.js';
import { entryKey } from '../../src/storage/layout.js';
import { get, post } from '../helpers.js';
import { buildLog, startQueryServer, type QueryServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
let qs: QueryServer;
let auditor: string;
let records: LogRecord[];
let from: number;
let to: number;

const ids = (n: number) => `019a3333-0000-7000-8000-${String(n).padStart(12, '0')}`;

beforeAll(async () => {
  qs = await startQueryServer();
  await buildLog(qs, 3000, 13);
  auditor = await qs.token('auditor', 'acme');
  const agent = await qs.token('agent', 'acme');
  // Approvals with known latencies (30 s, 90 s, 600 s), repeated commands, and hostile text.
  const approvals = [30, 90, 600].flatMap((secs, k) => [
    { event_id: ids(k * 2), run_id: `appr-${k}`, actor: { type: 'agent', id: 'payer' }, action: { type: 'pay' }, ts: '2026-11-03T10:00:00Z', policy: { decision: 'REQUIRE_APPROVAL' }, approval: { status: 'pending' } },
    { event_id: ids(k * 2 + 1), parent_event_id: ids(k * 2), run_id: `appr-${k}`, actor: { type: 'human', id: 'boss' }, action: { type: 'approve' }, approval: { status: 'approved', approver: 'boss', approved_at: new Date(Date.parse('2026-11-03T10:00:00Z') + secs * 1000).toISOString() } },
  ]);
  const hostile = { actor: { type: 'agent', id: '<script>window.__xss=1</script>' }, action: { type: '"><img src=x onerror=alert(1)>' }, command: { text: 'rm -rf /tmp/x' }, run_id: 'hostile', risk: { score: 100 } };
  const r = await post(`${qs.url}/v1/events/batch`, agent, { events: [...approvals, hostile, { ...hostile, event_id: undefined }] });
  expect(r.status).toBe(200);
  records = [];
  for await (const leaf of qs.server.log.store.db.values({ gte: entryKey(0), lt: entryKey(qs.server.log.head.treeSize) })) records.push(decodeRecord(leaf));
  const times = records.map((x) => x.logged_at);
  from = times[Math.floor(times.length * 0.1)]!;
  to = qs.clock.now;
}, 60_000);
afterAll(async () => qs?.close());

function brute(tenant: string, lo: number, hi: number) {
  const window = records.filter((r) => r.tenant === tenant && r.logged_at >= lo && r.logged_at <= hi);
  const rs = window.map((r) => r.event as any);
  const count = (f: (e: any) => unknown) => {
    const m = new Map<string, number>();
    for (const e of rs) {
      const k = f(e);
      if (typeof k === 'string') m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  const dec = { ALLOW: 0, DENY: 0, REQUIRE_APPROVAL: 0, none: 0 } as Record<string, number>;
  for (const e of rs) dec[e.policy?.decision ?? 'none'] = (dec[e.policy?.decision ?? 'none'] ?? 0) + 1;
  const off = window.filter((r) => {
    const e = r.event as any;
    const d = new Date(e.ts ? Date.parse(e.ts) : r.logged_at);
    return [0, 6].includes(d.getUTCDay()) || d.getUTCHours() < 8 || d.getUTCHours() >= 18;
  }).length;
  return { total: rs.length, actors: count((e) => e.actor.id), actions: count((e) => e.action.type), rules: count((e) => e.policy?.matched_rule), commands: count((e) => e.command?.text), dec, off };
}

describe('GET /v1/reports/summary (JSON)', () => {
  it('matches a brute-force tally of the leaves in the window', async () => {
    const r = await get(`${qs.url}/v1/reports/summary?from=${from}&to=${new Date(to).toISOString()}`, auditor);
    expect(r.status).toBe(200);
    const j = r.json;
    const b = brute('acme', from, to);
    expect(j.tenant).toBe('acme');
    expect(j.total_events).toBe(b.total);
    expect(j.by_decision).toEqual(b.dec);
    expect(j.denial_ratio).toBeCloseTo(b.dec.DENY! / (b.dec.ALLOW! + b.dec.DENY! + b.dec.REQUIRE_APPROVAL!), 12);
    for (const a of j.by_actor) expect(a.events).toBe(b.actors.get(a.actor));
    expect(j.by_actor.length).toBe(Math.min(25, b.actors.size));
    for (const a of j.by_action) expect(a.events).toBe(b.actions.get(a.action));
    for (const x of j.top_rules) expect(x.count).toBe(b.rules.get(x.rule));
    expect(j.top_rules[0].count).toBe(Math.max(...b.rules.values()));
    for (const c of j.repeated_commands) {
      expect(c.count).toBeGreaterThanOrEqual(2);
      expect(c.count).toBe(b.commands.get(c.command));
    }
    const repeated = [...b.commands].filter(([, n]) => n >= 2).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 10);
    expect(j.repeated_commands.map((c: any) => [c.command, c.count])).toEqual(repeated);
    expect(b.commands.get('rm -rf /tmp/x')).toBe(2);
    expect(j.off_hours.events).toBe(b.off);
    expect(j.approval_latency_ms).toEqual({ count: 3, p50: 90_000, p95: 600_000 });
    expect(j.riskiest_runs[0]).toEqual({ run_id: 'hostile', max_risk: 100, events: 2 });
    expect(j.truncated).toBe(false);
  });

  it('never counts another tenant, and validates its parameters', async () => {
    const mine = (await get(`${qs.url}/v1/reports/summary`, auditor)).json;
    const other = (await get(`${qs.url}/v1/reports/summary?tenant=other`, qs.admin)).json;
    expect(mine.total_events).toBe(records.filter((r) => r.tenant === 'acme').length);
    expect(other.total_events).toBe(records.filter((r) => r.tenant === 'other').length);
    expect(other.by_actor.find((a: any) => a.actor === 'payer')).toBeUndefined();
    expect((await get(`${qs.url}/v1/reports/summary?tenant=other`, auditor)).status).toBe(404);
    for (const q of ['from=nope', 'format=pdf', 'from=2000&to=1000', 'from=1&from=2'])
      expect((await get(`${qs.url}/v1/reports/summary?${q}`, auditor)).json.error.code).toBe('INVALID_PARAMETER');
  });
});

describe.runIf(existsSync(CHROMIUM))('GET /v1/reports/summary?format=html in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  it('renders a self-contained page whose numbers match the JSON', async () => {
    const query = `from=${from}&to=${to}`;
    const json = (await get(`${qs.url}/v1/reports/summary?${query}`, auditor)).json;
    const ctx = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${auditor}` } });
    const page = await ctx.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const res = await page.goto(`${qs.url}/v1/reports/summary?${query}&format=html`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(requests).toEqual([`${qs.url}/v1/reports/summary?${query}&format=html`]);
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);

    const text = async (k: string) => page.locator(`[data-k="${k}"]`).first().getAttribute('data-raw');
    expect(Number(await text('total_events'))).toBe(json.total_events);
    expect(Number(await text('denial_ratio'))).toBeCloseTo(json.denial_ratio, 12);
    expect(Number(await text('approval_p50'))).toBe(json.approval_latency_ms.p50);
    expect(Number(await text('approval_p95'))).toBe(json.approval_latency_ms.p95);
    expect(Number(await text('off_hours'))).toBe(json.off_hours.events);
    expect(await page.locator('[data-k="tenant"]').textContent()).toBe('acme');

    // Bars: one per item, labels and widths ordered like the counts, all visibly drawn.
    const barsOf = async (k: string) =>
      page.locator(`rect[data-k="${k}"]`).evaluateAll((els) => els.map((e) => ({ label: e.getAttribute('data-label'), w: e.getBoundingClientRect().width, h: e.getBoundingClientRect().height })));
    const actors = await barsOf('by_actor');
    expect(actors.map((a) => a.label)).toEqual(json.by_actor.map((a: any) => a.actor));
    expect(actors.every((a) => a.w > 0 && a.h > 0)).toBe(true);
    for (let i = 1; i < actors.length; i++) expect(actors[i]!.w).toBeLessThanOrEqual(actors[i - 1]!.w + 0.5);
    expect((await barsOf('by_decision')).map((a) => a.label)).toEqual(['ALLOW', 'DENY', 'REQUIRE_APPROVAL', 'none']);
    expect((await barsOf('top_rules')).length).toBe(json.top_rules.length);
    expect((await barsOf('by_action')).length).toBe(json.by_action.length);
    // The hostile actor id is shown as text, not markup.
    expect(await page.locator('text=<script>window.__xss=1</script>').count()).toBeGreaterThan(0);

    const rows = await page.locator('tr[data-k="riskiest_runs"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), ...Array.from(e.querySelectorAll('td[data-v]')).map((td) => Number(td.textContent))]));
    expect(rows).toEqual(json.riskiest_runs.map((r: any) => [r.run_id, r.max_risk, r.events]));
    const cmds = await page.locator('tr[data-k="repeated_commands"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), Number(e.querySelector('td[data-v]')!.textContent)]));
    expect(cmds).toEqual(json.repeated_commands.map((c: any) => [c.command, c.count]));
    await ctx.close();
  }, 60_000);
});
