/**
 * A list whose blocks take more than one native read of the iterator's byte
 * budget: classic-level ends a nextv early once 16 KiB by default are read,
 * and a stream that took that short batch for the end of its list dropped
 * every later block (a 1M-entry export stopped at 202,240 rows). Built
 * straight in storage (index keys and leaves), so 3,000 blocks take no
 * appends.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK, encodePostings, LIST, listPrefix, tenantPrefix, valueBytes, VALUE_BYTES, withBlock } from '../../src/query/keys.js';
import { search } from '../../src/query/search.js';
import { entryKey } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { tempDir } from '../helpers.js';

const BLOCKS = 3_000;
const value = `invoice/${'x'.repeat(VALUE_BYTES - 9)}`; // 199 bytes: the longest value a key holds whole
let dir: string;
let store: LogStore;

beforeAll(async () => {
  dir = await tempDir('tlog-lists-');
  store = await LogStore.open(join(dir, 'log'));
  const prefix = listPrefix(tenantPrefix('acme'), LIST.target, valueBytes(value));
  const all = listPrefix(tenantPrefix('acme'), LIST.all);
  const batch = store.db.batch();
  for (let b = 0; b < BLOCKS; b++) {
    // Members 3 and 200 of every block: two entries per block, 6,000 in all.
    batch.put(withBlock(prefix, b), encodePostings([3, 200]));
    batch.put(withBlock(all, b), encodePostings([3, 200]));
    batch.put(entryKey(b * BLOCK + 3), new Uint8Array([1]));
    batch.put(entryKey(b * BLOCK + 200), new Uint8Array([2]));
  }
  await batch.write();
});
afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function indexes(filter: Record<string, string>, order: 'asc' | 'desc'): Promise<number[]> {
  const out: number[] = [];
  for await (const h of search(store, 'acme', filter, { order, treeSize: BLOCKS * BLOCK })) out.push(h.index);
  return out;
}

describe('long posting lists', () => {
  const every = Array.from({ length: BLOCKS }, (_, b) => [b * BLOCK + 3, b * BLOCK + 200]).flat();

  it('a list of long values is read to its end, both ways', async () => {
    expect(await indexes({ target: value }, 'asc')).toEqual(every);
    expect(await indexes({ target: value }, 'desc')).toEqual([...every].reverse());
  });

  it("the tenant's list of all entries is read to its end", async () => {
    expect(await indexes({}, 'asc')).toEqual(every);
  });
});
