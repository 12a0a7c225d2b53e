/**
 * Block posting lists: what the commit path writes equals what reindex
 * derives from the leaves alone (byte for byte, across block boundaries,
 * commits spanning blocks and a restart mid-block), and queries over the
 * blocks agree with a brute-force scan of the leaves in both orders, with
 * cursors, risk ranges and time windows.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TlogError } from '../../src/errors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, parseEvent, type AuditEvent, type LogRecord } from '../../src/events/index.js';
import { BlockIndexer } from '../../src/query/block-indexer.js';
import { type EventFilter, matches } from '../../src/query/filter.js';
import { BLOCK, encodePostings, INDEX_RANGE, keyBlock, nextMember, prevMember, VERSION_KEY } from '../../src/query/keys.js';
import { agrees, compareIndexes, reindex } from '../../src/query/reindex.js';
import { search } from '../../src/query/search.js';
import { entryKey } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { get, post, sampleEvent, startTestServer, tempDir } from '../helpers.js';
import { buildLog, derivedIndex, randomEvent, rng, startQueryServer, storedIndex, type QueryServer } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function records(store: LogStore, size: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const leaf of store.db.values({ gte: entryKey(0), lt: entryKey(size) })) out.push(decodeRecord(leaf));
  return out;
}

let seq = 0;
const ids = { generateId: () => `019a7777-0000-7000-8000-${(seq++).toString(16).padStart(12, '0')}` };

/** One commit of `n` events (the pool is empty between calls), tenants picked at random. */
async function commit(qs: QueryServer, n: number, r: () => number, tenants = ['acme', 'other']): Promise<void> {
  const before = qs.server.log.head.treeSize;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      qs.server.log.append(tenants[Math.floor(r() * tenants.length)]!, parseEvent(randomEvent(r, before + i), ids), { assignedId: true }),
    ),
  );
  qs.clock.now += 1 + Math.floor(r() * 5000);
}

async function upTo(qs: QueryServer, size: number, r: () => number): Promise<void> {
  if (qs.server.log.head.treeSize < size - 1) await commit(qs, size - 1 - qs.server.log.head.treeSize, r);
  while (qs.server.log.head.treeSize < size) await commit(qs, 1, r);
}

