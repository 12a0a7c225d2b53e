/**
 * Personal data end to end on a real server: values go to the vault, the
 * leaf holds only references, subject access is logged, erasure leaves no
 * byte behind and every proof still verifies.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { decodeLeaf, verifyReceipt } from '../../src/verifier/index.js';
import { piiCommitment } from '../../src/events/pii.js';
import { nodeSha256 } from '../../src/server.js';
import { del, get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { byteSearch } from './helpers.js';
import { decodeSubject } from '../../src/vault/records.js';
import { decodeValueRecord } from '../../src/vault/value-record.js';

const EMAIL = 'zelda.quux-7f3a9@example.org';
const SUBJECT = 'customer-8c1d4e2b';
const PHONE = '+44 20 7946 0958-x77';

describe('personal data in the vault', () => {
  let t: TestServer;
  let privacy: string;
  let vkey: string;
  let first: any;
  let firstLeaf: Uint8Array;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'metadata.customer.phone@metadata.customer.id,target.email' });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const r = await post(
      `${t.url}/v1/events`,
      t.agentToken,
      sampleEvent(1, { pii: { email: { subject: SUBJECT, value: EMAIL } }, metadata: { customer: { id: SUBJECT, phone: PHONE, tier: 'gold' } } }),
    );
    expect(r.status).toBe(201);
    first = r.json;
    firstLeaf = fromBase64(first.tlog_proof.split('\n')[1].slice('extra '.length))!;
  });
  afterAll(() => t.close());

  it('the leaf holds references, not the value or the subject id', () => {
    const text = new TextDecoder('latin1').decode(firstLeaf);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(PHONE);
    const ev = decodeLeaf(firstLeaf).event as any;
    for (const ref of [ev.pii.email, ev.metadata.customer.phone]) {
      expect(ref.$pii).toMatch(/^pii_[A-Za-z0-9_-]{22}$/);
      expect(ref.subject).toMatch(/^ps_[A-Za-z0-9_-]{22}$/);
      expect(fromBase64(ref.commitment)!.length).toBe(32);
    }
    // One subject, one pseudonym, wherever it appears; the pointers differ.
    expect(ev.pii.email.subject).toBe(ev.metadata.customer.phone.subject);
    expect(ev.pii.email.$pii).not.toBe(ev.metadata.customer.phone.$pii);
    // The subject path names the person, so it is moved too; other fields stay.
    expect(ev.metadata.customer.id.subject).toBe(ev.pii.email.subject);
    expect(new TextDecoder('latin1').decode(firstLeaf)).not.toContain(SUBJECT);
    expect(ev.metadata.customer.tier).toBe('gold');
    expect(verifyReceipt(first.tlog_proof, vkey).index).toBe(first.index);
  });

  it('a configured path may name a field the schema does not know (target.email)', async () => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3, { target: { system: 'crm', email: 'grace.h-3310@example.org' } }));
    expect(r.status).toBe(201);
    const leaf = fromBase64(r.json.tlog_proof.split('\n')[1].slice('extra '.length))!;
    const ev = decodeLeaf(leaf).event as any;
    expect(ev.target.system).toBe('crm');
    expect(ev.target.email.$pii).toMatch(/^pii_/);
    expect(new TextDecoder('latin1').decode(leaf)).not.toContain('grace.h-3310');
    const view = await get(`${t.url}/v1/subjects/${encodeURIComponent('grace.h-3310@example.org')}?purpose=check`, privacy);
    expect(view.json.values[0]).toMatchObject({ name: 'target.email', path: 'target.email', value: 'grace.h-3310@example.org' });
    // Without the configuration the field is unknown to the schema.
    const bad = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3, { target: { system: 'crm', mail: 'x@example.org' } }));
    expect(bad.status).toBe(422);
  });

  it('a numeric subject id is taken only as a safe integer: a larger one, rounded by JSON, is refused without echoing it', async () => {
    // Raw JSON: the ids must reach the server as numbers, as a Snowflake-style API sends them.
    const body = (id: string, phone: string) =>
      JSON.stringify(sampleEvent(4)).replace(/}$/, `,"metadata":{"customer":{"id":${id},"phone":"${phone}"}}}`);
    const ok = await post(`${t.url}/v1/events`, t.agentToken, body('90071992547409', '+1 555 0100 4411'));
    expect(ok.status).toBe(201);
    const view = await get(`${t.url}/v1/subjects/90071992547409?purpose=check`, privacy);
    expect(view.json.values.map((v: any) => v.value)).toContain('+1 555 0100 4411');
    // Two people whose ids differ only past 2^53 would both be filed under one rounded id,
    // and neither's own id would reach their data: refused, and the answer names the path only.
    for (const id of ['1234567890123456789', '1234567890123456790', '12.5']) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, body(id, '+1 555 0100 4412'));
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('SCHEMA_VIOLATION');
      expect(r.json.error.message).toContain('send it as a string');
      expect(JSON.stringify(r.json)).not.toMatch(/12345678901234|12\.5|0100 4412/);
    }
    expect((await get(`${t.url}/v1/subjects/1234567890123456800?purpose=check`, privacy)).status).toBe(404);
  });

  it('a retried event with its event_id returns the original entry and stores no second copy', async () => {
    const ev = sampleEvent(2, { event_id: '0190f1a2-0000-7000-8000-000000000001', pii: { email: { subject: SUBJECT, value: EMAIL } } });
    const a = await post(`${t.url}/v1/events`, t.agentToken, ev);
    const b = await post(`${t.url}/v1/events`, t.agentToken, ev);
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.json.index).toBe(a.json.index);
    const changed = await post(`${t.url}/v1/events`, t.agentToken, { ...ev, pii: { email: { subject: SUBJECT, value: 'other@example.org' } } });
    expect(changed.status).toBe(409);
    const view = await get(`${t.url}/v1/subjects/${SUBJECT}?purpose=dedupe-check`, privacy);
    expect(view.json.values.filter((v: any) => v.event_id === ev.event_id)).toHaveLength(1);
  });

  it('subject access returns the values with salts that open the commitments, and the read is logged', async () => {
    const r = await get(`${t.url}/v1/subjects/${SUBJECT}?purpose=${encodeURIComponent('GDPR art.15 request #4411')}`, privacy);
    expect(r.status).toBe(200);
    const email = r.json.values.find((v: any) => v.event_id === first.event_id && v.name === 'email');
    expect(email.value).toBe(EMAIL);
    expect(email.index).toBe(first.index);
    const leafRef = (decodeLeaf(firstLeaf).event as any).pii.email;
    expect(email.pointer).toBe(leafRef.$pii);
    expect(Buffer.from(piiCommitment(nodeSha256, fromBase64(email.salt)!, email.value)).toString('base64')).toBe(leafRef.commitment);
    const phone = r.json.values.find((v: any) => v.path === 'metadata.customer.phone');
    expect(phone.value).toBe(PHONE);

    // The read itself is an entry: pii.read, with purpose, key and pseudonym — never the subject id.
    const read = verifyReceipt(r.json.read_receipt.tlog_proof, vkey);
    const ev = read.record.event as any;
    expect(ev.action.type).toBe('pii.read');
    expect(ev.target.resource).toBe(r.json.pseudonym);
    expect(ev.reasoning.summary).toBe('GDPR art.15 request #4411');
    expect(ev.actor.id).toMatch(/^key:/);
    expect(JSON.stringify(read.record)).not.toContain(SUBJECT);
  });

  it('purpose is required, the route needs the privacy role, and other tenants see nothing', async () => {
    expect((await get(`${t.url}/v1/subjects/${SUBJECT}`, privacy)).json.error.code).toBe('MISSING_PARAMETER');
    expect((await get(`${t.url}/v1/subjects/${SUBJECT}?purpose=x`, t.auditorToken)).status).toBe(403);
    const other = await makeKey(t.url, t.adminToken, 'privacy', 'globex');
    const r = await get(`${t.url}/v1/subjects/${SUBJECT}?purpose=x`, other);
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.json)).not.toContain(SUBJECT);
    expect((await del(`${t.url}/v1/subjects/${SUBJECT}?reason=x`, other)).status).toBe(404);
  });

  it('entries show references, never values', async () => {
    const r = await get(`${t.url}/v1/entries/${first.index}`, t.auditorToken);
    expect(JSON.stringify(r.json)).not.toContain(EMAIL);
    expect(r.json.record.event.pii.email.erased).toBeUndefined();
  });

  it('a legal hold blocks erasure with 409 until it is lifted; both changes are logged', async () => {
    const h = await post(`${t.url}/v1/subjects/${SUBJECT}/hold`, privacy, { reason: 'litigation 2026-17' });
    expect(h.status).toBe(201);
    expect((verifyReceipt(h.json.receipt.tlog_proof, vkey).record.event as any).action.type).toBe('hold.set');
    const blocked = await del(`${t.url}/v1/subjects/${SUBJECT}?reason=ticket-1`, privacy);
    expect(blocked.status).toBe(409);
    expect(blocked.json.error.code).toBe('LEGAL_HOLD');
    const lift = await del(`${t.url}/v1/subjects/${SUBJECT}/hold`, privacy);
    expect(lift.status).toBe(200);
    expect((verifyReceipt(lift.json.receipt.tlog_proof, vkey).record.event as any).action.type).toBe('hold.clear');
  });

  it('erasure leaves no byte of the value, the subject id or the subject key on disk, and proofs still verify', async () => {
    const key = (await t.server.vault.resolve('acme', [SUBJECT])).get(SUBJECT)!.key;
    const before = await byteSearch(t.dataDir, { key });
    expect(before).toEqual([]); // the raw subject key is never written, only its wrapped form
    // What is on disk for this subject: the wrapped key and the sealed values
    // (binary records, src/vault/records.ts). Each must be gone after erasure too.
    const vaultDb = (t.server.vault as any).db;
    const tag: Uint8Array = t.server.vault.tagOf('acme', SUBJECT);
    const sealed: Record<string, Uint8Array> = {};
    for await (const [k, v] of vaultDb.iterator()) {
      // The subject's 'v' range: its record ('v' ‖ tag) and its value records ('v' ‖ tag ‖ id).
      if (k[0] !== 0x76 || !Buffer.from(k.subarray(1, 1 + tag.length)).equals(Buffer.from(tag))) continue;
      if (k.length === 1 + tag.length) sealed.wrapped_key = decodeSubject(v).wrapped_key;
      else {
        const rec = decodeValueRecord(v, new TextDecoder().decode(k.subarray(1 + tag.length)));
        sealed[`sealed ${rec.event_id}`] = rec.sealed;
      }
    }
    // The wrapped key, and one record per event about the subject (4 values in 2 events).
    expect(Object.keys(sealed).length).toBe(3);
    for (const b of Object.values(sealed)) expect(b.length).toBeGreaterThanOrEqual(60);
    expect((await byteSearch(t.dataDir, sealed)).length).toBeGreaterThan(0);

    const r = await del(`${t.url}/v1/subjects/${SUBJECT}?reason=${encodeURIComponent('DSR-2026-0042')}`, privacy);
    expect(r.status).toBe(200);
    expect(r.json.values_erased).toBe(4);
    const erasure = verifyReceipt(r.json.receipt.tlog_proof, vkey);
    const ev = erasure.record.event as any;
    expect(ev.action.type).toBe('pii.erase');
    expect(ev.target.resource).toBe(r.json.pseudonym);
    expect(ev.reasoning.summary).toBe('DSR-2026-0042');

    expect(await byteSearch(t.dataDir, { EMAIL, PHONE, SUBJECT, key, ...sealed })).toEqual([]);

    // Idempotent: the same receipt entry again.
    const again = await del(`${t.url}/v1/subjects/${SUBJECT}?reason=${encodeURIComponent('DSR-2026-0042')}`, privacy);
    expect(again.status).toBe(200);
    expect(again.json.repeated).toBe(true);
    expect(again.json.receipt.index).toBe(r.json.receipt.index);

    // The pre-erasure receipt and a fresh one still verify; the entry reads as erased.
    expect(verifyReceipt(first.tlog_proof, vkey).index).toBe(first.index);
    const fresh = await get(`${t.url}/v1/events/${first.event_id}/receipt`, t.agentToken);
    expect(verifyReceipt(fresh.json.tlog_proof, vkey).index).toBe(first.index);
    const entry = await get(`${t.url}/v1/entries/${first.index}`, t.auditorToken);
    expect(entry.json.record.event.pii.email.erased).toBe(true);
    expect(Date.parse(entry.json.record.event.pii.email.erased_at)).toBeGreaterThan(0);

    // Subject access now says erased, with the erasure receipt.
    const view = await get(`${t.url}/v1/subjects/${SUBJECT}?purpose=check`, privacy);
    expect(view.json.erased).toBe(true);
    expect(view.json.erasure_receipt.index).toBe(r.json.receipt.index);
  });

  it('after a restart the data folder still holds none of it', async () => {
    const dir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestServer({}, dir);
    expect(await byteSearch(dir, { EMAIL, PHONE, SUBJECT })).toEqual([]);
    expect(verifyReceipt(first.tlog_proof, vkey).index).toBe(first.index);
  });
});
