/**
 * The personal-data routes at their edges: subject access after an entry
 * was pruned, erasure evidence outliving operational retention, blank
 * purposes and reasons, and subject ids that a configured path may store.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { del, get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const DAY = 86_400_000;

describe('subject access and erasure past entry retention', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  let privacy: string;
  let vkey: string;

  beforeAll(async () => {
    // Operational events by default: the strictest case for erasure evidence.
    t = await startTestServer({ retentionOperationalDays: 30, retentionDefault: 'operational', retentionSweepSeconds: 0 }, undefined, { now: () => now });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
  });
  afterAll(() => t.close());

  it('answers subject access for values whose entry was pruned, with the entry from the hash tiles', async () => {
    const a = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'carol', value: 'carol@example.org' } } }));
    expect(a.status).toBe(201);
    now += 31 * DAY;
    const pruned = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect(pruned.json.entries.pruned).toBeGreaterThan(0);
    expect((await get(`${t.url}/v1/entries/${a.json.index}`, t.auditorToken)).status).toBe(410);

    const r = await get(`${t.url}/v1/subjects/carol?purpose=DSR-7`, privacy);
    expect(r.status).toBe(200);
    expect(r.json.values).toHaveLength(1);
    expect(r.json.values[0]).toMatchObject({ value: 'carol@example.org', index: a.json.index, leaf_hash: a.json.leaf_hash });
  });

  it('keeps erasure evidence (system events are compliance-class): a repeated erasure after a prune still answers', async () => {
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { pii: { email: { subject: 'hank', value: 'hank@example.org' } } }));
    const first = await del(`${t.url}/v1/subjects/hank?reason=DSR-8`, privacy);
    expect(first.status).toBe(200);
    const erasure = verifyReceipt(first.json.receipt.tlog_proof, vkey).record.event as any;
    expect(erasure.action.type).toBe('pii.erase');
    expect(erasure.retention).toBe('compliance');

    now += 31 * DAY;
    await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect((await get(`${t.url}/v1/entries/${first.json.receipt.index}`, t.auditorToken)).status).toBe(200);
    const again = await del(`${t.url}/v1/subjects/hank?reason=DSR-8`, privacy);
    expect(again.status).toBe(200);
    expect(again.json.repeated).toBe(true);
    expect(again.json.receipt.index).toBe(first.json.receipt.index);
    expect((await get(`${t.url}/v1/subjects/hank?purpose=check`, privacy)).json.erased).toBe(true);
  });
});

describe('erasure evidence under a short compliance retention', () => {
  it('never prunes an erasure entry, so a repeated erasure and access keep answering with its receipt', async () => {
    let now = Date.UTC(2026, 0, 1);
    const t = await startTestServer({ retentionOperationalDays: 30, retentionComplianceDays: 60, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    try {
      const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
      await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'ivy', value: 'ivy@example.org' } } }));
      const first = await del(`${t.url}/v1/subjects/ivy?reason=DSR-10`, privacy);
      expect(first.status).toBe(200);
      now += 61 * DAY;
      const run = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
      expect(run.json.entries.pruned).toBeGreaterThan(0); // the event about ivy, the key events, …
      expect((await get(`${t.url}/v1/entries/${first.json.receipt.index}`, t.auditorToken)).status).toBe(200);
      const again = await del(`${t.url}/v1/subjects/ivy?reason=DSR-10`, privacy);
      expect(again.status).toBe(200);
      expect(again.json.receipt.index).toBe(first.json.receipt.index);
      const access = await get(`${t.url}/v1/subjects/ivy?purpose=check`, privacy);
      expect(access.json.erasure_receipt.index).toBe(first.json.receipt.index);
    } finally {
      await t.close();
    }
  });
});

describe('personal-data parameters and subject ids', () => {
  let t: TestServer;
  let privacy: string;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'target.email,metadata.customer.phone@metadata.customer.id' });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'dora', value: 'dora@example.org' } } }));
  });
  afterAll(() => t.close());

  it('treats a blank purpose or reason as missing', async () => {
    for (const q of ['purpose=%20%20', 'purpose=+', 'purpose=%09']) {
      const r = await get(`${t.url}/v1/subjects/dora?${q}`, privacy);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe('MISSING_PARAMETER');
    }
    const e = await del(`${t.url}/v1/subjects/dora?reason=+`, privacy);
    expect(e.status).toBe(400);
    expect(e.json.error.code).toBe('MISSING_PARAMETER');
    expect((await get(`${t.url}/v1/subjects/dora?purpose=DSR-9`, privacy)).status).toBe(200);
  });

  it('refuses a purpose or reason given twice, and says so', async () => {
    const r = await get(`${t.url}/v1/subjects/dora?purpose=a&purpose=b`, privacy);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'INVALID_PARAMETER', message: 'purpose must be given once' });
    const e = await del(`${t.url}/v1/subjects/dora?reason=a&reason=b`, privacy);
    expect(e.json.error).toMatchObject({ code: 'INVALID_PARAMETER', message: 'reason must be given once' });
  });

  it("a hold body's reason of the wrong type is a schema violation", async () => {
    const r = await post(`${t.url}/v1/subjects/dora/hold`, privacy, { reason: 123 });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
    expect(r.json.error.issues[0].path).toBe('reason');
  });

  it('files a configured path under a subject id the routes can name: trimmed, and refused with control or format characters inside', async () => {
    const base = sampleEvent(2);
    const bad = [
      { ...base, target: { ...(base.target as object), email: 'gi\u200bna@x.org' } }, // the value is its own subject
      { ...base, target: { ...(base.target as object), email: 'gina\n@x.org' } },
      { ...base, metadata: { customer: { id: 'cust\u0007', phone: '+1 555 0100' } } },
    ];
    for (const body of bad) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body);
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
      expect(JSON.stringify(r.json)).not.toContain('gina');
    }
    // Surrounding whitespace is trimmed from the subject id (the value is kept as sent).
    for (const email of ['gina@x.org ', '\tgina@x.org', 'gina@x.org']) {
      const ok = await post(`${t.url}/v1/events`, t.agentToken, { ...base, target: { ...(base.target as object), email } });
      expect(ok.status).toBe(201);
    }
    const access = await get(`${t.url}/v1/subjects/${encodeURIComponent('gina@x.org')}?purpose=check`, privacy);
    expect(access.status).toBe(200);
    expect(access.json.values.map((v: any) => v.value).sort()).toEqual(['\tgina@x.org', 'gina@x.org', 'gina@x.org ']);
  });

  it("reports a personal value's problems at the value, never at a key inside it (keys can be personal data)", async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = [deep];
    const base = sampleEvent(3);
    const nested = await post(`${t.url}/v1/events`, t.agentToken, { ...base, metadata: { customer: { id: 'c-1', phone: { 'ivy@example.org': deep } } } });
    expect(nested.status).toBe(413);
    expect(nested.json.error.code).toBe('NESTING_TOO_DEEP');
    expect(nested.json.error.path).toBe('metadata.customer.phone');
    const bodies = [
      { ...base, metadata: { customer: { id: 'c-1', phone: { ['ivy@example.org'.repeat(20)]: 1 } } } }, // a key too long
      { ...base, metadata: { customer: { id: 'c-1', phone: { 'ivy@example.org': { $pii: 'x' } } } } }, // a reserved key
      sampleEvent(4, { pii: { c: { subject: 's', value: { 'ivy@example.org': { $pii: 'x' } } } } }),
      sampleEvent(5, { pii: { c: { subject: 's', value: { 'ivy@example.org': { ['ivy\ud800']: 1 } } } } }), // an unpaired surrogate in a key
    ];
    for (const body of bodies) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body);
      expect(r.status).toBe(422);
      expect(r.json.error.issues[0].path).toMatch(/^(metadata\.customer\.phone|pii\.c\.value)$/);
      expect(JSON.stringify(r.json)).not.toContain('ivy');
    }
    let deeper: unknown = 'x';
    for (let i = 0; i < 40; i++) deeper = { 'ivy@example.org': deeper };
    const tooDeep = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(6, { pii: { c: { subject: 's', value: deeper } } }));
    expect(tooDeep.status).toBe(413);
    expect(tooDeep.json.error.path).toBe('pii.c.value');
    expect(JSON.stringify(tooDeep.json)).not.toContain('ivy');
  });

  it('refuses an event where a configured path meets an array or a string before its end, instead of leaving the value in the leaf', async () => {
    const base = sampleEvent(7);
    const blocked = [
      { ...base, metadata: { customer: [{ id: 'jay-1', phone: '+1-555-0142' }] } },
      { ...base, metadata: { customer: 'jay-1 +1-555-0142' } },
      { ...base, metadata: { customer: 42 } },
      { ...base, metadata: ['jay-1'] },
    ];
    for (const body of blocked) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body);
      expect(r.status, JSON.stringify(body.metadata)).toBe(422);
      expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
      expect(r.json.error.issues[0].path).toMatch(/^metadata(\.customer)?$/);
      expect(r.json.error.message).toContain('personal-data path metadata.customer');
      expect(JSON.stringify(r.json)).not.toMatch(/jay|555/);
    }
    // Absent or null on the way still reads as absent.
    for (const metadata of [{ customer: null }, { other: 1 }]) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, { ...base, metadata });
      expect(r.status, JSON.stringify(metadata)).toBe(201);
    }
  });
});

describe('references only the server places', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'target.email' });
  });
  afterAll(() => t.close());

  it('refuses a client event holding a $pii key anywhere (it would pass for personal data of someone)', async () => {
    const forged = { $pii: 'pii_AAAAAAAAAAAAAAAAAAAAAA', subject: 'ps_AAAAAAAAAAAAAAAAAAAAAA', commitment: 'plaintext: bob@example.org' };
    const bodies = [
      sampleEvent(1, { metadata: { customer: forged } }),
      sampleEvent(2, { metadata: { list: [{ nested: forged }] } }),
      sampleEvent(3, { pii: { email: { subject: 'bob', value: forged } } }),
      { ...sampleEvent(4), target: { system: 'crm', email: forged } },
    ];
    for (const body of bodies) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body);
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
      expect(r.json.error.message).toContain('"$pii" is reserved');
    }
    const batch = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: [sampleEvent(5), sampleEvent(6, { metadata: { x: forged } })] });
    expect(batch.json.results[0].status).toBe(201);
    expect(batch.json.results[1].error.code).toBe('SCHEMA_VIOLATION');
    // The server's own references still round-trip: an event with personal data is stored with them.
    const ok = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(7, { pii: { email: { subject: 'bob', value: 'bob@example.org' } } }));
    expect(ok.status).toBe(201);
    const stored = await get(`${t.url}/v1/entries/${ok.json.index}`, t.auditorToken);
    expect(stored.json.record.event.pii.email.$pii).toMatch(/^pii_/);
  });

  it("refuses a client event that claims the server's identity (a forged pii.erase or hold.set would read as the server's evidence)", async () => {
    const forged = [
      { body: { ...sampleEvent(11), actor: { type: 'system', id: 'agent-tlog' }, action: { type: 'pii.erase' } }, path: 'actor.id' },
      { body: { ...sampleEvent(12), action: { type: 'pii.erase', tool: 'agent-tlog' } }, path: 'action.tool' },
      { body: { ...sampleEvent(13), action: { type: 'hold.set' }, target: { system: 'agent-tlog', resource: 'ps_AAAAAAAAAAAAAAAAAAAAAA' } }, path: 'target.system' },
    ];
    for (const { body, path } of forged) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body);
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
      expect(r.json.error.issues).toEqual([{ path, message: '"agent-tlog" is reserved for the server\'s own events' }]);
    }
    const batch = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: [sampleEvent(14), forged[1]!.body] });
    expect(batch.json.results[0].status).toBe(201);
    expect(batch.json.results[1].error.code).toBe('SCHEMA_VIOLATION');
    // A system actor of the client's own (a cron job, a pipeline) is fine.
    const own = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(15), actor: { type: 'system', id: 'nightly-reconcile' } });
    expect(own.status).toBe(201);
  });
});

describe('secrets found inside a personal value', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'metadata.contacts@metadata.customer_id' });
  });
  afterAll(() => t.close());

  it("are reported at the value's own path: its inner keys can be personal data, and the leaf keeps `scrubbed`", async () => {
    const email = 'jane.q7Xw@example.org';
    const other = 'omar.k2Vn@example.org';
    const gh = `ghp_${'aB3dE5gH7jK9'.repeat(3)}`;
    const r = await post(`${t.url}/v1/events`, t.agentToken, {
      ...sampleEvent(1),
      pii: { logins: { subject: 'jane', value: { [email]: { password: 'hunter2hunter2' } } } },
      metadata: { customer_id: 'omar', contacts: { [other]: gh } },
    });
    expect(r.status).toBe(201);
    const entry = await get(`${t.url}/v1/entries/${r.json.index}`, t.auditorToken);
    const text = JSON.stringify(entry.json);
    expect(text).not.toContain(email);
    expect(text).not.toContain(other);
    expect(entry.json.record.event.scrubbed).toEqual([
      { path: 'metadata.contacts', kind: 'github_token' },
      { path: 'pii.logins.value', kind: 'password' },
    ]);
  });
});

describe('a subject path inside the moved value', () => {
  let t: TestServer;
  let privacy: string;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'metadata.customer@metadata.customer.id' });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
  });
  afterAll(() => t.close());

  it('moves the whole value once: the leaf holds one plain reference, and access and erasure find it under the id inside', async () => {
    const customer = { id: 'cust-81', email: 'ivy.r4Qp@example.org', tier: 'gold' };
    const r = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(1), metadata: { customer, channel: 'web' } });
    expect(r.status).toBe(201);
    const entry = await get(`${t.url}/v1/entries/${r.json.index}`, t.auditorToken);
    const ref = entry.json.record.event.metadata.customer;
    // Before, the id was moved again and its reference written into this one (a fourth key).
    expect(Object.keys(ref).sort()).toEqual(['$pii', 'commitment', 'subject']);
    expect(entry.json.record.event.metadata.channel).toBe('web');
    expect(JSON.stringify(entry.json)).not.toContain('cust-81');
    const access = await get(`${t.url}/v1/subjects/cust-81?purpose=DSR-12`, privacy);
    expect(access.json.values.map((v: { path: string; value: unknown }) => [v.path, v.value])).toEqual([['metadata.customer', customer]]);
    const erased = await del(`${t.url}/v1/subjects/cust-81?reason=DSR-12`, privacy);
    expect(erased.json.values_erased).toBe(1);
    const after = await get(`${t.url}/v1/entries/${r.json.index}`, t.auditorToken);
    expect(after.json.record.event.metadata.customer).toMatchObject({ ...ref, erased: true });
  });
});
