/**
 * The purge's view of where LevelDB keeps a key range (table-levels.ts),
 * read from a real LevelDB's `leveldb.sstables`.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deepestLevelOverlapping } from '../../src/vault/table-levels.js';

const key = (a: number, b: number, tail = 0xff) => new Uint8Array([0x76, a, b, 0x5c, 0x0a, tail]);
const range = (a: number) => ({ gte: new Uint8Array([0x76, a]), lt: new Uint8Array([0x76, a, 0xff]) });

describe('deepestLevelOverlapping', () => {
  let dir: string;
  let db: Level<Uint8Array, Uint8Array>;
  const sstables = () => (db as unknown as { getProperty(p: string): string }).getProperty('leveldb.sstables');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tlog-levels-'));
    db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
  });
  afterAll(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the level of the files that hold a range, and none for a range no file spans', async () => {
    expect(deepestLevelOverlapping(sstables(), range(1))).toBe(-1);
    // Keys 0x76 0x01..0x08 …, compacted to the bottom; then 0x76 0x20 … flushed above them.
    for (let a = 1; a <= 8; a++) for (let b = 0; b < 200; b++) await db.put(key(a, b), new Uint8Array(1000));
    await (db as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
    const bottom = deepestLevelOverlapping(sstables(), range(3));
    expect(bottom).toBeGreaterThanOrEqual(1);
    for (let b = 0; b < 50; b++) await db.put(key(0x20, b), new Uint8Array(100));
    await (db as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0, 1]));
    const top = deepestLevelOverlapping(sstables(), range(0x20));
    expect(top).toBeGreaterThanOrEqual(0);
    // Each range is found where its own files are; a gap between them has none.
    expect(deepestLevelOverlapping(sstables(), range(3))).toBe(bottom);
    expect(deepestLevelOverlapping(sstables(), range(0x40))).toBe(-1);
    expect(deepestLevelOverlapping(sstables(), { gte: new Uint8Array([0]), lt: new Uint8Array([0xff]) })).toBe(Math.max(bottom, top));
  });

  it('reads escaped and printable key bytes alike', () => {
    const text = ['--- level 0 ---', '--- level 1 ---', " 9:100['v\\x01a' @ 3 : 1 .. 'v\\x01z' @ 9 : 1]", '--- level 2 ---', " 5:100['v\\x02\\x00' @ 1 : 1 .. 'v\\x02\\xff' @ 2 : 1]"].join('\n');
    expect(deepestLevelOverlapping(text, { gte: new Uint8Array([0x76, 1, 0x62]), lt: new Uint8Array([0x76, 1, 0x63]) })).toBe(1);
    expect(deepestLevelOverlapping(text, { gte: new Uint8Array([0x76, 2]), lt: new Uint8Array([0x76, 3]) })).toBe(2);
    expect(deepestLevelOverlapping(text, { gte: new Uint8Array([0x76, 1, 0x7b]), lt: new Uint8Array([0x76, 2]) })).toBe(-1);
    expect(deepestLevelOverlapping(text, { gte: new Uint8Array([0x76]), lt: new Uint8Array([0x77]) })).toBe(2);
  });
});
