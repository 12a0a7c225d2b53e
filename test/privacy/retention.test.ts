/** Retention: expired personal values are erased through the erasure path, held subjects are skipped (injected clock). */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { byteSearch } from './helpers.js';

const DAY = 86_400_000;

describe('retention sweep', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 10, 1);
  let privacy: string;
  let vkey: string;
  const logged: Record<string, any> = {};

  beforeAll(async () => {
    t = await startTestServer({ piiRetentionDays: 90, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const put = async (subject: string, value: string) => {
      const r = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject, value } } }));
      expect(r.status).toBe(201);
      logged[subject] = r.json;
    };
    await put('old-subject', 'old.value.4471@example.org');
    await put('held-subject', 'held.value.9913@example.org');
    now += 60 * DAY;
    await put('young-subject', 'young.value.2208@example.org');
    expect((await post(`${t.url}/v1/subjects/held-subject/hold`, privacy, {})).status).toBe(201);
  });
  afterAll(() => t.close());

  it('a dry run counts and changes nothing', async () => {
    now += 31 * DAY; // old and held are 91 days old; young is 31
    const r = await post(`${t.url}/v1/retention/run`, t.adminToken, '');
    expect(r.status).toBe(200);
    expect(r.json.dry_run).toBe(true);
    expect(r.json.pii).toMatchObject({ subjects: 1, values: 1, held: 1 });
    const old = await get(`${t.url}/v1/subjects/old-subject?purpose=check`, privacy);
    expect(old.json.values).toHaveLength(1);
    const held = await get(`${t.url}/v1/subjects/held-subject?purpose=check`, privacy);
    // What it would erase and what it skips, by pseudonym: never a subject id.
    expect(r.json.pii.details).toHaveLength(2);
    expect(r.json.pii.details).toEqual(
      expect.arrayContaining([
        { tenant: 'acme', pseudonym: old.json.pseudonym, values: 1 },
        { tenant: 'acme', pseudonym: held.json.pseudonym, values: 1, held: true },
      ]),
    );
    expect(JSON.stringify(r.json)).not.toMatch(/old-subject|held-subject|@example\.org/);
  });

  it('applied, it erases the expired subject through the logged erasure path and skips the held one', async () => {
    const r = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect(r.json.dry_run).toBe(false);
    expect(r.json.pii).toEqual({ subjects: 1, values: 1, held: 1 });

    const old = await get(`${t.url}/v1/subjects/old-subject?purpose=check`, privacy);
    expect(old.json.erased).toBe(true);
    const ev = verifyReceipt(old.json.erasure_receipt.tlog_proof, vkey).record.event as any;
    expect(ev.action.type).toBe('pii.erase');
    expect(ev.reasoning.summary).toBe('retention period ended');
    expect(ev.actor.id).toBe('agent-tlog');
    expect(await byteSearch(t.dataDir, { v: 'old.value.4471@example.org', s: 'old-subject' })).toEqual([]);

    expect((await get(`${t.url}/v1/subjects/held-subject?purpose=check`, privacy)).json.values).toHaveLength(1);
    expect((await get(`${t.url}/v1/subjects/young-subject?purpose=check`, privacy)).json.values).toHaveLength(1);
    // The old receipt still verifies; the entry now reads as erased.
    expect(verifyReceipt(logged['old-subject'].tlog_proof, vkey).index).toBe(logged['old-subject'].index);
    const entry = await get(`${t.url}/v1/entries/${logged['old-subject'].index}`, t.auditorToken);
    expect(entry.json.record.event.pii.email.erased).toBe(true);
  });

  it('once the hold is lifted the next sweep erases the held subject too', async () => {
    expect((await fetch(`${t.url}/v1/subjects/held-subject/hold`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } })).status).toBe(200);
    const r = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect(r.json.pii).toEqual({ subjects: 1, values: 1, held: 0 });
    expect((await get(`${t.url}/v1/subjects/held-subject?purpose=check`, privacy)).json.erased).toBe(true);
  });

  it('only admin may run it, and apply must be true or false', async () => {
    expect((await post(`${t.url}/v1/retention/run`, privacy, '')).status).toBe(403);
    expect((await post(`${t.url}/v1/retention/run?apply=yes`, t.adminToken, '')).json.error.code).toBe('INVALID_PARAMETER');
  });
});
