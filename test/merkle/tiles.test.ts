/**
 * C2SP tlog-tiles: paths (tiles.json), widths, entry bundles, the tessera
 * testdata log, TileTree and locateNode on a 70,000-leaf tree.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, fromBase64, fromUtf8, toHex, utf8 } from '../../src/bytes/index.js';
import {
  FULL_TILE_BYTES,
  HASH_SIZE,
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  TileTree,
  consistencyProofPlan,
  foldNodes,
  formatEntryBundle,
  formatTileIndex,
  hashesAtLevel,
  inclusionProofPlan,
  locateNode,
  parseEntryBundle,
  parseTilePath,
  perfectRoot,
  proofFromPlan,
  rangeNodes,
  rootFromLeafHashes,
  tilePath,
  tileRoot,
  tileWidth,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
  type TileId,
} from '../../src/merkle/index.js';
import { concatBytes } from '../../src/bytes/index.js';
import { hasher, NaiveTree, readVector, readVectorJson, syntheticLeafHashes } from './helpers.js';

// ---------------------------------------------------------------------------
// tiles.json

type Num = number | string;
interface TilesJson {
  tessera_layout: {
    EntriesPathForLogIndex: { seq: Num; logSize: Num; wantPath: string; seq_evaluated?: number; logSize_evaluated?: number }[];
    EntriesPath: { N: number; p?: number; wantPath: string }[];
    TilePath: { level: number; index: number; p?: number; wantPath: string }[];
    NWithSuffix: { level: number; index: number; p?: number; wantPath: string }[];
    ParseTileLevelIndexPartial: {
      pathLevel: string;
      pathIndex: string;
      wantLevel?: number;
      wantIndex?: number;
      wantIndex_str?: string;
      wantP?: number;
      wantErr?: boolean;
    }[];
  };
  go_sumdb_tlog_v0_7_0: {
    paths: { path: string; tile: { H: number; L: number; N: number; W: number } | null; valid: boolean }[];
  };
  c2sp_example: { index_1234067_path_elements: string; tree_size_70000: string; tree_size_256: string };
}

const T = readVectorJson<TilesJson>('tiles.json');
const L = T.tessera_layout;

/** tessera's convention: p == 0 (or absent) means a full tile. */
const widthOf = (p: number | undefined) => (p === undefined || p === 0 ? TILE_WIDTH : p);

/** A numeric vector field: the *_evaluated copy when the source holds a Go expression. */
function num(v: Num, evaluated: number | undefined): number {
  if (typeof v === 'number') return v;
  expect(evaluated, `Go expression ${v} needs an *_evaluated value`).toBeTypeOf('number');
  return evaluated!;
}

