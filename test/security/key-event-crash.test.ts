/**
 * kill -9 between a key change and its audit event (test/kill-hook.mjs): right
 * after the key record's synced batch (the event waits in the key-event
 * outbox, not yet logged), and right before the outbox entry's removal (the
 * event is logged already). After a restart the change is in force and its
 * `key.*` event is in the log exactly once, and the outbox is empty. The same
 * for the admin key made on first start.
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_TENANT } from '../../src/auth/key-events.js';
import { readLeaf } from '../../src/query/leaf.js';
import { entryKey, PREFIX, prefixRange } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { killAt, spawnServer, type Child } from '../child.js';
import { del, get, post, sampleEvent, startTestServer, tempDir } from '../helpers.js';

/** The stopped data folder: key.* events about `keyId` (tenant, action, event_id) and the outbox's size. */
async function logged(dir: string, keyId: string): Promise<{ events: { tenant: string; action: string; event_id: string }[]; outbox: number }> {
  const store = await LogStore.open(join(dir, 'log'));
  try {
    const size = (await store.readHead())!.treeSize;
    const events = [];
    for await (const [, leaf] of store.db.iterator({ gte: entryKey(0), lt: entryKey(size) })) {
      const r = readLeaf(leaf) as { tenant: string; event: any } | undefined;
      if (r?.event?.target?.resource === `key:${keyId}` && String(r.event.action?.type).startsWith('key.'))
        events.push({ tenant: r.tenant, action: r.event.action.type, event_id: r.event.event_id });
    }
    let outbox = 0;
    for await (const _ of store.db.keys(prefixRange(PREFIX.keyEvent))) outbox++;
    return { events, outbox };
  } finally {
    await store.close();
  }
}

async function stopped(child: Child): Promise<void> {
  child.proc.kill('SIGTERM');
  await child.exited;
}

/** A request the server dies in the middle of: no answer. */
async function cutOff(child: Child, request: Promise<unknown>): Promise<void> {
  await expect(request).rejects.toThrow();
  expect(await child.exited).toBe(null);
  expect(child.proc.signalCode).toBe('SIGKILL');
}

