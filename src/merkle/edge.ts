/**
 * The right edge of a tiled tree: the partial (rightmost, not yet full) tile
 * at every tile level. It is all a sequencer needs in memory to append
 * leaves, emit the tiles that change, and compute the root — every node of
 * the root's compact range lies in these partial tiles — so start-up reads
 * at most one tile per level instead of replaying the log.
 */

import { concatBytes } from '../bytes/index.js';
import { HASH_SIZE, type Hasher } from './hasher.js';
import { hashesAtLevel, locateNode, TILE_WIDTH, TileTree } from './tiles.js';
import { foldNodes, rangeNodes } from './tree.js';

export interface EdgeTile {
  readonly level: number;
  readonly index: number;
  readonly tree: TileTree;
  /** The tile's hashes, 32·width bytes. */
  readonly data: Uint8Array;
}

export class TileEdge {
  private size_: number;
  /** levels[L]: hashes of the partial tile at tile level L (0..255 of them). */
  private readonly levels: Uint8Array[][];
  /** Tiles that became full since the last `takeChanges`. */
  private completed: EdgeTile[] = [];
  private dirty = new Set<number>();
  /**
   * The partial tile last built for each level. It stays valid while its
   * width matches the level's hash count, and until its tile fills it is
   * the prefix the next version is built on.
   */
  private built = new Map<number, EdgeTile>();

  private constructor(private readonly hasher: Hasher, size: number, levels: Uint8Array[][]) {
    this.size_ = size;
    this.levels = levels;
  }

  static empty(hasher: Hasher): TileEdge {
    return new TileEdge(hasher, 0, [[]]);
  }

  /**
   * Rebuilds the edge of a tree of `size` leaves from its stored partial
   * tiles (`partial[L]` = the data of tile (L, floor(count_L/256)), possibly
   * wider than needed, as stored tiles only grow). Throws if a tile is short.
   */
  static restore(hasher: Hasher, size: number, partial: (level: number, index: number) => Uint8Array | undefined): TileEdge {
    const levels: Uint8Array[][] = [];
    for (let L = 0; L === 0 || hashesAtLevel(L, size) > 0; L++) {
      const count = hashesAtLevel(L, size);
      const width = count % TILE_WIDTH;
      const hashes: Uint8Array[] = [];
      if (width > 0) {
        const data = partial(L, Math.floor(count / TILE_WIDTH));
        if (!data || data.length < width * HASH_SIZE) throw new Error(`tile level ${L} holds fewer than ${width} hashes`);
        for (let i = 0; i < width; i++) hashes.push(data.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      }
      levels.push(hashes);
    }
    return new TileEdge(hasher, size, levels);
  }

  get size(): number {
    return this.size_;
  }

  clone(): TileEdge {
    const copy = new TileEdge(
      this.hasher,
      this.size_,
      this.levels.map((l) => l.slice()),
    );
    // EdgeTiles are immutable, so the copy can share them.
    copy.built = new Map(this.built);
    return copy;
  }

  /** Appends one leaf hash, completing (and recording) any tiles it fills. */
  append(leafHash: Uint8Array): void {
    let hash = leafHash;
    for (let L = 0; ; L++) {
      if (this.levels.length <= L) this.levels.push([]);
      const tile = this.levels[L]!;
      tile.push(hash);
      this.dirty.add(L);
      if (tile.length < TILE_WIDTH) break;
      this.built.delete(L);
      // The tile is full: it is immutable from now on, and its root is one
      // hash in the level above. Partial tiles are never hashed upwards.
      const data = concatBytes(...tile);
      const tree = new TileTree(this.hasher, data);
      const index = Math.floor(hashesAtLevel(L, this.size_ + 1) / TILE_WIDTH) - 1;
      this.completed.push({ level: L, index, tree, data });
      this.levels[L] = [];
      hash = tree.root();
    }
    this.size_++;
  }

  /**
   * The partial tiles (width ≥ 1), one per level that has one. Only levels
   * changed since the last call are rebuilt: on most flushes that is level 0.
   */
  partialTiles(): EdgeTile[] {
    const out: EdgeTile[] = [];
    this.levels.forEach((hashes, L) => {
      if (hashes.length === 0) return;
      const index = Math.floor(hashesAtLevel(L, this.size_) / TILE_WIDTH);
      let t = this.built.get(L);
      if (t === undefined || t.index !== index || t.tree.width !== hashes.length) {
        const data = concatBytes(...hashes);
        const prefix = t !== undefined && t.index === index && t.tree.width < hashes.length ? t.tree : undefined;
        t = { level: L, index, tree: new TileTree(this.hasher, data, prefix), data };
        this.built.set(L, t);
      }
      out.push(t);
    });
    return out;
  }

  /**
   * What to persist since the last call: every tile completed, and the levels
   * whose partial tile changed. Resets the tracking.
   */
  takeChanges(): { completed: EdgeTile[]; dirtyLevels: ReadonlySet<number> } {
    const out = { completed: this.completed, dirtyLevels: this.dirty };
    this.completed = [];
    this.dirty = new Set();
    return out;
  }

  /** MTH of the whole tree, folded from nodes inside the partial tiles. */
  root(partial: EdgeTile[] = this.partialTiles()): Uint8Array {
    if (this.size_ === 0) return this.hasher.emptyRoot();
    const byLevel = new Map(partial.map((t) => [t.level, t]));
    const hashes = rangeNodes(0, this.size_).map((id) => {
      const loc = locateNode(id);
      const tile = byLevel.get(loc.tileLevel);
      if (!tile || tile.index !== loc.tileIndex) throw new Error(`root node ${id.level}/${id.index} is outside the edge`);
      return tile.tree.node(loc.start, loc.count);
    });
    return foldNodes(this.hasher, hashes);
  }
}
