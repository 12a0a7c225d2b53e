/**
 * Start-up reads the last stored leaf's logged_at (logged_at never goes
 * back, even if the clock does): with one seek, past any pruned tail.
 */

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { LogStore } from '../../src/storage/store.js';
import { tempDir } from '../helpers.js';

describe('LogStore.lastStoredEntry', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds the last stored leaf below the bound, skipping indexes without one', async () => {
    dir = await tempDir('tlog-last-');
    const store = await LogStore.open(dir);
    try {
      expect(await store.lastStoredEntry(10)).toBeUndefined();
      const entry = (index: number) => ({ index, leaf: new Uint8Array([index]), leafHash: new Uint8Array(32).fill(index) });
      const head = { origin: 'o', treeSize: 300, rootHash: new Uint8Array(32), checkpoint: '' };
      // 0..2 stored, 3..299 without leaves (pruned, or never written), and one at 256 (a second byte of the key).
      await store.commit({ entries: [entry(0), entry(1), entry(2), { ...entry(256 % 256), index: 256 }], tiles: [], idem: [], head });
      const last = async (end: number) => {
        const e = await store.lastStoredEntry(end);
        return e && [e[0], [...e[1]]];
      };
      expect(await last(300)).toEqual([256, [0]]);
      expect(await last(256)).toEqual([2, [2]]);
      expect(await last(2)).toEqual([1, [1]]);
      expect(await store.lastStoredEntry(0)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
