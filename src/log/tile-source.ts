/**
 * Where readers get hash tiles: the published right edge (partial tiles of
 * the latest durable tree), an LRU of full tiles with their internal nodes
 * computed, and LevelDB behind both.
 *
 * Invariant that makes lock-free reads safe: stored tiles only ever grow
 * (a partial tile is a prefix of every later version of it), so any version
 * a reader sees holds every node complete at any published tree size.
 */

import { TlogError } from '../errors.js';
import { type EdgeTile, FULL_TILE_BYTES, HASH_SIZE, type Hasher, locateNode, type NodeId, TileTree } from '../merkle/index.js';
import type { LogStore } from '../storage/store.js';
import { Lru } from './lru.js';

export class TileSource {
  private edge = new Map<number, EdgeTile>();
  private readonly full: Lru<string, TileTree>;

  constructor(
    private readonly store: LogStore,
    private readonly hasher: Hasher,
    cacheTiles: number,
  ) {
    this.full = new Lru(cacheTiles);
  }

  /** Called by the sequencer after a commit is durable. */
  publish(partial: readonly EdgeTile[], completed: readonly EdgeTile[]): void {
    for (const t of completed) this.full.set(`${t.level}/${t.index}`, t.tree);
    this.edge = new Map(partial.map((t) => [t.level, t]));
  }

  /** The tile's internal tree, from memory when possible. */
  async tree(level: number, index: number): Promise<TileTree> {
    const e = this.edge.get(level);
    if (e !== undefined && e.index === index) return e.tree;
    const key = `${level}/${index}`;
    const cached = this.full.get(key);
    if (cached) return cached;
    const data = await this.store.readTile(level, index);
    if (data === undefined) throw new TlogError('STORE_CORRUPT', `tile ${level}/${index} is missing from storage`);
    const tree = new TileTree(this.hasher, data);
    if (data.length === FULL_TILE_BYTES) this.full.set(key, tree);
    return tree;
  }

  /** Raw tile bytes truncated to `width` hashes, or undefined if storage holds fewer. */
  async data(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const t = await this.tree(level, index).catch((e: unknown) => {
      if (e instanceof TlogError && e.code === 'STORE_CORRUPT') return undefined;
      throw e;
    });
    if (!t || t.width < width) return undefined;
    return t.bytes(width);
  }

  /** The tile's tree if it is in memory (edge or cache), without touching storage. */
  cached(level: number, index: number): TileTree | undefined {
    const e = this.edge.get(level);
    if (e !== undefined && e.index === index) return e.tree;
    return this.full.get(`${level}/${index}`);
  }

  /**
   * A node's hash if its tile is in memory. The common case (recent entries,
   * upper levels) never awaits; `nodes` below is the fallback.
   */
  nodeSync(id: NodeId): Uint8Array | undefined {
    const loc = locateNode(id);
    return this.cached(loc.tileLevel, loc.tileIndex)?.node(loc.start, loc.count);
  }

  /** Resolves every node of a plan to its hash, loading each tile once. */
  async nodes(ids: readonly NodeId[]): Promise<(id: NodeId) => Uint8Array> {
    const trees = new Map<string, TileTree>();
    for (const id of ids) {
      const loc = locateNode(id);
      const key = `${loc.tileLevel}/${loc.tileIndex}`;
      if (!trees.has(key)) trees.set(key, await this.tree(loc.tileLevel, loc.tileIndex));
    }
    return (id) => {
      const loc = locateNode(id);
      return trees.get(`${loc.tileLevel}/${loc.tileIndex}`)!.node(loc.start, loc.count);
    };
  }
}

