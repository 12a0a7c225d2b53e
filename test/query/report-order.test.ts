/**
 * A decision's index may come before its request's (indexes need not follow
 * request order, spec/api.md): the summary report still measures the
 * approval from the request it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, post } from '../helpers.js';
import { startQueryServer, type QueryServer } from './helpers.js';

let qs: QueryServer;
beforeAll(async () => {
  qs = await startQueryServer();
});
afterAll(async () => qs?.close());

describe('summary report, decision logged before its request', () => {
  it('measures the latency from the request the decision names', async () => {
    const agent = await qs.token('agent', 'acme');
    const auditor = await qs.token('auditor', 'acme');
    const request = '019a4444-0000-7000-8000-000000000001';
    const decision = { actor: { type: 'human', id: 'boss' }, action: { type: 'approve' }, parent_event_id: request, approval: { status: 'approved', approver: 'boss', approved_at: '2026-11-03T10:02:00Z' } };
    expect((await post(`${qs.url}/v1/events`, agent, decision)).status).toBe(201);
    qs.clock.now += 1000;
    const asked = { event_id: request, actor: { type: 'agent', id: 'payer' }, action: { type: 'pay' }, ts: '2026-11-03T10:00:00Z', policy: { decision: 'REQUIRE_APPROVAL' }, approval: { status: 'pending' } };
    expect((await post(`${qs.url}/v1/events`, agent, asked)).status).toBe(201);
    const r = await get(`${qs.url}/v1/reports/summary`, auditor);
    expect(r.status).toBe(200);
    expect(r.json.approval_latency_ms).toEqual({ count: 1, p50: 120_000, p95: 120_000 });
  });
});
