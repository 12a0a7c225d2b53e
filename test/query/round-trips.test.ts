/**
 * What a search costs in native calls (each a thread-pool round trip, the
 * unit of a page's latency on this storage): a page whose lists fit one
 * read each makes one read per list, all at once, then one leaf read; a
 * chunk's leaf read overlaps a list's next read; a streaming search keeps
 * the next chunk's read in flight while the consumer works; and no read
 * seeks on the main thread unless it jumps. Built straight in storage
 * (index keys and one-byte leaves), like long-lists.test.ts.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK, encodePostings, LIST, listPrefix, tenantPrefix, valueBytes, withBlock } from '../../src/query/keys.js';
import { search, searchChunks } from '../../src/query/search.js';
import { entryKey } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { tempDir } from '../helpers.js';

const BLOCKS = 4_000;
const SIZE = BLOCKS * BLOCK;
let dir: string;
let store: LogStore;

/** Native calls made through the store, and how many list reads were in flight at once. */
const calls = { getMany: 0, nextv: 0, seek: 0, nextvInFlight: 0, maxNextvInFlight: 0, log: [] as string[] };

beforeAll(async () => {
  dir = await tempDir('tlog-trips-');
  store = await LogStore.open(join(dir, 'log'));
  const t = tenantPrefix('acme');
  const batch = store.db.batch();
  for (let b = 0; b < BLOCKS; b++) {
    // run-a: one entry in every 40th block (100 in all); actor bot: offsets 0, 7, 14, … (a bitmap);
    // decision DENY: offsets 0 and 100; run-b and session every: one entry in every block (offset 5);
    // run-c: blocks 0 and 3,000 (offset 5).
    if (b % 40 === 0) batch.put(withBlock(listPrefix(t, LIST.run, valueBytes('run-a')), b), encodePostings([9]));
    batch.put(withBlock(listPrefix(t, LIST.run, valueBytes('run-b')), b), encodePostings([5]));
    batch.put(withBlock(listPrefix(t, LIST.session, valueBytes('every')), b), encodePostings([5]));
    if (b === 0 || b === 3000) batch.put(withBlock(listPrefix(t, LIST.run, valueBytes('run-c')), b), encodePostings([5]));
    batch.put(withBlock(listPrefix(t, LIST.actor, valueBytes('bot')), b), encodePostings(Array.from({ length: 37 }, (_, k) => k * 7)));
    batch.put(withBlock(listPrefix(t, LIST.decision, valueBytes('DENY')), b), encodePostings([0, 100]));
    for (const o of [0, 5, 9, 100]) batch.put(entryKey(b * BLOCK + o), new Uint8Array([o]));
  }
  await batch.write();
  const db = store.db;
  const getMany = db.getMany.bind(db);
  db.getMany = ((keys: Uint8Array[]) => {
    calls.getMany++;
    calls.log.push('getMany');
    return getMany(keys);
  }) as typeof db.getMany;
  const iterator = db.iterator.bind(db);
  db.iterator = ((opts: never) => {
    const it = iterator(opts);
    const nextv = it.nextv.bind(it);
    const seek = it.seek.bind(it);
    it.nextv = ((n: number) => {
      calls.nextv++;
      calls.log.push('nextv');
      calls.maxNextvInFlight = Math.max(calls.maxNextvInFlight, ++calls.nextvInFlight);
      return nextv(n).finally(() => {
        calls.nextvInFlight--;
        calls.log.push('nextv done');
      });
    }) as typeof it.nextv;
    it.seek = ((k: Uint8Array) => {
      calls.seek++;
      seek(k);
    }) as typeof it.seek;
    return it;
  }) as typeof db.iterator;
});
afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function reset(): void {
  Object.assign(calls, { getMany: 0, nextv: 0, seek: 0, nextvInFlight: 0, maxNextvInFlight: 0, log: [] });
}

async function page(filter: Record<string, string>, limit = 100): Promise<number[]> {
  const out: number[] = [];
  for await (const h of search(store, 'acme', filter, { order: 'asc', treeSize: SIZE, limit, budget: 20_000 })) out.push(h.index);
  return out;
}

describe('native calls per search', () => {
  it('a page whose list fits one read: one list read, no seek, one leaf read (two getMany on the pool)', async () => {
    reset();
    const hits = await page({ run_id: 'run-a' });
    expect(hits).toEqual(Array.from({ length: 100 }, (_, k) => k * 40 * BLOCK + 9));
    expect(calls).toMatchObject({ nextv: 1, seek: 0, getMany: 2 });
  });

  it('two lists are read at once, one read each, for a page of their intersection', async () => {
    reset();
    const hits = await page({ actor: 'bot', decision: 'DENY' });
    expect(hits.length).toBe(100);
    expect(hits.slice(0, 3)).toEqual([0, BLOCK, 2 * BLOCK]);
    expect(calls).toMatchObject({ nextv: 2, seek: 0, getMany: 2, maxNextvInFlight: 2 });
  });

  it("a chunk's leaf read starts before a list's next read returns", async () => {
    reset();
    // 300 hits, one per block: the first read (256 blocks) gives 256, the next read the rest.
    const hits = await page({ run_id: 'run-b' }, 300);
    expect(hits.length).toBe(300);
    expect(calls.nextv).toBe(2);
    // The leaves of the first 256 are being read (two chunks, two getMany each) when the list reads on.
    const second = calls.log.indexOf('nextv', calls.log.indexOf('nextv') + 1);
    expect(calls.log.slice(0, second).filter((c) => c === 'getMany').length).toBe(4);
    expect(calls.log.indexOf('nextv done', second)).toBeGreaterThan(second);
    expect(calls.seek).toBe(0);
  });

  it('a streaming search keeps the next chunk in flight while the consumer holds this one', async () => {
    reset();
    const gen = searchChunks(store, 'acme', { run_id: 'run-b' }, { order: 'asc', treeSize: SIZE, chunk: 128, readAhead: 128 });
    const first = await gen.next();
    expect(first.done).toBe(false);
    // The first chunk is handed out; the second chunk's leaves are already being read.
    expect(calls.getMany).toBe(4);
    let n = (first.value as unknown[]).length;
    for (let r = await gen.next(); !r.done; r = await gen.next()) n += r.value.length;
    expect(n).toBe(BLOCKS);
  });

  it('only a jump seeks', async () => {
    reset();
    // run-c: blocks 0 and 3,000. run-b, read from block 0, must jump to block 3,000 once.
    const hits = await page({ run_id: 'run-c', session_id: 'every' });
    expect(hits).toEqual([5, 3000 * BLOCK + 5]);
    expect(calls.seek).toBe(1);
  });
});
