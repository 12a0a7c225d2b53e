/**
 * Changes in the vault and the events that log them: a partial retention
 * erasure, a hold set or lifted. Each change is written with its event in
 * the vault's outbox, so an append that fails or is cut off (a full queue,
 * a crash, a stop) leaves the event to be logged by start-up or by the next
 * change, never lost with the change in force. Real server, injected clock.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const DAY = 86_400_000;

/** The tenant's system events of `action` (hold.set, pii.erase, …), from a query. */
async function logged(t: TestServer, action: string): Promise<any[]> {
  const r = await get(`${t.url}/v1/events?action=${action}&limit=1000`, t.auditorToken);
  expect(r.status).toBe(200);
  return r.json.events.map((e: any) => e.record.event);
}

/** Makes the log refuse every append of a system event with `action` until the returned function is called. */
function failAppends(t: TestServer, action: string): () => void {
  const log = t.server.log as unknown as { append: (tenant: string, event: any, opts?: unknown) => Promise<unknown> };
  const append = log.append.bind(log);
  log.append = async (tenant, event, opts) => {
    if (event?.action?.type === action) throw new Error('append refused (test)');
    return append(tenant, event, opts);
  };
  return () => {
    log.append = append;
  };
}

describe('the vault outbox', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a partial retention erasure whose event failed is logged by the next start', async () => {
    let now = Date.UTC(2026, 2, 1);
    t = await startTestServer({ piiRetentionDays: 90, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    const dir = t.dataDir;
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'mia', value: 'mia.old@example.org' } } }))).status).toBe(201);
    now += 60 * DAY;
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { pii: { email: { subject: 'mia', value: 'mia.new@example.org' } } }))).status).toBe(201);
    now += 31 * DAY; // the first value is past 90 days, the second is not: a partial erasure
    const restore = failAppends(t, 'pii.erase');
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).status).toBe(500);
    restore();
    expect(await logged(t, 'pii.erase')).toHaveLength(0);
    await t.close({ keepData: true });
    t = await startTestServer({ piiRetentionDays: 90, retentionSweepSeconds: 0 }, dir, { now: () => now });
    const events = await logged(t, 'pii.erase');
    // Before, nothing recorded a partial erasure: the value was gone and the log never said so.
    expect(events).toHaveLength(1);
    expect(events[0].metadata).toMatchObject({ values: 1, scope: 'values' });
    // Logged once: a further sweep finds nothing to erase and nothing pending.
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.pii).toMatchObject({ subjects: 0, values: 0 });
    expect(await logged(t, 'pii.erase')).toHaveLength(1);
  });

  it('a whole erasure whose event failed is logged by the next sweep, before the person comes back and is erased again', async () => {
    let now = Date.UTC(2026, 2, 1);
    t = await startTestServer({ piiRetentionDays: 90, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    const dir = t.dataDir;
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'mia', value: 'mia.old@example.org' } } }))).status).toBe(201);
    now += 91 * DAY; // all of mia's values are past retention: a whole-subject erasure
    const restore = failAppends(t, 'pii.erase');
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).status).toBe(500);
    restore();
    expect(await logged(t, 'pii.erase')).toHaveLength(0);
    // The next sweep logs it, though it has nothing left to erase. Before, only a start-up read
    // the tombstone that held the event.
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.pii).toMatchObject({ subjects: 0, values: 0 });
    expect((await logged(t, 'pii.erase')).map((e) => e.reasoning.summary)).toEqual(['retention period ended']);
    // Failed again, then the person comes back and is erased on request: that erasure
    // replaces the tombstone, and the event the first one held is still logged (from the outbox).
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { pii: { email: { subject: 'lio', value: 'lio.old@example.org' } } }))).status).toBe(201);
    now += 91 * DAY;
    const again = failAppends(t, 'pii.erase');
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).status).toBe(500);
    again();
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3, { pii: { email: { subject: 'lio', value: 'lio.new@example.org' } } }))).status).toBe(201);
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    const erased = await fetch(`${t.url}/v1/subjects/lio?reason=DSR-7`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } });
    expect(erased.status).toBe(200);
    await t.close({ keepData: true });
    t = await startTestServer({ piiRetentionDays: 90, retentionSweepSeconds: 0 }, dir, { now: () => now });
    expect((await logged(t, 'pii.erase')).map((e) => e.reasoning.summary).sort()).toEqual(['DSR-7', 'retention period ended', 'retention period ended']);
  });

  it('a requested erasure whose event failed is logged by the next subject access, once', async () => {
    t = await startTestServer({});
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'ada', value: 'ada@example.org' } } }))).status).toBe(201);
    const restore = failAppends(t, 'pii.erase');
    const failed = await fetch(`${t.url}/v1/subjects/ada?reason=DSR-9`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } });
    expect(failed.status).toBe(500);
    restore();
    expect(await logged(t, 'pii.erase')).toHaveLength(0);
    // Subject access to the erased subject answers with the erasure receipt: its event is logged then.
    const view = await get(`${t.url}/v1/subjects/ada?purpose=check`, privacy);
    expect(view.status).toBe(200);
    expect(view.json.erased).toBe(true);
    const events = await logged(t, 'pii.erase');
    expect(events.map((e) => e.reasoning.summary)).toEqual(['DSR-9']);
    expect(view.json.erasure_receipt.index).toBeGreaterThan(0);
    // Out of the outbox: a repeated request and a hold change log nothing more.
    const again = await fetch(`${t.url}/v1/subjects/ada?reason=DSR-9`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } });
    expect(((await again.json()) as { receipt: { index: number } }).receipt.index).toBe(view.json.erasure_receipt.index);
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { run_id: 'run-2' }))).status).toBe(201);
    expect((await post(`${t.url}/v1/runs/run-2/hold`, privacy, { reason: 'case 5' })).status).toBe(201);
    expect(await logged(t, 'pii.erase')).toHaveLength(1);
  });

  it('a hold whose event failed is logged by the retried request', async () => {
    t = await startTestServer({});
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { run_id: 'run-9', pii: { email: { subject: 'noa', value: 'noa@example.org' } } }))).status).toBe(201);
    const restore = failAppends(t, 'hold.set');
    expect((await post(`${t.url}/v1/subjects/noa/hold`, privacy, { reason: 'case 4' })).status).toBe(500);
    // The next change logs what is pending first: while that fails, it is refused and changes nothing.
    expect((await post(`${t.url}/v1/runs/run-9/hold`, privacy, { reason: 'case 4' })).status).toBe(500);
    restore();
    expect(await logged(t, 'hold.set')).toHaveLength(0);
    // The retry finds the hold in force (changed: false) and its event logged first.
    const again = await post(`${t.url}/v1/subjects/noa/hold`, privacy, { reason: 'case 4' });
    expect(again.status).toBe(200);
    expect(again.json.changed).toBe(false);
    expect((await logged(t, 'hold.set')).map((e) => e.target.resource)).toEqual([again.json.pseudonym]);
    const run = await post(`${t.url}/v1/runs/run-9/hold`, privacy, { reason: 'case 4' });
    expect(run.status).toBe(201);
    expect((await logged(t, 'hold.set')).map((e) => e.target.resource)).toEqual([again.json.pseudonym, 'run:run-9']);
    // Lifting logs hold.clear with its receipt as before.
    const lift = await fetch(`${t.url}/v1/subjects/noa/hold`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } });
    expect(lift.status).toBe(200);
    expect((await lift.json()).receipt).toBeDefined();
    expect(await logged(t, 'hold.clear')).toHaveLength(1);
  });
});
