/**
 * The purge's repeat (vault.ts purgeRange): LevelDB picks a compaction's
 * depth once, so a pass is repeated while a table file overlapping the
 * range ended up deeper than any was before it. The depths are stubbed
 * here (the race is between LevelDB's own threads); table-levels.test.ts
 * reads real ones.
 */

import { describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { tempDir } from '../helpers.js';

type Inner = { compactRange(): Promise<void>; deepestLevel(): number | undefined; purgeRange(r: { gte: Uint8Array; lt: Uint8Array }): Promise<void> };

describe('purge passes', () => {
  const cases: [string, (number | undefined)[], number][] = [
    ['the range stays at its level: one pass', [2, 2], 1],
    ['it went shallower: one pass', [3, 1], 1],
    ['an automatic compaction moved it a level down: a second pass, then done', [2, 3, 3, 3], 2],
    ['level 0 counts as 1 (LevelDB compacts down to level 1 anyway)', [0, 1], 1],
    ['LevelDB would not say: one pass, as before', [undefined, 5], 1],
    ['deeper every time: at most 7 passes', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 7],
  ];
  for (const [name, depths, passes] of cases)
    it(name, async () => {
      const v = await Vault.open(await tempDir('tlog-passes-'), { masterKey: new Uint8Array(32).fill(1), retentionMs: 1000 });
      const inner = v as unknown as Inner;
      let compactions = 0;
      let read = 0;
      inner.compactRange = async () => {
        compactions++;
      };
      inner.deepestLevel = () => depths[Math.min(read++, depths.length - 1)];
      await inner.purgeRange({ gte: new Uint8Array([0x76]), lt: new Uint8Array([0x77]) });
      expect(compactions).toBe(passes);
      await v.close();
    });
});