describe('block posting lists through the server', () => {
  let qs: QueryServer;
  let dir: string;
  const r = rng(77);

  beforeAll(async () => {
    qs = await startQueryServer();
    dir = qs.dataDir;
    // Single-entry commits on entries 254..258 (one fills block 0, the next opens block 1),
    // then 1,000 in one commit (spans four blocks), then random commit sizes.
    await upTo(qs, 254, r);
    for (let i = 0; i < 5; i++) await commit(qs, 1, r);
    await commit(qs, 1000, r);
    await buildLog(qs, 1500, 5, ['acme', 'other'], 0, 300);
  }, 120_000);
  afterAll(async () => qs?.close());

  const agree = async () => {
    const store = qs.server.log.store;
    const size = qs.server.log.head.treeSize;
    const stored = await storedIndex(store);
    const derived = await derivedIndex(store, size);
    expect(stored.size).toBe(derived.size);
    expect([...stored].sort()).toEqual([...derived].sort());
    expect(stored.get(hex(VERSION_KEY))).toBe('02');
  };

  const hits = async (tenant: string, f: EventFilter, order: 'asc' | 'desc') => {
    const out: number[] = [];
    for await (const h of search(qs.server.log.store, tenant, f, { order, treeSize: qs.server.log.head.treeSize })) out.push(h.index);
    return out;
  };
  const truth = async (tenant: string, f: EventFilter) => {
    const rs = await records(qs.server.log.store, qs.server.log.head.treeSize);
    return rs.flatMap((rec, i) => (matches(f, tenant, rec) ? [i] : []));
  };

  const filters = async (): Promise<EventFilter[]> => {
    const rs = await records(qs.server.log.store, qs.server.log.head.treeSize);
    const at = (i: number) => rs[i]!.logged_at;
    return [
      {},
      { actor: 'bot-a' },
      { actor: 'bot-b', decision: 'DENY' },
      { run_id: 'run-7' },
      { words: ['restart'] },
      { words: ['kubectl', 'timeout'] },
      { risk_min: 20, risk_max: 35.5 },
      { risk_min: 99 },
      { risk_max: 0.5, action: 'shell' },
      // Windows starting and ending at block edges, and inside blocks.
      { from: at(255), to: at(256) },
      { from: at(256), to: at(2 * BLOCK + 17) },
      { from: at(300) + 1, to: at(1400) - 1, actor: 'bot-c' },
      { to: at(255) },
      { from: at(rs.length - 3) },
      { from: at(rs.length - 1) + 1 },
    ];
  };

  it('writes exactly what reindex derives from the leaves (blocks 0..)', async () => {
    expect(qs.server.log.head.treeSize).toBeGreaterThan(2700);
    await agree();
  });

  it('answers every filter like a scan of the leaves, in both orders, for each tenant', async () => {
    for (const f of await filters())
      for (const tenant of ['acme', 'other']) {
        const want = await truth(tenant, f);
        expect(await hits(tenant, f, 'asc')).toEqual(want);
        expect(await hits(tenant, f, 'desc')).toEqual([...want].reverse());
      }
  });

  it("never lists an entry under another tenant's keys, and encodes every value canonically", async () => {
    const store = qs.server.log.store;
    const rs = await records(store, qs.server.log.head.treeSize);
    let checked = 0;
    for await (const [k, v] of store.db.iterator(INDEX_RANGE)) {
      if (k.length === 1) continue; // the version key
      const tenant = new TextDecoder().decode(k.subarray(1, k.indexOf(0)));
      if (k[k.indexOf(0) + 1] === 0x74) continue; // time keys: no members
      const b = keyBlock(k);
      const members: number[] = [];
      for (let m = nextMember(v, 0); m !== -1; m = m === BLOCK - 1 ? -1 : nextMember(v, m + 1)) {
        expect(rs[b * BLOCK + m]!.tenant).toBe(tenant);
        members.push(m);
        checked++;
      }
      // And the value is the canonical encoding of its members (byte list below 32, else bitmap).
      expect(hex(encodePostings(members))).toBe(hex(v));
    }
    expect(checked).toBeGreaterThan(rs.length * 5);
  });

  it('pages with cursors across blocks over HTTP, both orders', async () => {
    const auditor = await qs.token('auditor', 'acme');
    for (const order of ['asc', 'desc'] as const) {
      const want = await truth('acme', { actor: 'bot-a' });
      const got: number[] = [];
      let cursor: string | null = null;
      do {
        const qp = new URLSearchParams({ actor: 'bot-a', limit: '37', order, ...(cursor ? { cursor } : {}) });
        const res = await get(`${qs.url}/v1/events?${qp}`, auditor);
        expect(res.status).toBe(200);
        got.push(...res.json.events.map((h: { index: number }) => h.index));
        cursor = res.json.next_cursor;
      } while (cursor !== null);
      expect(got).toEqual(order === 'asc' ? want : [...want].reverse());
    }
  });

  it('restarts mid-block from the stored leaves of the open block, then keeps agreeing', async () => {
    while (qs.server.log.head.treeSize % BLOCK === 0 || qs.server.log.head.treeSize % BLOCK > 200) await commit(qs, 1, r);
    const sizeBefore = qs.server.log.head.treeSize;
    await qs.close({ keepData: true });
    qs = await startQueryServer(dir, qs.clock.now);
    expect(qs.server.log.head.treeSize).toBe(sizeBefore);
    for (let i = 0; i < 3; i++) await commit(qs, 1, r);
    await commit(qs, 1000, r);
    await commit(qs, 70, r);
    await agree();
    for (const f of await filters()) {
      const want = await truth('acme', f);
      expect(await hits('acme', f, 'asc')).toEqual(want);
      expect(await hits('acme', f, 'desc')).toEqual([...want].reverse());
    }
  }, 60_000);
});

