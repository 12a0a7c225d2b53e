/**
 * Every read that shows stored records marks erased references exactly as
 * GET /v1/entries does: `{"$pii","subject","commitment","erased":true,
 * "erased_at"}`, byte for byte, whether the subject was erased on request
 * (`z` mark) or one value by retention (`y` mark); references of subjects
 * that were not erased stay bare. Real server, injected clock.
 */

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { CSV_COLUMNS } from '../../src/query/csv.js';
import { decodeLeaf } from '../../src/verifier/index.js';
import { del, get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const DAY = 86_400_000;
const ERASED = 'erase-me@example.org';

type Ref = { $pii: string; subject: string; commitment: string };
const bare = (r: Ref) => JSON.stringify({ $pii: r.$pii, subject: r.subject, commitment: r.commitment });
const marked = (r: Ref, at: number) => JSON.stringify({ $pii: r.$pii, subject: r.subject, commitment: r.commitment, erased: true, erased_at: new Date(at).toISOString() });

describe('erased references on every read', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 5, 9, 0, 0);
  let privacy: string;
  /** Index of each event by name, and its references (from its leaf). */
  const at: Record<string, number> = {};
  const refs: Record<string, any> = {};
  let sweptAt: number;
  let erasedAt: number;
  /** The references that must read as erased (with their time) and those that must stay bare. */
  let erasedRefs: [Ref, number][];
  let bareRefs: Ref[];

  const append = async (name: string, event: Record<string, unknown>) => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, event);
    expect(r.status).toBe(201);
    at[name] = r.json.index;
    const entry = await get(`${t.url}/v1/entries/${r.json.index}`, t.auditorToken);
    refs[name] = (decodeLeaf(fromBase64(entry.json.leaf)!).event as any);
  };

  beforeAll(async () => {
    // actor.on_behalf_of is a configured path: its value is its own subject, and a CSV column shows it.
    t = await startTestServer({ piiPaths: 'actor.on_behalf_of', piiRetentionDays: 90, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    const ev = (i: number, extra: Record<string, unknown>) => sampleEvent(i, { run_id: 'run-pii', ...extra });
    // An old value of a subject that keeps a younger one: retention erases the old value alone.
    await append('old', ev(1, { actor: { type: 'agent', id: 'bot', on_behalf_of: 'expired-operator' }, pii: { email: { subject: 'partly-expired', value: 'old.value@example.org' } } }));
    now += 60 * DAY;
    await append('mixed', ev(2, { actor: { type: 'agent', id: 'bot', on_behalf_of: ERASED }, pii: { email: { subject: ERASED, value: 'erase.me.8841@example.org' }, note: { subject: 'keep-me', value: 'kept' } } }));
    await append('kept', ev(3, { pii: { email: { subject: 'keep-me', value: 'keep.me@example.org' } } }));
    await append('young', ev(4, { pii: { email: { subject: 'partly-expired', value: 'young.value@example.org' } } }));
    await append('plain', ev(5, {}));

    now += 31 * DAY; // 'old' is 91 days old, the rest 31
    sweptAt = now;
    const sweep = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect(sweep.json.pii).toMatchObject({ subjects: 2, values: 2 }); // partly-expired's old value, expired-operator's only one
    now += 3_600_000;
    erasedAt = now;
    expect((await del(`${t.url}/v1/subjects/${encodeURIComponent(ERASED)}?reason=DSR-7`, privacy)).status).toBe(200);
    now += 1000;

    erasedRefs = [
      [refs.old.pii.email, sweptAt],
      [refs.old.actor.on_behalf_of, sweptAt],
      [refs.mixed.pii.email, erasedAt],
      [refs.mixed.actor.on_behalf_of, erasedAt],
    ];
    bareRefs = [refs.mixed.pii.note, refs.kept.pii.email, refs.kept.actor.on_behalf_of, refs.young.pii.email];
  }, 60_000);
  afterAll(() => t.close());

  /** The text holds every erased reference marked (and never bare) and every other one bare. */
  const expectMarks = (text: string) => {
    for (const [r, time] of erasedRefs) {
      expect(text).toContain(marked(r, time));
      expect(text).not.toContain(bare(r));
    }
    for (const r of bareRefs) expect(text).toContain(bare(r));
    expect(text.split('"erased":true').length - 1).toBe(erasedRefs.length);
  };

  /** Each record equals the one GET /v1/entries answers for its index. */
  const expectSameAsEntries = async (hits: { index: number; record: unknown }[]) => {
    expect(hits.length).toBeGreaterThanOrEqual(5);
    for (const h of hits) expect(h.record).toEqual((await get(`${t.url}/v1/entries/${h.index}`, t.auditorToken)).json.record);
  };

  it('GET /v1/entries marks them (the reference form the others must match)', async () => {
    const texts = await Promise.all(Object.values(at).map(async (i) => new TextDecoder().decode((await get(`${t.url}/v1/entries/${i}`, t.auditorToken)).body)));
    expectMarks(texts.join('\n'));
  });

  it('GET /v1/events marks them, with index-exact filters and with filters checked on the leaves', async () => {
    for (const q of ['run_id=run-pii', 'risk_min=0', 'from=2026-01-01']) {
      const r = await get(`${t.url}/v1/events?${q}&limit=1000`, t.auditorToken);
      expect(r.status, q).toBe(200);
      expectMarks(new TextDecoder().decode(r.body));
      await expectSameAsEntries(r.json.events);
    }
  });

  it('GET /v1/runs/<run_id> marks them in the timeline', async () => {
    const r = await get(`${t.url}/v1/runs/run-pii`, t.auditorToken);
    expect(r.status).toBe(200);
    expectMarks(new TextDecoder().decode(r.body));
    await expectSameAsEntries(r.json.events);
  });

  it('GET /v1/export NDJSON marks them (also with proofs)', async () => {
    for (const q of ['format=ndjson', 'format=ndjson&proofs=true', 'format=ndjson&risk_min=0']) {
      const r = await get(`${t.url}/v1/export?${q}`, t.auditorToken);
      expect(r.status, q).toBe(200);
      const text = new TextDecoder().decode(r.body);
      expectMarks(text);
      await expectSameAsEntries(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .filter((l) => l.record.event.run_id === 'run-pii'),
      );
    }
  });

  it('GET /v1/export CSV marks them in the cells that hold references (JSON text)', async () => {
    const r = await get(`${t.url}/v1/export?format=csv`, t.auditorToken);
    const rows: string[][] = parse(new TextDecoder().decode(r.body), { record_delimiter: '\r\n' });
    const col = (name: string) => CSV_COLUMNS.findIndex(([n]) => n === name);
    const byIndex = new Map(rows.slice(1).map((row) => [Number(row[0]), row]));
    expect(byIndex.get(at.mixed!)![col('actor_on_behalf_of')]).toBe(marked(refs.mixed.actor.on_behalf_of, erasedAt));
    expect(JSON.parse(byIndex.get(at.mixed!)![col('pii')]!)).toEqual((await get(`${t.url}/v1/entries/${at.mixed}`, t.auditorToken)).json.record.event.pii);
    expect(byIndex.get(at.kept!)![col('actor_on_behalf_of')]).toBe(bare(refs.kept.actor.on_behalf_of));
    expectMarks(rows.slice(1).map((row) => `${row[col('actor_on_behalf_of')]}\n${row[col('pii')]}`).join('\n'));
  });

  it('the summary report shows no references at all', async () => {
    const r = await get(`${t.url}/v1/reports/summary`, t.auditorToken);
    expect(r.status).toBe(200);
    expect(new TextDecoder().decode(r.body)).not.toContain('$pii');
  });
});

