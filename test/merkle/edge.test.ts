/**
 * The right edge as the sequencer drives it: leaves appended to a clone in
 * batches of every size, one clone in four thrown away (a failed commit),
 * partial tiles built on their previous version. Every partial tile must
 * equal one built from scratch, and the root the tree's MTH.
 */

import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes/index.js';
import { hashesAtLevel, rootFromLeafHashes, TILE_WIDTH, TileEdge, TileTree } from '../../src/merkle/index.js';
import { hasher, syntheticLeafHashes } from './helpers.js';

/** Every node of a tile, layer by layer, as one buffer. */
function nodesOf(t: TileTree): Buffer {
  const out: Uint8Array[] = [];
  for (let count = 1; count <= t.width; count *= 2) for (let start = 0; start + count <= t.width; start += count) out.push(t.node(start, count));
  return Buffer.concat(out);
}

describe('TileEdge', () => {
  const pool = syntheticLeafHashes(hasher, 70_000);

  for (const seed of [1, 42]) {
    it(`seed ${seed}: partial tiles built on their previous version equal fresh ones, through discarded commits`, () => {
      // mulberry32: small, seeded, 32-bit exact.
      let a = seed;
      const next = (n: number) => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) % n;
      };
      let edge = TileEdge.empty(hasher);
      let size = 0;
      let checkpoints = 0;
      let discarded = 0;
      while (size < 66_000) {
        const k = 1 + next(next(10) === 0 ? 700 : 40);
        const c = edge.clone();
        for (let i = 0; i < k; i++) c.append(pool[size + i]!);
        c.takeChanges();
        const partial = c.partialTiles();
        const root = c.root(partial);
        if (next(4) === 0) {
          discarded++;
          continue;
        }
        edge = c;
        size += k;
        for (const t of partial) {
          expect(t.index).toBe(Math.floor(hashesAtLevel(t.level, size) / TILE_WIDTH));
          expect(t.tree.width).toBe(hashesAtLevel(t.level, size) % TILE_WIDTH);
          expect(nodesOf(t.tree).equals(nodesOf(new TileTree(hasher, t.data)))).toBe(true);
        }
        if (next(40) === 0) {
          expect(toHex(root)).toBe(toHex(rootFromLeafHashes(hasher, pool.slice(0, size))));
          checkpoints++;
        }
      }
      expect(toHex(edge.root())).toBe(toHex(rootFromLeafHashes(hasher, pool.slice(0, size))));
      expect(checkpoints).toBeGreaterThan(3);
      expect(discarded).toBeGreaterThan(50);
    });
  }

  it('refuses a prefix that is not one', () => {
    const a = new TileTree(hasher, pool.slice(0, 5).reduce((acc, h) => new Uint8Array([...acc, ...h]), new Uint8Array()));
    const other = pool.slice(100, 110).reduce((acc, h) => new Uint8Array([...acc, ...h]), new Uint8Array());
    expect(() => new TileTree(hasher, other, a)).toThrow(RangeError);
  });
});
