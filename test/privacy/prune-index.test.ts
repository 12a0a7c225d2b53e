/**
 * Entry pruning and the query indexes: a prune deletes the posting keys only
 * its entries explained (their values are in the keys: words, run ids,
 * target names) in its own batch, and compacts them out of the files. After
 * it, the stored index is exactly what reindex derives from the remaining
 * leaves, closed blocks and the open one alike, and no byte of a pruned
 * entry's indexed values is left in the data folder, also after a prune cut
 * off before its compaction.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/index.js';
import { BLOCK, INDEX_RANGE } from '../../src/query/keys.js';
import { PRUNE_PURGE_KEY } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { get, post, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { derivedIndex, randomEvent, rng, storedIndex } from '../query/helpers.js';
import { byteSearch } from './helpers.js';

const DAY = 86_400_000;
const RETENTION = { retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 };

let seq = 0;
const ids = { generateId: () => `019a8888-0000-7000-8000-${(seq++).toString(16).padStart(12, '0')}` };

/** Appends through the server's own Log (the real sequencer and commit path); resolves to the entry's index. */
async function append(t: TestServer, tenant: string, e: Record<string, unknown>): Promise<number> {
  return (await t.server.log.append(tenant, parseEvent(e, ids), { assignedId: true })).index;
}

const retentionRun = async (t: TestServer) => {
  const res = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
  expect(res.status).toBe(200);
  return res.json.entries as { pruned: number; held: number };
};

/** The stored index equals what reindex derives from the stored leaves, key for key and byte for byte. */
async function expectDerived(t: TestServer): Promise<void> {
  const store = t.server.log.store;
  const stored = await storedIndex(store);
  const derived = await derivedIndex(store, t.server.log.head.treeSize);
  expect([...stored].sort()).toEqual([...derived].sort());
}

/** Index keys holding `needle`'s bytes. */
async function keysWith(t: TestServer, needle: string): Promise<number> {
  const n = Buffer.from(needle);
  let hits = 0;
  for await (const k of t.server.log.store.db.keys(INDEX_RANGE)) if (Buffer.from(k).includes(n)) hits++;
  return hits;
}

/** Hex keys of the time lists ('x' tenant 0x00 't' …). */
const timeKeys = (index: Map<string, string>) =>
  [...index.keys()].filter((h) => {
    const k = Buffer.from(h, 'hex');
    return k.length > 1 && k[k.indexOf(0) + 1] === 0x74;
  });