describe('BlockIndexer', () => {
  const leaf = (tenant: string, i: number, event: Record<string, unknown> = {}) =>
    encodeRecord({ v: 1, tenant, logged_at: 1000 + i, event: { event_id: `019a0000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`, actor: { type: 'agent', id: `a${i % 3}` }, action: { type: 't' }, ...event } as unknown as AuditEvent });
  const entries = (from: number, n: number) =>
    Array.from({ length: n }, (_, k) => ({ tenant: 'acme', eventId: String(from + k), eventHash: new Uint8Array(32), leaf: leaf('acme', from + k) }));
  const bytes = (ws: readonly { key: Uint8Array; value: Uint8Array }[]) => ws.map((w) => `${hex(w.key)}=${hex(w.value)}`);

  it('stages without changing state: a retried commit gets the same bytes, and only apply moves on', async () => {
    const dir = await tempDir('tlog-blocks-');
    const store = await LogStore.open(join(dir, 'log'));
    try {
      const ix = new BlockIndexer();
      await ix.resume(store, 0);
      const a = ix.stage(entries(0, 300), 0);
      const again = ix.stage(entries(0, 300), 0);
      expect(bytes(again.writes)).toEqual(bytes(a.writes));
      // Not applied: the next commit cannot start at 300 yet.
      expect(() => ix.stage(entries(300, 1), 300)).toThrow(/expected index 0/);
      a.apply();
      const b = ix.stage(entries(300, 1), 300);
      // Block 1 now holds 45 entries (256..300): the 'e' list is a bitmap, the a0 actor list (15 members) a byte list.
      const e = b.writes.find((w) => w.key[6] === 0x65)!;
      expect(keyBlock(e.key)).toBe(1);
      expect(e.value.length).toBe(32);
      const a0 = b.writes.find((w) => Buffer.from(w.key).includes(Buffer.from('a0\u0000')))!;
      expect([...a0.value]).toEqual(Array.from({ length: 15 }, (_, k) => 300 - 256 - 3 * (14 - k)));
      // b is never applied (its batch "failed"); c takes index 300 instead, with another actor.
      const other = { ...entries(300, 1)[0]!, leaf: leaf('acme', 300, { actor: { type: 'agent', id: 'zz' } }) };
      ix.stage([other], 300).apply();
      // So a0 in block 1 must not hold offset 44 (b's entry) when 301 joins it.
      const d = ix.stage([{ ...entries(301, 1)[0]!, leaf: leaf('acme', 301, { actor: { type: 'agent', id: 'a0' } }) }], 301);
      const a0d = d.writes.find((w) => Buffer.from(w.key).includes(Buffer.from('a0\u0000')))!;
      expect([...a0d.value]).toEqual([...Array.from({ length: 14 }, (_, k) => 300 - 256 - 3 * (14 - k)), 45]);
    } finally {
      await store.close();
    }
  });

  it('indexes a record passed with its leaf exactly as the leaf alone', async () => {
    const dir = await tempDir('tlog-blocks-');
    const store = await LogStore.open(join(dir, 'log'));
    try {
      const es = entries(0, 40);
      const withRecords = new BlockIndexer();
      await withRecords.resume(store, 0);
      const plain = new BlockIndexer();
      await plain.resume(store, 0);
      const w1 = withRecords.stage(es.map((e) => ({ ...e, record: decodeRecord(e.leaf) })), 0).writes;
      expect(bytes(w1)).toEqual(bytes(plain.stage(es, 0).writes));
    } finally {
      await store.close();
    }
  });
});

describe('block values', () => {
  it('are byte lists below 32 members and bitmaps from 32, and members are found both ways', () => {
    const r = rng(3);
    for (const n of [1, 2, 31, 32, 33, 100, 255, 256]) {
      const set = new Set<number>();
      while (set.size < n) set.add(Math.floor(r() * 256));
      if (n === 1) set.clear(), set.add(255);
      const members = [...set].sort((a, b) => a - b);
      const v = encodePostings(members);
      expect(v.length).toBe(n < 32 ? n : 32);
      if (n < 32) expect([...v]).toEqual(members);
      for (let o = 0; o < 256; o++) {
        expect(nextMember(v, o)).toBe(members.find((m) => m >= o) ?? -1);
        expect(prevMember(v, o)).toBe([...members].reverse().find((m) => m <= o) ?? -1);
      }
    }
  });
});