describe('tiles.json: tessera api/layout paths', () => {
  it('EntriesPathForLogIndex: entry index + log size → bundle path (widths from tileWidth)', () => {
    expect(L.EntriesPathForLogIndex.length).toBe(7);
    for (const v of L.EntriesPathForLogIndex) {
      const seq = num(v.seq, v.seq_evaluated);
      const size = num(v.logSize, v.logSize_evaluated);
      const index = Math.floor(seq / TILE_WIDTH);
      const id: TileId = { level: 'entries', index, width: tileWidth(0, index, size) };
      expect(tilePath(id), `${v.seq} @ ${v.logSize}`).toBe(v.wantPath);
      expect(parseTilePath(v.wantPath.slice('tile/'.length))).toEqual(id);
    }
  });

  it('the evaluated Go expressions are what they say', () => {
    const big = L.EntriesPathForLogIndex.find((v) => typeof v.seq === 'string')!;
    expect(big.seq).toBe('123456789 * 256');
    expect(big.seq_evaluated).toBe(123456789 * 256);
    expect(big.logSize_evaluated).toBe(123456790 * 256);
  });

  it('EntriesPath', () => {
    for (const v of L.EntriesPath) {
      const id: TileId = { level: 'entries', index: v.N, width: widthOf(v.p) };
      expect(tilePath(id)).toBe(v.wantPath);
      expect(parseTilePath(v.wantPath.slice('tile/'.length))).toEqual(id);
    }
  });

  it('TilePath', () => {
    for (const v of L.TilePath) {
      const id: TileId = { level: v.level, index: v.index, width: widthOf(v.p) };
      expect(tilePath(id)).toBe(v.wantPath);
      expect(parseTilePath(v.wantPath.slice('tile/'.length))).toEqual(id);
    }
  });

  it('NWithSuffix (the part after the level)', () => {
    for (const v of L.NWithSuffix) {
      const full = tilePath({ level: v.level, index: v.index, width: widthOf(v.p) });
      const prefix = `tile/${v.level}/`;
      expect(full.startsWith(prefix)).toBe(true);
      expect(full.slice(prefix.length)).toBe(v.wantPath);
    }
  });

  it('ParseTileLevelIndexPartial: every case, with the one documented 2^53 deviation', () => {
    expect(L.ParseTileLevelIndexPartial.length).toBe(19);
    const beyondSafe: string[] = [];
    for (const v of L.ParseTileLevelIndexPartial) {
      const got = parseTilePath(`${v.pathLevel}/${v.pathIndex}`);
      const label = `${v.pathLevel}/${v.pathIndex}`;
      if (v.wantErr) {
        expect(got, label).toBeUndefined();
        continue;
      }
      if (v.wantIndex_str !== undefined && !Number.isSafeInteger(Number(v.wantIndex_str))) {
        // Deviation: indexes are JS numbers (safe integers). tessera parses
        // 999999999999999999 as a uint64; we refuse it (no tree below 2^53
        // leaves has such a tile), so the HTTP layer answers 400.
        expect(BigInt(v.wantIndex_str) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
        expect(got, label).toBeUndefined();
        beyondSafe.push(label);
        continue;
      }
      expect(got, label).toEqual({ level: v.wantLevel, index: v.wantIndex, width: widthOf(v.wantP) });
    }
    expect(beyondSafe).toEqual(['63/x999/x999/x999/x999/x999/999.p/255']);
  });

  it('the largest safe tile index still round-trips', () => {
    const id: TileId = { level: 63, index: Number.MAX_SAFE_INTEGER, width: 255 };
    const p = tilePath(id);
    expect(p).toBe('tile/63/x009/x007/x199/x254/x740/991.p/255');
    expect(parseTilePath(p.slice(5))).toEqual(id);
    expect(parseTilePath('63/x009/x007/x199/x254/x740/992.p/255')).toBeUndefined(); // 2^53
  });
});

describe('tiles.json: Go sumdb/tlog v0.7.0 paths', () => {
  const paths = T.go_sumdb_tlog_v0_7_0.paths;

  it('no sumdb path (tile/<H>/<L>/<N>) is mistaken for a C2SP path', () => {
    expect(paths.length).toBe(8);
    for (const v of paths) expect(parseTilePath(v.path.slice('tile/'.length)), v.path).toBeUndefined();
  });

  it('the <N>[.p/<W>] part uses the same index encoding', () => {
    for (const v of paths) {
      const rest = v.path.split('/').slice(3).join('/');
      const got = parseTilePath(`0/${rest}`);
      if (!v.valid) {
        expect(got, v.path).toBeUndefined();
        continue;
      }
      expect(got?.index, v.path).toBe(v.tile!.N);
      // sumdb W is relative to 2^H; only an explicit .p/W is comparable.
      expect(got?.width).toBe(v.path.includes('.p/') ? v.tile!.W : TILE_WIDTH);
    }
  });
});

describe('tiles.json: C2SP worked examples', () => {
  it('1234067 → x001/x234/067, and the spec examples of <N>', () => {
    expect(formatTileIndex(1234067)).toBe(T.c2sp_example.index_1234067_path_elements);
    expect(formatTileIndex(0)).toBe('000');
    expect(formatTileIndex(1)).toBe('001');
    expect(formatTileIndex(1234)).toBe('x001/234');
    expect(formatTileIndex(123456789)).toBe('x123/x456/789');
    expect(formatTileIndex(1000)).toBe('x001/000');
    expect(formatTileIndex(999)).toBe('999');
  });

  it('70,000 leaves: 273 full + 1 partial (112) at level 0, 1 + 1 (17) at level 1, 1 partial (1) at level 2', () => {
    expect(T.c2sp_example.tree_size_70000).toContain('width 112');
    const s = 70_000;
    expect([0, 1, 2, 3].map((l) => hashesAtLevel(l, s))).toEqual([70_000, 273, 1, 0]);
    const widths = (level: number) => {
      const out: number[] = [];
      for (let n = 0; tileWidth(level, n, s) > 0; n++) out.push(tileWidth(level, n, s));
      return out;
    };
    const w0 = widths(0);
    expect(w0.length).toBe(274);
    expect(w0.filter((w) => w === 256).length).toBe(273);
    expect(w0[273]).toBe(112);
    expect(widths(1)).toEqual([256, 17]);
    expect(widths(2)).toEqual([1]);
    expect(widths(3)).toEqual([]);
    expect(tileWidth(0, 274, s)).toBe(0);
    expect(tileWidth(1, 2, s)).toBe(0);
    // The spec's closed form for the rightmost width: floor(s / 256^l) mod 256.
    for (const l of [0, 1, 2]) expect(hashesAtLevel(l, s) % 256).toBe([112, 17, 1][l]);
  });

  it('256 leaves: 1 full level-0 tile and a level-1 partial tile of width 1', () => {
    expect(T.c2sp_example.tree_size_256).toContain('width 1');
    expect(tileWidth(0, 0, 256)).toBe(256);
    expect(tileWidth(0, 1, 256)).toBe(0);
    expect(tileWidth(1, 0, 256)).toBe(1);
    expect(tileWidth(2, 0, 256)).toBe(0);
    expect(hashesAtLevel(1, 256)).toBe(1);
    expect(tileWidth(0, 0, 255)).toBe(255);
    expect(tileWidth(1, 0, 255)).toBe(0);
    expect(tileWidth(0, 0, 0)).toBe(0);
  });

  it('widths stay exact near 2^53', () => {
    const s = Number.MAX_SAFE_INTEGER; // 2^53 − 1
    expect(hashesAtLevel(6, s)).toBe(31); // floor((2^53−1) / 2^48)
    expect(tileWidth(6, 0, s)).toBe(31);
    expect(tileWidth(0, Math.floor(s / 256), s)).toBe(255);
    expect(hashesAtLevel(7, s)).toBe(0);
  });
});

describe('parseTilePath: non-canonical and malformed paths', () => {
  const rejected = [
    '',
    '0',
    '0/',
    '/0/000',
    '0//000',
    '0/000/',
    '00/000',
    '01/000',
    '-0/000',
    '+1/000',
    '64/000',
    '99/000',
    '100/000',
    '1e1/000',
    'entry/000',
    'Entries/000',
    'data/000',
    '0/0',
    '0/1',
    '0/01',
    '0/0001',
    '0/x000/001', // alias of 000/001: formatTileIndex never writes a leading zero group
    '0/x000/x001/002',
    '0/001/002',
    '0/x1/002',
    '0/x0001/002',
    '0/X001/002',
    '0/x001/x002',
    '0/x001/2',
    '0/ 001',
    '0/001 ',
    '0/0x1',
    '0/1e2',
    '0/+01',
    '0/-01',
    '0/١٢٣', // Arabic-Indic digits
    '0/000.p',
    '0/000.p/',
    '0/000.p/0',
    '0/000.p/00',
    '0/000.p/01',
    '0/000.p/256',
    '0/000.p/999',
    '0/000.p/1000',
    '0/000.p/-1',
    '0/000.p/+1',
    '0/000.p/1.5',
    '0/000.P/1',
    '0/000.p.p/1',
    '0/000.p/1/2',
    '0/000.p/1/',
    '0/x001.p/1',
    '0/.p/1',
    'entries/000.p/256',
    'entries/x000/255',
  ];

  it.each(rejected)('rejects %j', (p) => {
    expect(parseTilePath(p)).toBeUndefined();
  });

  it('accepts the canonical neighbours of those', () => {
    expect(parseTilePath('0/000')).toEqual({ level: 0, index: 0, width: 256 });
    expect(parseTilePath('63/000')).toEqual({ level: 63, index: 0, width: 256 });
    expect(parseTilePath('10/x001/000')).toEqual({ level: 10, index: 1000, width: 256 });
    expect(parseTilePath('0/000.p/1')).toEqual({ level: 0, index: 0, width: 1 });
    expect(parseTilePath('0/000.p/255')).toEqual({ level: 0, index: 0, width: 255 });
    expect(parseTilePath('entries/x001/234.p/17')).toEqual({ level: 'entries', index: 1234, width: 17 });
  });

  it('property: tilePath ∘ parseTilePath round-trips every valid TileId', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: MAX_TILE_LEVEL }), fc.constant('entries' as const)),
        fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.maxSafeNat()),
        fc.integer({ min: 1, max: TILE_WIDTH }),
        (level, index, width) => {
          const id: TileId = { level, index, width };
          const p = tilePath(id);
          expect(p.startsWith('tile/')).toBe(true);
          expect(parseTilePath(p.slice(5))).toEqual(id);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: anything parseTilePath accepts is canonical (re-encodes to itself)', () => {
    const seg = fc.oneof(
      fc.constantFrom('000', '001', '999', 'x000', 'x001', 'x999', '0', '00', '0000', 'x00', '.p', '000.p', '001.p', 'entries', '1', '255', '256', '63', '64', '07'),
      fc.stringMatching(/^x?[0-9]{1,4}(\.p)?$/),
    );
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 6 }), (segs) => {
        const s = segs.join('/');
        const got = parseTilePath(s);
        if (got !== undefined) expect(tilePath(got)).toBe(`tile/${s}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('tilePath refuses impossible widths and formatTileIndex impossible indexes', () => {
    for (const width of [0, 257, 1.5, NaN, -1]) expect(() => tilePath({ level: 0, index: 0, width })).toThrow(RangeError);
    for (const n of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(() => formatTileIndex(n)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// Entry bundles

describe('entry bundles', () => {
  it('the spec example: tile/entries/000.p/3 = "one","two","three"', () => {
    const bundle = readVector('tessera-testdata-log/tile/entries/000.p/3');
    expect(toHex(bundle)).toBe('00036f6e65000374776f00057468726565');
    expect(parseEntryBundle(bundle)!.map((e) => fromUtf8(e))).toEqual(['one', 'two', 'three']);
    expect(toHex(formatEntryBundle(['one', 'two', 'three'].map(utf8)))).toBe(toHex(bundle));
  });

  it('lengths are big-endian u16; 65,535 bytes fit and 65,536 do not', () => {
    const e256 = new Uint8Array(256).fill(7);
    const b = formatEntryBundle([e256, new Uint8Array(0)]);
    expect([...b.subarray(0, 2)]).toEqual([0x01, 0x00]);
    expect(b.length).toBe(2 + 256 + 2);
    expect(parseEntryBundle(b)!.map((e) => e.length)).toEqual([256, 0]);
    const max = new Uint8Array(0xffff).fill(1);
    const bm = formatEntryBundle([max]);
    expect([...bm.subarray(0, 2)]).toEqual([0xff, 0xff]);
    expect(parseEntryBundle(bm)![0]!.length).toBe(0xffff);
    expect(() => formatEntryBundle([new Uint8Array(0x10000)])).toThrow(RangeError);
  });

  it('truncated bundles are undefined, never a short read', () => {
    const b = formatEntryBundle(['one', 'two', 'three'].map(utf8));
    for (let cut = 1; cut < b.length; cut++) {
      const ends = [5, 10]; // record boundaries: a cut there is a shorter valid bundle
      const got = parseEntryBundle(b.subarray(0, cut));
      if (ends.includes(cut)) expect(got!.length).toBe(cut === 5 ? 1 : 2);
      else expect(got, `cut at ${cut}`).toBeUndefined();
    }
    expect(parseEntryBundle(new Uint8Array([0x00]))).toBeUndefined();
    expect(parseEntryBundle(new Uint8Array([0xff, 0xff, 0x00]))).toBeUndefined();
    expect(parseEntryBundle(new Uint8Array(0))).toEqual([]);
  });

  it('property: parseEntryBundle ∘ formatEntryBundle is the identity', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (entries) => {
        const got = parseEntryBundle(formatEntryBundle(entries))!;
        expect(got.map(toHex)).toEqual(entries.map(toHex));
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------
// tessera testdata log

/** The root hash of a checkpoint: its third line, standard base64. */
function checkpointRoot(text: string): { origin: string; size: number; root: Uint8Array } {
  const lines = text.split('\n');
  const root = fromBase64(lines[2]!);
  if (root === undefined || root.length !== HASH_SIZE) throw new Error(`bad root line ${lines[2]}`);
  expect(lines[1]).toMatch(/^(0|[1-9][0-9]*)$/);
  return { origin: lines[0]!, size: Number(lines[1]), root };
}

describe('tessera testdata log (15 entries, one checkpoint per size)', () => {
  const cp = (name: string) => checkpointRoot(fromUtf8(readVector(`tessera-testdata-log/${name}`))!);

  it('checkpoint.0 is the empty tree', () => {
    const c = cp('checkpoint.0');
    expect(c.size).toBe(0);
    expect(c.origin).toBe('example.com/log/testdata');
    expect(toHex(c.root)).toBe(toHex(hasher.emptyRoot()));
    expect(toHex(rootFromLeafHashes(hasher, []))).toBe(toHex(c.root));
  });

  const full15 = readVector('tessera-testdata-log/tile/0/000.p/15');

  for (let W = 1; W <= 15; W++) {
    it(`size ${W}: bundle parses, leaf hashes = tile/0/000.p/${W}, root = checkpoint.${W}`, () => {
      const bundle = readVector(`tessera-testdata-log/tile/entries/000.p/${W}`);
      const tile = readVector(`tessera-testdata-log/tile/0/000.p/${W}`);
      const entries = parseEntryBundle(bundle);
      expect(entries).toBeDefined();
      expect(entries!.length).toBe(W);
      expect(tile.length).toBe(W * HASH_SIZE);
      expect(parseTilePath(`entries/000.p/${W}`)).toEqual({ level: 'entries', index: 0, width: W });
      expect(tilePath({ level: 0, index: 0, width: W })).toBe(`tile/0/000.p/${W}`);
      expect(tileWidth(0, 0, W)).toBe(W);

      const leafHashes = entries!.map((e) => hasher.hashLeaf(e));
      expect(toHex(concatBytes(...leafHashes))).toBe(toHex(tile));
      // Partial tiles of a growing log are prefixes of each other.
      expect(toHex(tile)).toBe(toHex(full15.subarray(0, W * HASH_SIZE)));

      const c = cp(`checkpoint.${W}`);
      expect(c.size).toBe(W);
      expect(toHex(rootFromLeafHashes(hasher, leafHashes))).toBe(toHex(c.root));

      // The way the server computes it: right edge folded from tile nodes.
      const tt = new TileTree(hasher, tile);
      expect(tt.width).toBe(W);
      const fromTile = foldNodes(
        hasher,
        rangeNodes(0, W).map((id) => {
          const loc = locateNode(id);
          expect(loc.tileLevel).toBe(0);
          expect(loc.tileIndex).toBe(0);
          return tt.node(loc.start, loc.count);
        }),
      );
      expect(toHex(fromTile)).toBe(toHex(c.root));
    });
  }

  it('the entries are the words the log was built from', () => {
    const words = parseEntryBundle(readVector('tessera-testdata-log/tile/entries/000.p/15'))!.map((e) => fromUtf8(e));
    expect(words[0]).toBe('one');
    expect(words[14]).toBe('fivten');
  });

  it('checkpoint (latest) = checkpoint.15; consistency from every earlier checkpoint verifies', () => {
    const latest = cp('checkpoint');
    expect(latest.size).toBe(15);
    expect(toHex(latest.root)).toBe(toHex(cp('checkpoint.15').root));
    const tt = new TileTree(hasher, full15);
    const node = (id: NodeId) => {
      const loc = locateNode(id);
      return tt.node(loc.start, loc.count);
    };
    for (let m = 0; m <= 15; m++) {
      const proof = proofFromPlan(hasher, consistencyProofPlan(m, 15), node);
      verifyConsistency(hasher, m, 15, proof, cp(`checkpoint.${m}`).root, latest.root);
    }
  });
});

// ---------------------------------------------------------------------------
// TileTree

describe('TileTree', () => {
  const leaves = syntheticLeafHashes(hasher, TILE_WIDTH);
  const data = concatBytes(...leaves);
  const full = new TileTree(hasher, data);

  it('node(start, count) = perfectRoot for every aligned run of a full tile', () => {
    let checked = 0;
    for (let r = 0; r <= TILE_HEIGHT; r++) {
      const count = 2 ** r;
      for (let start = 0; start + count <= TILE_WIDTH; start += count) {
        expect(bytesEqual(full.node(start, count), perfectRoot(hasher, leaves, start, count)), `${start}+${count}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(511);
  });

  it('root() of a full tile = perfectRoot = tileRoot = naive MTH of its 256 hashes', () => {
    const want = new NaiveTree(hasher, leaves).mth(0, 256);
    expect(toHex(full.root())).toBe(toHex(want));
    expect(toHex(tileRoot(hasher, leaves))).toBe(toHex(want));
    expect(toHex(rootFromLeafHashes(hasher, leaves))).toBe(toHex(want));
    expect(data.length).toBe(FULL_TILE_BYTES);
  });

  it('a tile built on an earlier version of itself (the right edge growing flush by flush) equals one built from scratch', () => {
    const bytesOf = (t: TileTree) => {
      // Every node the tile has, layer by layer: what a reader can get out of it.
      const out: string[] = [];
      for (let r = 0; r <= TILE_HEIGHT; r++)
        for (let start = 0; start + 2 ** r <= t.width; start += 2 ** r) out.push(toHex(t.node(start, 2 ** r)));
      return out;
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (steps) => {
        let prev: TileTree | undefined;
        let width = 0;
        for (const k of steps) {
          width = Math.min(TILE_WIDTH, width + k);
          const grown = new TileTree(hasher, data.subarray(0, width * HASH_SIZE), prev);
          expect(bytesOf(grown)).toEqual(bytesOf(new TileTree(hasher, data.subarray(0, width * HASH_SIZE))));
          prev = grown;
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a partial tile of every width 1..255 yields exactly the complete nodes, equal to the full tile', () => {
    const failures: string[] = [];
    let present = 0;
    for (let w = 1; w < TILE_WIDTH; w++) {
      const t = new TileTree(hasher, data.subarray(0, w * HASH_SIZE));
      expect(t.width).toBe(w);
      expect(() => t.root()).toThrow(RangeError);
      for (let r = 0; r <= TILE_HEIGHT; r++) {
        const count = 2 ** r;
        for (let start = 0; start < TILE_WIDTH; start += count) {
          let got: Uint8Array | RangeError;
          try {
            got = t.node(start, count);
          } catch (e) {
            if (!(e instanceof RangeError)) throw e;
            got = e;
          }
          const complete = start + count <= w;
          if (complete) present++;
          if (complete ? !(got instanceof Uint8Array && bytesEqual(got, full.node(start, count))) : !(got instanceof RangeError))
            failures.push(`w=${w} ${start}+${count}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Σ_w Σ_r floor(w / 2^r) complete nodes across the 255 partial widths.
    let want = 0;
    for (let w = 1; w < TILE_WIDTH; w++) for (let r = 0; r <= TILE_HEIGHT; r++) want += Math.floor(w / 2 ** r);
    expect(present).toBe(want);
  });

  it('bytes(w) is the first w tile hashes, never the inner nodes stored after them', () => {
    const t = new TileTree(hasher, data.subarray(0, 15 * HASH_SIZE));
    expect(bytesEqual(t.bytes(), data.subarray(0, 15 * HASH_SIZE))).toBe(true);
    expect(bytesEqual(t.bytes(7), data.subarray(0, 7 * HASH_SIZE))).toBe(true);
    expect(() => t.bytes(16)).toThrow(RangeError);
    expect(() => t.bytes(0)).toThrow(RangeError);
    expect(() => t.bytes(1.5)).toThrow(RangeError);
  });

  it('refuses misaligned, non-power-of-two, empty or oversized requests', () => {
    expect(() => full.node(1, 2)).toThrow(RangeError);
    expect(() => full.node(4, 8)).toThrow(RangeError);
    expect(() => full.node(0, 3)).toThrow(RangeError);
    expect(() => full.node(0, 6)).toThrow(RangeError);
    expect(() => full.node(0, 0)).toThrow(RangeError);
    expect(() => full.node(0, 512)).toThrow(RangeError);
    expect(() => full.node(-1, 1)).toThrow(RangeError);
    expect(() => full.node(256, 1)).toThrow(RangeError);
    expect(() => full.node(0.5, 1)).toThrow(RangeError);
  });

  it('refuses tile data that is not 1..256 whole hashes', () => {
    for (const len of [0, 1, 31, 33, 64 + 1, FULL_TILE_BYTES + HASH_SIZE])
      expect(() => new TileTree(hasher, new Uint8Array(len)), `${len}`).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// locateNode and a 70,000-leaf tree served from tiles

describe('locateNode', () => {
  it('maps nodes to tile runs (hand-computed)', () => {
    expect(locateNode({ level: 0, index: 69_999 })).toEqual({ tileLevel: 0, tileIndex: 273, start: 111, count: 1 });
    expect(locateNode({ level: 3, index: 5 })).toEqual({ tileLevel: 0, tileIndex: 0, start: 40, count: 8 });
    expect(locateNode({ level: 7, index: 3 })).toEqual({ tileLevel: 0, tileIndex: 1, start: 128, count: 128 });
    expect(locateNode({ level: 8, index: 3 })).toEqual({ tileLevel: 1, tileIndex: 0, start: 3, count: 1 });
    expect(locateNode({ level: 9, index: 200 })).toEqual({ tileLevel: 1, tileIndex: 1, start: 144, count: 2 });
    expect(locateNode({ level: 16, index: 0 })).toEqual({ tileLevel: 2, tileIndex: 0, start: 0, count: 1 });
    // Exact near 2^53 (no 32-bit truncation).
    expect(locateNode({ level: 0, index: 2 ** 53 - 1 })).toEqual({
      tileLevel: 0,
      tileIndex: 2 ** 45 - 1,
      start: 255,
      count: 1,
    });
    expect(locateNode({ level: 52, index: 1 })).toEqual({ tileLevel: 6, tileIndex: 0, start: 16, count: 16 });
  });
});

describe('a 70,000-leaf tree served from tiles', () => {
  const N = 70_000;
  // Small leaves: d_i = u32be(i).
  const leafHashes: Uint8Array[] = new Array(N);
  for (let i = 0; i < N; i++) leafHashes[i] = hasher.hashLeaf(new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]));

  // Naive: every complete node, level by level, by pairing.
  const levels: Uint8Array[][] = [leafHashes];
  while (levels[levels.length - 1]!.length > 1) {
    const prev = levels[levels.length - 1]!;
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < prev.length; i += 2) next.push(hasher.hashChildren(prev[i]!, prev[i + 1]!));
    levels.push(next);
  }

  // Tiles, built the way a log does: level-0 tiles from leaf hashes; level L+1
  // from the roots of the full tiles at level L (partial tiles never go up).
  const tiles: TileTree[][] = [];
  let base = leafHashes;
  for (let level = 0; base.length > 0; level++) {
    const row: TileTree[] = [];
    for (let n = 0; n * TILE_WIDTH < base.length; n++)
      row.push(new TileTree(hasher, concatBytes(...base.slice(n * TILE_WIDTH, (n + 1) * TILE_WIDTH))));
    tiles.push(row);
    base = row.filter((t) => t.width === TILE_WIDTH).map((t) => t.root());
  }
  const lookup = (id: NodeId): Uint8Array => {
    const loc = locateNode(id);
    const t = tiles[loc.tileLevel]?.[loc.tileIndex];
    if (!t) throw new Error(`no tile for ${id.level}/${id.index}`);
    return t.node(loc.start, loc.count);
  };
  const naive = new NaiveTree(hasher, leafHashes);
  const root = naive.mth(0, N);

  it('the tiles have the widths tileWidth predicts', () => {
    expect(tiles.map((row) => row.length)).toEqual([274, 2, 1]);
    for (let l = 0; l < tiles.length; l++)
      tiles[l]!.forEach((t, n) => expect(t.width, `tile ${l}/${n}`).toBe(tileWidth(l, n, N)));
  });

  it('every complete node (levels 0..16) read through locateNode equals the naive node', () => {
    expect(levels.length).toBe(17); // 2^16 ≤ 70,000 < 2^17
    let checked = 0;
    const failures: string[] = [];
    for (let h = 0; h < levels.length; h++) {
      expect(levels[h]!.length).toBe(Math.floor(N / 2 ** h));
      for (let k = 0; k < levels[h]!.length; k++) {
        const id = { level: h, index: k };
        const loc = locateNode(id);
        if (loc.tileLevel !== Math.floor(h / TILE_HEIGHT) || loc.count !== 2 ** (h % TILE_HEIGHT)) failures.push(`shape ${h}/${k}`);
        if (loc.start + loc.count > tileWidth(loc.tileLevel, loc.tileIndex, N)) failures.push(`outside tile ${h}/${k}`);
        if (!bytesEqual(lookup(id), levels[h]![k]!)) failures.push(`hash ${h}/${k}`);
        checked++;
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(levels.reduce((s, l) => s + l.length, 0));
  });

  it('the root folded from tile nodes (compact range) = rootFromLeafHashes = naive MTH', () => {
    const ids = rangeNodes(0, N);
    expect(ids.map((n) => n.level)).toEqual([16, 12, 8, 6, 5, 4]); // 70,000 = 0b1_0001_0001_0111_0000
    expect(toHex(foldNodes(hasher, ids.map(lookup)))).toBe(toHex(root));
    expect(toHex(rootFromLeafHashes(hasher, leafHashes))).toBe(toHex(root));
  });

  it('inclusion and consistency proofs built from tiles equal the naive ones and verify', () => {
    const indexes = [0, 1, 255, 256, 65_535, 65_536, 69_887, 69_888, 69_999, 12_345, 54_321];
    for (const i of indexes) {
      const proof = proofFromPlan(hasher, inclusionProofPlan(i, N), lookup);
      expect(proof.map(toHex), `index ${i}`).toEqual(naive.path(i, 0, N).map(toHex));
      verifyInclusion(hasher, i, N, leafHashes[i]!, proof, root);
    }
    for (const m of [1, 255, 256, 257, 65_536, 69_888, 69_999]) {
      const proof = proofFromPlan(hasher, consistencyProofPlan(m, N), lookup);
      expect(proof.map(toHex), `old size ${m}`).toEqual(naive.proof(m, N).map(toHex));
      verifyConsistency(hasher, m, N, proof, naive.mth(0, m), root);
    }
  });
});