describe('a prune takes its entries out of the query indexes', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  const gone: number[] = [];
  const kept: number[] = [];
  let before: Map<string, string>;

  beforeAll(async () => {
    t = await startTestServer(RETENTION, undefined, { now: () => now });
    const r = rng(11);
    // ~1,400 entries in commits of 1..150: a random class mostly, and a stretch of operational
    // ones (i in 300..1199) covering two whole blocks, 512..1023 (a commit interleaves its
    // tenants' entries, so an entry's index may be up to a commit's size from i).
    for (let i = 0; i < 1400; ) {
      const group = 1 + Math.floor(r() * 150);
      const pending: Promise<void>[] = [];
      for (let k = 0; k < group && i < 1400; k++, i++) {
        const e = randomEvent(r, i);
        const operational = (i >= 300 && i < 1200) || r() < 0.5;
        e.retention = operational ? 'operational' : 'compliance';
        const tenant = r() < 0.7 ? 'acme' : 'other';
        // A word only pruned entries hold (in reasoning, and in one target), and one only kept entries hold.
        const marked = tenant === 'acme' && i % 23 === 5;
        if (marked && operational) e.reasoning = { summary: `moved the quokkagone ledger ${i}` };
        if (marked && operational && i === 51) e.target = { system: 'ledger', resource: 'quokkagone-7' };
        if (marked && !operational) e.reasoning = { summary: `kept the wombatstays ledger ${i}` };
        pending.push(
          append(t, tenant, e).then((index) => {
            if (marked) (operational ? gone : kept).push(index);
          }),
        );
      }
      await Promise.all(pending);
      now += Math.floor(r() * 60_000);
    }
    gone.sort((a, b) => a - b);
    kept.sort((a, b) => a - b);
    before = await storedIndex(t.server.log.store);
    now += 31 * DAY;
  }, 60_000);
  afterAll(() => t.close());

  it('(premise) the words are indexed, and entries of both kinds share blocks', async () => {
    expect(gone.length).toBeGreaterThan(10);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.some((k) => gone.some((g) => Math.floor(g / BLOCK) === Math.floor(k / BLOCK)))).toBe(true);
    expect(await keysWith(t, 'quokkagone')).toBeGreaterThan(0);
    expect(await byteSearch(t.dataDir, { gone: 'quokkagone' })).not.toEqual([]);
    const auditor = t.auditorToken;
    expect((await get(`${t.url}/v1/events?q=quokkagone&limit=1000`, auditor)).json.events.map((e: { index: number }) => e.index)).toEqual(gone);
  });

  it('leaves exactly what reindex derives from the remaining leaves, time lists included', async () => {
    const { pruned } = await retentionRun(t);
    expect(pruned).toBeGreaterThan(600);
    // Whole blocks went (2 and 3 hold only operational entries), and parts of others.
    for (const b of [2, 3]) expect(await t.server.log.store.readEntries(b * BLOCK, BLOCK)).toEqual([]);
    await expectDerived(t);
    const after = await storedIndex(t.server.log.store);
    expect(after.size).toBeLessThan(before.size);
    // Time keys whose block's first entry of a tenant was pruned moved to the next one's logged_at.
    const [tb, ta] = [new Set(timeKeys(before)), new Set(timeKeys(after))];
    expect([...tb].filter((k) => !ta.has(k)).length).toBeGreaterThan(0);
    expect([...ta].filter((k) => !tb.has(k)).length).toBeGreaterThan(0);
  });

  it('no index key and no byte of the data folder holds a word only pruned entries had; kept entries are still found', async () => {
    expect(await keysWith(t, 'quokkagone')).toBe(0);
    expect(await byteSearch(t.dataDir, { gone: 'quokkagone' })).toEqual([]);
    const auditor = t.auditorToken;
    expect((await get(`${t.url}/v1/events?q=quokkagone`, auditor)).json.events).toEqual([]);
    expect((await get(`${t.url}/v1/events?q=wombatstays&limit=1000`, auditor)).json.events.map((e: { index: number }) => e.index)).toEqual(kept);
    expect(await byteSearch(t.dataDir, { kept: 'wombatstays' })).not.toEqual([]);
  });
});