describe('an index in the older one-key-per-entry format', () => {
  it('stops start-up with QUERY_INDEX_STALE until reindex rebuilds it', async () => {
    const qs = await startQueryServer();
    const dir = qs.dataDir;
    await buildLog(qs, 300, 9, ['acme']);
    await qs.close({ keepData: true });
    // What the older format left: per-entry keys and no version key.
    let store = await LogStore.open(join(dir, 'log'));
    await store.db.del(VERSION_KEY);
    await store.db.put(new Uint8Array([0x78, ...Buffer.from('acme'), 0, 0x65, 0, 0, 0, 0, 0, 0, 1, 7]), new Uint8Array(0));
    await store.close();
    const err = await startQueryServer(dir).then(
      (s) => s.close({ keepData: true }).then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlogError);
    expect((err as TlogError).code).toBe('QUERY_INDEX_STALE');

    store = await LogStore.open(join(dir, 'log'));
    const rep = await reindex(store);
    expect(rep.before.extra).toBeGreaterThan(0);
    expect(rep.after.missing + rep.after.extra).toBe(0);
    await store.close();
    const again = await startQueryServer(dir);
    try {
      const auditor = await again.token('auditor', 'acme');
      const res = await get(`${again.url}/v1/events?limit=1000`, auditor);
      expect(res.status).toBe(200);
      const acme = (await records(again.server.log.store, again.server.log.head.treeSize)).flatMap((rec, i) => (rec.tenant === 'acme' ? [i] : []));
      expect(acme.length).toBeGreaterThan(300); // and the auditor key's own system event
      expect(res.json.events.map((e: { index: number }) => e.index)).toEqual(acme);
    } finally {
      await again.close();
    }
  });
  it('entries logged with query indexes off are indexed at the next start with them on', async () => {
    // On (the version key is written), then off with appends, then on again.
    let t = await startTestServer();
    const dir = t.dataDir;
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1));
    await t.close({ keepData: true });
    t = await startTestServer({ queryIndex: 'off' }, dir);
    for (let i = 2; i < 6; i++) expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i))).status).toBe(201);
    await t.close({ keepData: true });
    let store = await LogStore.open(join(dir, 'log'));
    expect((await compareIndexes(store)).missing).toBeGreaterThan(0);
    await store.close();
    t = await startTestServer({}, dir);
    const acme = (await records(t.server.log.store, t.server.log.head.treeSize)).flatMap((rec, i) => (rec.tenant === 'acme' ? [i] : []));
    const res = await get(`${t.url}/v1/events?limit=1000`, t.auditorToken);
    expect(res.json.events.map((e: { index: number }) => e.index)).toEqual(acme);
    await t.close({ keepData: true });
    store = await LogStore.open(join(dir, 'log'));
    expect(agrees(await compareIndexes(store))).toBe(true);
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a log with entries but no index key and no marker is refused; an empty log gets a fresh index', async () => {
    const t = await startTestServer();
    const dir = t.dataDir;
    await t.close({ keepData: true });
    let store = await LogStore.open(join(dir, 'log'));
    await store.db.clear(INDEX_RANGE); // lost, unexplained
    await store.close();
    const err = await startTestServer({}, dir).then(
      (s) => s.close({ keepData: true }).then(() => undefined),
      (e: unknown) => e,
    );
    expect((err as TlogError).code).toBe('QUERY_INDEX_STALE');
    expect((err as TlogError).message).toMatch(/no query indexes but its log has \d+ entries/);
    store = await LogStore.open(join(dir, 'log'));
    await reindex(store);
    await store.close();
    const again = await startTestServer({}, dir);
    expect((await get(`${again.url}/v1/events?limit=10`, again.auditorToken)).status).toBe(200);
    await again.close();

    // A new data folder: the indexer writes the version key on the empty tree, before any entry.
    const fresh = await tempDir('tlog-fresh-index-');
    const s = await LogStore.open(join(fresh, 'log'));
    await new BlockIndexer().resume(s, 0);
    expect(await s.db.get(VERSION_KEY)).toBeDefined();
    await s.close();
    await rm(fresh, { recursive: true, force: true });
  });
});