describe('one page, one erasure state', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({});
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(i, { run_id: 'run-big', pii: { email: { subject: `s-${i % 10}`, value: `s${i % 10}@example.org` } } }));
    expect((await post(`${t.url}/v1/events/batch`, t.agentToken, { events })).status).toBe(200);
  });
  afterAll(() => t.close());

  it('a page of many chunks reads erasure state once, so an erasure cannot land between its parts', async () => {
    const vault = t.server.vault as unknown as { erasedTimes: (...a: unknown[]) => Promise<unknown> };
    const original = vault.erasedTimes.bind(vault);
    let calls = 0;
    vault.erasedTimes = (...a: unknown[]) => {
      calls++;
      return original(...a);
    };
    try {
      const r = await get(`${t.url}/v1/events?run_id=run-big&limit=1000`, t.auditorToken);
      expect(r.json.events).toHaveLength(300);
      // Searched in chunks of at most 256 (before, one vault read per chunk).
      expect(calls).toBe(1);
    } finally {
      vault.erasedTimes = original;
    }
  });

  it('an export whose first read fails answers a JSON error, not an attachment', async () => {
    const vault = t.server.vault as unknown as { erasedTimes: (...a: unknown[]) => Promise<unknown> };
    const original = vault.erasedTimes;
    vault.erasedTimes = () => Promise.reject(new Error('vault unreadable'));
    try {
      const r = await fetch(`${t.url}/v1/export`, { headers: { authorization: `Bearer ${t.auditorToken}` } });
      expect(r.status).toBe(500);
      expect(r.headers.get('content-disposition')).toBeNull();
      expect((await r.json()).error.code).toBe('INTERNAL');
    } finally {
      vault.erasedTimes = original;
    }
  });
});