describe('a prune of entries in the open block (a quiet log: under 256 entries in the retention period)', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  afterAll(() => t.close());

  it('rebuilds the block in memory: later commits into it write what reindex derives', async () => {
    t = await startTestServer(RETENTION, undefined, { now: () => now });
    const event = (i: number, retention: string) => ({
      run_id: 'run-quiet',
      actor: { type: 'agent', id: 'bot-q' },
      action: { type: 'tool.call', name: 'sync' },
      reasoning: { summary: `otterword step ${i}${retention === 'operational' ? ' zzzotter' : ''}` },
      retention,
    });
    // zzzotter, only in the pruned entries, is the greatest index key written since the last
    // flush: the prune's first flush would end its table with it (LogStore.beginPrune).
    for (let i = 0; i < 12; i++) await append(t, 'acme', event(i, i % 4 === 3 ? 'compliance' : 'operational'));
    now += 31 * DAY;
    await append(t, 'acme', event(12, 'compliance'));
    const size = t.server.log.head.treeSize;
    expect(size).toBeLessThan(BLOCK);
    // Appends race the prune: they commit before it or after it, never inside it.
    const racing = Array.from({ length: 20 }, (_, i) => append(t, 'acme', event(100 + i, 'compliance')));
    const { pruned } = await retentionRun(t);
    await Promise.all(racing);
    expect(pruned).toBe(9);
    expect(await byteSearch(t.dataDir, { gone: 'zzzotter' })).toEqual([]);
    // The same lists (run, actor, action, the tenant's every-entry list) take new members in the block.
    for (let i = 0; i < 5; i++) await append(t, 'acme', event(200 + i, 'compliance'));
    await append(t, 'other', event(300, 'compliance'));
    expect(Math.floor(t.server.log.head.treeSize / BLOCK)).toBe(0);
    await expectDerived(t);
    // And after a restart (the open block rebuilt from storage), the same.
    const dir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestServer(RETENTION, dir, { now: () => now });
    await append(t, 'acme', event(400, 'compliance'));
    await expectDerived(t);
  });

  it('holds back a commit that would land between its read of the block and its batch', async () => {
    const event = (i: number, retention: string) => ({ run_id: 'run-race', actor: { type: 'agent', id: 'bot-r' }, action: { type: 'tool.call' }, retention, reasoning: { summary: `race ${i}` } });
    for (let i = 0; i < 6; i++) await append(t, 'acme', event(i, 'operational'));
    now += 31 * DAY;
    // Right after the prune reads the open block's leaves, appends arrive, and the read lingers 50 ms.
    const store = t.server.log.store;
    const read = store.readStoredEntries.bind(store);
    let calls = 0;
    let racing: Promise<number>[] = [];
    store.readStoredEntries = async (start: number, end: number) => {
      const got = await read(start, end);
      if (++calls === 1) {
        racing = Array.from({ length: 5 }, (_, i) => append(t, 'acme', event(100 + i, 'compliance')));
        await new Promise((r) => setTimeout(r, 50));
      }
      return got;
    };
    try {
      expect(await retentionRun(t)).toEqual({ pruned: 6, held: 0 });
    } finally {
      store.readStoredEntries = read;
    }
    expect(calls).toBe(1);
    // They committed after the prune (exclusive of its batch), into the same block.
    const indexes = await Promise.all(racing);
    expect(Math.floor(Math.max(...indexes) / BLOCK)).toBe(0);
    await expectDerived(t);
  });
});

describe('a prune cut off before its compaction, with indexed values', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  afterAll(() => t.close());

  it('is compacted at the next start: no byte of its index keys is left', async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    // zzyzxcut is the greatest index key the prune deletes: without the fence, the table its
    // deletion is flushed into ends with it, and LevelDB's MANIFEST and LOG name it.
    const words = { a: 'narwhalcut', last: 'zzyzxcut' };
    const e = { run_id: 'run-narwhalcut-3', actor: { type: 'agent', id: 'bot-n' }, action: { type: 'tool.call' }, reasoning: { summary: 'the narwhalcut report zzyzxcut' }, retention: 'operational' };
    expect((await post(`${t.url}/v1/events`, t.agentToken, e)).status).toBe(201);
    expect((await post(`${t.url}/v1/events`, t.agentToken, { ...e, reasoning: { summary: 'kept' }, run_id: 'run-kept', retention: 'compliance' })).status).toBe(201);
    // LevelDB flushes its memtable when it fills: the table written then ends with zzyzxcut's key,
    // and the MANIFEST the next start writes names it, until the start-up purge and its reopen.
    await t.server.log.store.flushMemtable();
    now += 31 * DAY;
    const log = t.server.log as unknown as { purgePruned: () => Promise<void> };
    const purge = log.purgePruned;
    log.purgePruned = () => Promise.reject(new Error('stopped before the compaction (test)'));
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).status).toBe(500);
    log.purgePruned = purge;
    expect(await keysWith(t, 'narwhalcut')).toBe(0);
    expect(await byteSearch(t.dataDir, words)).not.toEqual([]);
    const dir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, dir, { now: () => now });
    expect(await byteSearch(t.dataDir, words)).toEqual([]);
    await expectDerived(t);
  });
});

