/** Key lifecycle on a real server: expiry, rotation grace, revocation, last_used_at, and key changes as logged events. */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { sampleEvent } from '../helpers.js';
import { call, makeKey, startSecServer, type SecServer } from './fixtures.js';

const HOUR = 3_600_000;
const sha256b64 = (s: string) => createHash('sha256').update(s).digest('base64');

describe('key lifecycle', () => {
  let s: SecServer;
  let globalAuditor: string;
  beforeAll(async () => {
    s = await startSecServer({ keyRotationGrace: 3600 });
    globalAuditor = (await makeKey(s, { role: 'auditor', tenant: '*' })).token;
  });
  afterAll(() => s?.close());

  const append = async (token: string) => (await call(s.url, 'post', '/v1/events', token, sampleEvent(1))).status;

  it('an old token works during its grace period and fails after it; the new one keeps working', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const rot = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken);
    expect(rot.status).toBe(200);
    expect(rot.json.previous_token_expires_at).toBe(new Date(Date.parse(rot.json.rotated_at) + HOUR).toISOString());
    expect(await append(k.token)).toBe(201);
    expect(await append(rot.json.token)).toBe(201);
    s.clock.advance(HOUR - 60_000);
    expect(await append(k.token)).toBe(201);
    s.clock.advance(2 * 60_000);
    expect(await append(k.token)).toBe(401);
    expect(await append(rot.json.token)).toBe(201);
  });

  it('grace_seconds 0 ends the old token at once; a second rotation ends the first old token', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const r1 = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken, { grace_seconds: 600 });
    const r2 = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken);
    expect(await append(k.token)).toBe(401);
    expect(await append(r1.json.token)).toBe(201);
    expect(await append(r2.json.token)).toBe(201);
    const r3 = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken, { grace_seconds: 0 });
    expect(r3.json.previous_token_expires_at).toBeUndefined();
    expect(await append(r2.json.token)).toBe(401);
    expect(await append(r3.json.token)).toBe(201);
  });

  it('revocation ends the current and the previous token together', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const rot = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken);
    expect((await call(s.url, 'delete', `/v1/keys/${k.id}`, s.adminToken)).status).toBe(200);
    expect(await append(k.token)).toBe(401);
    expect(await append(rot.json.token)).toBe(401);
    expect((await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken)).status).toBe(404);
  });

  it('expires_at ends a key; rotation can extend it; past dates are refused', async () => {
    const soon = new Date(s.clock.now() + HOUR).toISOString();
    const k = await makeKey(s, { role: 'agent', tenant: 'acme', expires_at: soon });
    expect(await append(k.token)).toBe(201);
    const later = new Date(s.clock.now() + 3 * HOUR).toISOString();
    const rot = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken, { expires_at: later, grace_seconds: 0 });
    expect(rot.json.expires_at).toBe(later);
    s.clock.advance(2 * HOUR);
    expect(await append(rot.json.token)).toBe(201);
    s.clock.advance(2 * HOUR);
    expect(await append(rot.json.token)).toBe(401);
    const past = new Date(s.clock.now() - 1000).toISOString();
    expect((await call(s.url, 'post', '/v1/keys', s.adminToken, { role: 'agent', tenant: 'acme', expires_at: past })).json.error.code).toBe('SCHEMA_VIOLATION');
  });

  it('never shows a token or a token hash in listings', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const rot = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken);
    const list = await call(s.url, 'get', '/v1/keys', s.adminToken);
    for (const secret of [k.token, rot.json.token, sha256b64(k.token), sha256b64(rot.json.token), 'token_hash']) expect(list.text).not.toContain(secret);
  });

  it('keeps last_used_at with one storage write per key, not one per request', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const before = (await call(s.url, 'get', '/v1/keys', s.adminToken)).json.keys.find((x: any) => x.id === k.id);
    expect(before.last_used_at).toBeUndefined();
    await s.server.keys.flushUsage();
    const writes = s.server.keys.usageWrites;
    for (let i = 0; i < 25; i++) expect(await append(k.token)).toBe(201);
    const listed = (await call(s.url, 'get', '/v1/keys', s.adminToken)).json.keys.find((x: any) => x.id === k.id);
    expect(Date.parse(listed.last_used_at)).toBeGreaterThan(Date.parse(listed.created_at) - 1);
    await s.server.keys.flushUsage();
    // The admin key listing above was used too: at most these two keys were written.
    expect(s.server.keys.usageWrites - writes).toBeLessThanOrEqual(2);
    expect(s.server.keys.usageWrites - writes).toBeGreaterThanOrEqual(1);
  });

  it('logs every key change (create, rotate, revoke) with the key id and role, never the token', async () => {
    const created = await makeKey(s, { role: 'agent', tenant: 'acme' });
    const rot = await call(s.url, 'post', `/v1/keys/${created.id}/rotate`, s.adminToken, { grace_seconds: 0 });
    const rev = await call(s.url, 'delete', `/v1/keys/${created.id}`, s.adminToken);
    const adminKeyId = (await call(s.url, 'get', '/v1/keys', s.adminToken)).json.keys.find((k: any) => k.note === 'created on first start').id;
    for (const [action, audit] of [
      ['key.create', created.json.audit],
      ['key.rotate', rot.json.audit],
      ['key.revoke', rev.json.audit],
    ] as const) {
      expect(audit.tenant).toBe('acme');
      const e = await call(s.url, 'get', `/v1/entries/${audit.index}`, globalAuditor);
      expect(e.status).toBe(200);
      const ev = e.json.record.event;
      expect(e.json.record.tenant).toBe('acme');
      expect(ev.event_id).toBe(audit.event_id);
      expect(ev.action.type).toBe(action);
      expect(ev.actor).toEqual({ type: 'system', id: `key:${adminKeyId}` });
      expect(ev.target.resource).toBe(`key:${created.id}`);
      expect(ev.metadata).toMatchObject({ key_id: created.id, role: 'agent', tenant: 'acme' });
      const leaf = new TextDecoder('latin1').decode(fromBase64(e.json.leaf)!);
      for (const secret of [created.token, rot.json.token, sha256b64(created.token), sha256b64(rot.json.token)]) {
        expect(e.text).not.toContain(secret);
        expect(leaf).not.toContain(secret);
      }
    }
    // An acme auditor sees its tenant's key events; a cross-tenant key's events go to "_system".
    const acmeAuditor = (await makeKey(s, { role: 'auditor', tenant: 'acme' })).token;
    expect((await call(s.url, 'get', `/v1/entries/${created.json.audit.index}`, acmeAuditor)).status).toBe(200);
    const star = await makeKey(s, { role: 'auditor', tenant: '*' });
    expect(star.json.audit.tenant).toBe('_system');
    expect((await call(s.url, 'get', `/v1/entries/${star.json.audit.index}`, acmeAuditor)).status).toBe(404);
    // The first admin key's creation on first start is logged too (entry 0, by the server itself).
    const first = await call(s.url, 'get', '/v1/entries/0', globalAuditor);
    expect(first.json.record.event.action.type).toBe('key.create');
    expect(first.json.record.event.actor.id).toBe('agent-tlog');
  });
});

describe('key usage survives a restart', () => {
  it('persists last_used_at on close', async () => {
    const s = await startSecServer();
    const k = await makeKey(s, { role: 'agent', tenant: 'acme' });
    expect((await call(s.url, 'post', '/v1/events', k.token, sampleEvent(1))).status).toBe(201);
    await s.close({ keepData: true });
    const again = await startSecServer({}, { dataDir: s.dataDir });
    try {
      const listed = (await call(again.url, 'get', '/v1/keys', again.adminToken)).json.keys.find((x: any) => x.id === k.id);
      expect(listed.last_used_at).toMatch(/^\d{4}-/);
    } finally {
      await again.close();
    }
  });
});
