/**
 * C2SP tlog-tiles (v0.1.0) coordinates, height 8: paths, widths, and the
 * mapping from tree nodes to the tile hashes they are built from.
 */

import { HASH_SIZE, type Hasher } from './hasher.js';
import { pow2 } from './math.js';
import { perfectRoot, type NodeId } from './tree.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** A full hash tile: 256 × 32 bytes. */
export const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** Tile levels 0..63 are valid in paths (C2SP); with 256-wide tiles only 0..6 can hold data below 2^53. */
export const MAX_TILE_LEVEL = 63;

/** A tile or entry bundle. `width` 256 is full (no `.p/` suffix); 1..255 is partial. */
export interface TileId {
  readonly level: number | 'entries';
  readonly index: number;
  readonly width: number;
}

/** Tile index N in `x`-prefixed groups of three digits: 1234067 → "x001/x234/067". */
export function formatTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad tile index ${n}`);
  let s = String(n % 1000).padStart(3, '0');
  let rest = Math.floor(n / 1000);
  while (rest > 0) {
    s = `x${String(rest % 1000).padStart(3, '0')}/${s}`;
    rest = Math.floor(rest / 1000);
  }
  return s;
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(t: TileId): string {
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH) throw new RangeError(`bad tile width ${t.width}`);
  const suffix = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  return `tile/${t.level}/${formatTileIndex(t.index)}${suffix}`;
}

const GROUP = /^x\d{3}$/;
const LAST = /^\d{3}$/;

/**
 * Parses the part of a path after `tile/`, rejecting every non-canonical form
 * (missing `x`, 4-digit groups, `0` for `000`, level > 63, `.p/0`, `.p/256`,
 * leading zeros). Returns undefined rather than throwing: the HTTP layer
 * answers 400 for undefined.
 */
export function parseTilePath(rest: string): TileId | undefined {
  const parts = rest.split('/');
  if (parts.length < 2) return undefined;
  const levelText = parts[0]!;
  let level: number | 'entries';
  if (levelText === 'entries') level = 'entries';
  else {
    if (!/^(0|[1-9]\d?)$/.test(levelText)) return undefined;
    level = Number(levelText);
    if (level > MAX_TILE_LEVEL) return undefined;
  }
  let width = TILE_WIDTH;
  let groups = parts.slice(1);
  const n = groups.length;
  // A partial tile ends in ".../<NNN>.p/<W>": the last segment is W.
  if (n >= 2 && groups[n - 2]!.endsWith('.p')) {
    const w = groups[n - 1]!;
    if (!/^[1-9]\d{0,2}$/.test(w)) return undefined;
    width = Number(w);
    if (width >= TILE_WIDTH) return undefined;
    groups = [...groups.slice(0, n - 2), groups[n - 2]!.slice(0, -2)];
  }
  // formatTileIndex never emits a leading zero group: "x000/001" is an alias of "001".
  if (groups.length > 1 && groups[0] === 'x000') return undefined;
  let index = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    const last = i === groups.length - 1;
    if (last ? !LAST.test(g) : !GROUP.test(g)) return undefined;
    index = index * 1000 + Number(last ? g : g.slice(1));
  }
  if (!Number.isSafeInteger(index)) return undefined;
  return { level, index, width };
}

/** Number of hashes at tile level `level` for a tree of `treeSize` leaves: floor(size / 256^level). */
export function hashesAtLevel(level: number, treeSize: number): number {
  return Math.floor(treeSize / pow2(TILE_HEIGHT * level));
}

/**
 * Width of tile (level, index) in a tree of treeSize leaves: 256 if full, the
 * partial width, or 0 if the tile does not exist (must not be served).
 * Entry bundles use level 0.
 */
export function tileWidth(level: number, index: number, treeSize: number): number {
  const count = hashesAtLevel(level, treeSize);
  const start = index * TILE_WIDTH;
  if (count <= start) return 0;
  return Math.min(TILE_WIDTH, count - start);
}

/** Where a complete-subtree node lives: 2^r consecutive hashes of one tile. */
export interface NodeLocation {
  readonly tileLevel: number;
  readonly tileIndex: number;
  /** Offset of the first hash inside the tile. */
  readonly start: number;
  /** 2^r hashes, r = node level mod 8. */
  readonly count: number;
}

/**
 * Tree level h is stored in tile level floor(h/8); node (h, k) with h = 8L + r
 * is the perfect subtree over tile-level-L hashes [k·2^r, (k+1)·2^r).
 */
export function locateNode(id: NodeId): NodeLocation {
  const tileLevel = Math.floor(id.level / TILE_HEIGHT);
  const r = id.level % TILE_HEIGHT;
  const first = id.index * pow2(r);
  return { tileLevel, tileIndex: Math.floor(first / TILE_WIDTH), start: first % TILE_WIDTH, count: pow2(r) };
}

/**
 * The whole internal tree of one tile, computed once (≤ 255 hashes) so that
 * every node inside it is a lookup. Tiles are cached in this form; a tile of
 * width W only yields nodes whose hashes are complete within W.
 */
export class TileTree {
  /**
   * Every node of the tile, layer by layer (height 0 = the tile's hashes),
   * in one buffer. One object per tile, not one per node: the log keeps
   * thousands of tiles cached, and 511 small Uint8Arrays each made the heap
   * grow ~300 bytes per logged entry, which every full GC had to mark.
   */
  private readonly nodes: Uint8Array;
  /** offsets[r]: byte offset of height r; the layer holds floor(width / 2^r) nodes. */
  private readonly offsets: number[];
  readonly width: number;

  /**
   * `prefix`: an earlier version of the same tile (a partial tile only
   * grows, and `data` starts with its hashes). Every node complete in it
   * is complete and equal here, so only the nodes the new hashes complete
   * are computed: a flush that adds k hashes to the right edge's partial
   * tile costs about k hashes, not one per node of the tile.
   */
  constructor(hasher: Hasher, data: Uint8Array, prefix?: TileTree) {
    if (data.length % HASH_SIZE !== 0 || data.length === 0 || data.length > FULL_TILE_BYTES)
      throw new RangeError(`tile data of ${data.length} bytes is not 1..256 hashes`);
    this.width = data.length / HASH_SIZE;
    let total = 0;
    this.offsets = [];
    for (let n = this.width; n >= 1; n = Math.floor(n / 2)) {
      this.offsets.push(total * HASH_SIZE);
      total += n;
    }
    this.nodes = new Uint8Array(total * HASH_SIZE);
    this.nodes.set(data, 0);
    const reuse = prefix !== undefined && prefix.width <= this.width;
    // A cheap guard on the contract: the prefix's last hash must be where `data` has it.
    if (reuse) {
      const at = (prefix.width - 1) * HASH_SIZE;
      for (let b = 0; b < HASH_SIZE; b++)
        if (prefix.nodes[at + b] !== data[at + b]) throw new RangeError('the prefix tile is not a prefix of this tile');
    }
    for (let r = 1; r < this.offsets.length; r++) {
      const below = this.offsets[r - 1]!;
      const at = this.offsets[r]!;
      const n = this.width >>> r;
      let i = 0;
      if (reuse && r < prefix.offsets.length) {
        i = prefix.width >>> r;
        this.nodes.set(prefix.nodes.subarray(prefix.offsets[r]!, prefix.offsets[r]! + i * HASH_SIZE), at);
      }
      for (; i < n; i++) {
        const left = this.nodes.subarray(below + 2 * i * HASH_SIZE, below + (2 * i + 1) * HASH_SIZE);
        const right = this.nodes.subarray(below + (2 * i + 1) * HASH_SIZE, below + (2 * i + 2) * HASH_SIZE);
        this.nodes.set(hasher.hashChildren(left, right), at + i * HASH_SIZE);
      }
    }
  }

  /** Hash of the perfect subtree over tile hashes [start, start+count). */
  node(start: number, count: number): Uint8Array {
    let r = 0;
    while (pow2(r) < count) r++;
    // A count that is not a power of two would silently read the next larger node.
    const i = start / count;
    if (pow2(r) !== count || r >= this.offsets.length || !Number.isInteger(i) || i < 0 || i >= this.width >>> r)
      throw new RangeError(`tile of width ${this.width} has no node at ${start}+${count}`);
    const at = this.offsets[r]! + i * HASH_SIZE;
    return this.nodes.subarray(at, at + HASH_SIZE);
  }

  /** The tile's first `width` hashes as bytes (a partial tile is a prefix of the full one). */
  bytes(width: number = this.width): Uint8Array {
    // Past `width` the buffer holds the inner nodes, never tile hashes.
    if (!Number.isInteger(width) || width < 1 || width > this.width) throw new RangeError(`tile of width ${this.width} has no prefix of ${width} hashes`);
    return this.nodes.subarray(0, width * HASH_SIZE);
  }

  /** The root of a full tile: the hash that goes into the level above. */
  root(): Uint8Array {
    if (this.width !== TILE_WIDTH) throw new RangeError('only a full tile has a root in the level above');
    return this.node(0, TILE_WIDTH);
  }
}

/** Root of the perfect subtree over `hashes` (a full tile's 256 hashes → its level-above hash). */
export function tileRoot(hasher: Hasher, hashes: readonly Uint8Array[]): Uint8Array {
  return perfectRoot(hasher, hashes, 0, hashes.length);
}

/** Serializes entries as a tlog-tiles entry bundle: `u16be(len) ‖ entry` each. */
export function formatEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new RangeError(`entry of ${e.length} bytes exceeds 65,535`);
    len += 2 + e.length;
  }
  const out = new Uint8Array(len);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Splits an entry bundle; undefined if a length runs past the end. */
export function parseEntryBundle(bundle: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bundle.length) {
    if (o + 2 > bundle.length) return undefined;
    const len = (bundle[o]! << 8) | bundle[o + 1]!;
    if (o + 2 + len > bundle.length) return undefined;
    out.push(bundle.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}