describe('prune batches over sparse candidates', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    t = await startTestServer(RETENTION, undefined, { now: () => now });
  });
  afterAll(() => t.close());

  it('span at most 16 blocks each, and only the open block is pruned holding commits back', async () => {
    // 40 blocks and a bit, one operational entry per block: the candidates are 256 apart.
    const r = rng(5);
    const size = 40 * BLOCK + 10;
    for (let i = t.server.log.head.treeSize; i < size; ) {
      const pending: Promise<number>[] = [];
      for (let k = 0; k < 500 && i < size; k++, i++) {
        const e = randomEvent(r, i);
        e.retention = i % BLOCK === 7 ? 'operational' : 'compliance';
        pending.push(append(t, 'acme', e));
      }
      await Promise.all(pending);
    }
    const store = t.server.log.store;
    const batches: number[][] = [];
    const prune = store.prune.bind(store);
    store.prune = async (entries, index) => {
      batches.push(entries.map((e) => e.index));
      return prune(entries, index);
    };
    const exclusive = t.server.log['sequencer'].exclusive.bind(t.server.log['sequencer']);
    let exclusiveRuns = 0;
    t.server.log['sequencer'].exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
      exclusiveRuns++;
      return exclusive(fn);
    };
    now += 31 * DAY;
    const { pruned } = await retentionRun(t);
    expect(pruned).toBe(41);
    expect(batches.flat()).toHaveLength(41);
    for (const b of batches) expect(Math.floor(b[b.length - 1]! / BLOCK) - Math.floor(b[0]! / BLOCK)).toBeLessThan(16);
    // The open block's candidate went in a batch of its own, under the exclusive turn.
    expect(batches[batches.length - 1]).toEqual([40 * BLOCK + 7]);
    expect(exclusiveRuns).toBe(1);
    await expectDerived(t);
  }, 60_000);
});

describe('scheduled sweeps', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    t = await startTestServer({ ...RETENTION, pruneEntries: true }, undefined, { now: () => now });
  });
  afterAll(() => t.close());

  it('compact the query-index range at most once a day; until then it stays pending', async () => {
    const e = randomEvent(rng(9), 0);
    e.retention = 'operational';
    e.reasoning = { summary: 'the numbatdeferred ledger' };
    await append(t, 'acme', e);
    const kept = randomEvent(rng(10), 1);
    kept.retention = 'compliance';
    await append(t, 'acme', kept);
    now += 31 * DAY;
    const store = t.server.log.store;
    await t.server.privacy.retention({ dryRun: false, entries: true, scheduled: true });
    expect(await keysWith(t, 'numbatdeferred')).toBe(0);
    // Deleted from the index; the whole-range compaction waits for its day, recorded in P (the
    // entries' compaction may take the key's bytes with it anyway: here they share table files).
    expect(await store.pendingPurge()).toEqual({ first: 0, last: -1, index: true });
    now += DAY / 2;
    await t.server.privacy.retention({ dryRun: false, entries: true, scheduled: true });
    expect(await store.pendingPurge()).toEqual({ first: 0, last: -1, index: true });
    now += DAY / 2;
    await t.server.privacy.retention({ dryRun: false, entries: true, scheduled: true });
    expect(await store.pendingPurge()).toBeUndefined();
    expect(await byteSearch(t.dataDir, { w: 'numbatdeferred' })).toEqual([]);
  });
});

describe('the pending purge record', () => {
  it('a deferred index compaction ({first: 0, last: -1, index: true}) joins the next prune and is finished with it', async () => {
    const dir = await tempDir('tlog-purge-');
    const store = await LogStore.open(join(dir, 'log'));
    try {
      await store.db.put(PRUNE_PURGE_KEY, new TextEncoder().encode(JSON.stringify({ first: 0, last: -1, index: true })));
      await store.prune([{ index: 5, leafHash: new Uint8Array(32), prunedAt: 1 }], { del: [], put: [] });
      expect(await store.pendingPurge()).toEqual({ first: 5, last: 5, index: true });
      await store.purgeEntries({ first: 5, last: 5, index: false });
      expect(await store.pendingPurge()).toEqual({ first: 0, last: -1, index: true });
      await store.purgeEntries({ first: 0, last: -1, index: true });
      expect(await store.pendingPurge()).toBeUndefined();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('written before index keys were deleted ({first, last}) is still read and finished', async () => {
    const dir = await tempDir('tlog-purge-');
    const store = await LogStore.open(join(dir, 'log'));
    try {
      await store.db.put(PRUNE_PURGE_KEY, new TextEncoder().encode(JSON.stringify({ first: 3, last: 9 })));
      const p = await store.pendingPurge();
      expect(p).toEqual({ first: 3, last: 9, index: false });
      await store.purgeEntries(p!);
      expect(await store.pendingPurge()).toBeUndefined();
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
