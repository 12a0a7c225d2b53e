/**
 * The byte search's LevelDB decoder against real LevelDB files: a value
 * that snappy compresses to back-references, and one that a raw search of
 * the table file misses, are found once decoded.
 */

import { rm } from 'node:fs/promises';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { byteSearch } from './helpers.js';
import { snappyDecompress } from './leveldb-files.js';

describe('byte search through LevelDB encodings', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('decompresses snappy: literals, and copies that overlap their output', () => {
    // "abcabcabcabcX": a 3-byte literal, then a copy of 9 at offset 3 (kind 1: length 4..11), then a literal.
    const src = new Uint8Array([13, (3 - 1) << 2, 0x61, 0x62, 0x63, ((9 - 4) << 2) | 1, 3, 0, 0x58]);
    expect(new TextDecoder().decode(snappyDecompress(src))).toBe('abcabcabcabcX');
  });

  it('finds values that snappy compressed and keys that share a prefix, which a raw search misses', async () => {
    dir = await tempDir('tlog-ldb-');
    const db = new Level<string, string>(dir, { compression: true });
    await db.open();
    // The needle repeats an earlier value's text, so snappy stores it as a back-reference.
    const needle = 'needle-q8Zr3xK2-example.org';
    const ops = [];
    for (let i = 0; i < 50; i++) ops.push({ type: 'put' as const, key: `k${String(i).padStart(4, '0')}`, value: `${needle}/${i}` });
    // A key that shares its first bytes with the key before it: stored without them.
    ops.push({ type: 'put' as const, key: `zz-${needle}-a`, value: 'x' }, { type: 'put' as const, key: `zz-${needle}-b`, value: 'y' });
    await db.batch(ops);
    await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\u0000', '\uffff');
    await db.close();

    const rawOnly = async (n: string) => {
      const { readdir, readFile } = await import('node:fs/promises');
      let hits = 0;
      for (const f of await readdir(dir!)) if (f.endsWith('.ldb') && (await readFile(`${dir}/${f}`)).includes(Buffer.from(n))) hits++;
      return hits;
    };
    // The premise: a raw search of the table finds the needle fewer times than it is stored (most copies are compressed away).
    expect(await rawOnly(`${needle}/49`)).toBe(0);
    expect(await byteSearch(dir, { tail: `${needle}/49` })).toEqual([expect.stringMatching(/^tail in \/\d+\.ldb$/)]);
    expect(await rawOnly(`zz-${needle}-b`)).toBe(0);
    // (The MANIFEST names it too, as the table's largest key.)
    expect(await byteSearch(dir, { key: `zz-${needle}-b` })).toEqual(expect.arrayContaining([expect.stringMatching(/^key in \/\d+\.ldb$/)]));
  });
});