describe('kill -9 between a key change and its event', () => {
  let dir: string;
  let child: Child | undefined;
  let admin: string;

  beforeAll(async () => {
    dir = await tempDir('tlog-key-kill-');
    child = await spawnServer(dir);
    admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    await stopped(child);
    child = undefined;
  });

  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('revoke, killed right after the key record: revoked after restart, key.revoke logged once', async () => {
    child = await spawnServer(dir);
    const agent = (await post(`${child.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json;
    expect((await post(`${child.url}/v1/events`, agent.token, sampleEvent(1))).status).toBe(201);
    await stopped(child);

    child = await spawnServer(dir, [], killAt('batch:4b'));
    await cutOff(child, del(`${child.url}/v1/keys/${agent.id}`, admin));
    expect(child.stderr()).toContain('kill-hook: batch:4b');
    // The dangerous state: the revocation is on disk, its event is not in the log.
    const left = await logged(dir, agent.id);
    expect(left.events.map((e) => e.action)).toEqual(['key.create']);
    expect(left.outbox).toBe(1);

    child = await spawnServer(dir);
    expect(child.stdout()).toContain('re-logged key change events cut off by a crash');
    expect((await post(`${child.url}/v1/events`, agent.token, sampleEvent(2))).status).toBe(401);
    const listed = (await get(`${child.url}/v1/keys`, admin)).json.keys.find((k: { id: string }) => k.id === agent.id);
    expect(listed.revoked_at).toBeDefined();
    // An auditor of the key's tenant sees the revocation.
    const auditor = (await post(`${child.url}/v1/keys`, admin, { role: 'auditor', tenant: 'acme' })).json.token;
    const seen = await get(`${child.url}/v1/events?action=key.revoke`, auditor);
    expect(seen.json.events.filter((e: any) => e.record.event.target.resource === `key:${agent.id}`)).toHaveLength(1);
    // Revoking again changes nothing and logs nothing.
    expect((await del(`${child.url}/v1/keys/${agent.id}`, admin)).status).toBe(200);
    await stopped(child);
    child = undefined;
    const after = await logged(dir, agent.id);
    expect(after.events.map((e) => e.action)).toEqual(['key.create', 'key.revoke']);
    expect(after.events.every((e) => e.tenant === 'acme')).toBe(true);
    expect(after.outbox).toBe(0);
  }, 60_000);

  it('rotate, killed after its event was logged but before the outbox entry left: not logged twice', async () => {
    child = await spawnServer(dir);
    const agent = (await post(`${child.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json;
    await stopped(child);

    child = await spawnServer(dir, [], killAt('del:4b'));
    await cutOff(child, post(`${child.url}/v1/keys/${agent.id}/rotate`, admin, { grace_seconds: 0 }));
    expect(child.stderr()).toContain('kill-hook: del:4b');
    const left = await logged(dir, agent.id);
    expect(left.events.map((e) => e.action)).toEqual(['key.create', 'key.rotate']);
    expect(left.outbox).toBe(1);

    child = await spawnServer(dir);
    // The old token stopped (grace 0): the rotation is in force.
    expect((await post(`${child.url}/v1/events`, agent.token, sampleEvent(3))).status).toBe(401);
    await stopped(child);
    child = undefined;
    const after = await logged(dir, agent.id);
    expect(after.events).toEqual(left.events);
    expect(after.outbox).toBe(0);
  }, 60_000);

  it('create, killed right after the key record: the key exists and key.create is logged once', async () => {
    child = await spawnServer(dir, [], killAt('batch:4b'));
    const url = child.url;
    await cutOff(child, post(`${url}/v1/keys`, admin, { role: 'auditor', tenant: 'beta', note: 'cut off' }));
    child = await spawnServer(dir);
    const made = (await get(`${child.url}/v1/keys`, admin)).json.keys.filter((k: { note?: string }) => k.note === 'cut off');
    expect(made).toHaveLength(1);
    await stopped(child);
    child = undefined;
    const after = await logged(dir, made[0].id);
    expect(after.events.map((e) => `${e.tenant} ${e.action}`)).toEqual(['beta key.create']);
    expect(after.outbox).toBe(0);
  }, 60_000);
});

describe('kill -9 on first start between the admin key and its event', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs the admin key.create at the next start, once', async () => {
    dir = await tempDir('tlog-first-key-kill-');
    await expect(spawnServer(dir, [], killAt('batch:4b'))).rejects.toThrow(/exited with SIGKILL/);
    const store = await LogStore.open(join(dir, 'log'));
    const ids: string[] = [];
    for await (const rec of store.keyRecords()) ids.push((rec as { id: string }).id);
    await store.close();
    expect(ids).toHaveLength(1);
    expect((await logged(dir, ids[0]!)).events).toEqual([]);

    const child = await spawnServer(dir);
    await stopped(child);
    const after = await logged(dir, ids[0]!);
    expect(after.events.map((e) => `${e.tenant} ${e.action}`)).toEqual([`${SYSTEM_TENANT} key.create`]);
    expect(after.outbox).toBe(0);
  }, 60_000);
});

describe('a key change whose event could not be logged (a storage error, no crash)', () => {
  it('logs that event before the next key change\'s, once', async () => {
    const t = await startTestServer();
    try {
      const log = t.server.log;
      const append = log.append.bind(log);
      let failures = 1;
      log.append = (async (...a: Parameters<typeof append>) => {
        if (failures > 0 && (a[1] as { action?: { type?: string } }).action?.type === 'key.create') {
          failures--;
          throw new Error('storage failed');
        }
        return append(...a);
      }) as typeof log.append;
      const first = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'acme', note: 'first' });
      expect(first.status).toBe(500);
      const list = await get(`${t.url}/v1/keys?tenant=acme`, t.adminToken);
      const made = list.json.keys.find((k: { note?: string }) => k.note === 'first');
      expect(made).toBeDefined(); // the change stood
      const second = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'agent', tenant: 'acme', note: 'second' });
      expect(second.status).toBe(201);
      const events = await get(`${t.url}/v1/events?tenant=acme&action=key.create&limit=100`, t.adminToken);
      const about = (id: string) => events.json.events.filter((e: any) => e.record.event.target.resource === `key:${id}`);
      expect(about(made.id)).toHaveLength(1);
      expect(about(second.json.id)).toHaveLength(1);
      // In the order of the changes.
      expect(about(made.id)[0].index).toBeLessThan(about(second.json.id)[0].index);
    } finally {
      await t.close();
    }
  });
});
