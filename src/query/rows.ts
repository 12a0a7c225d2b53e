/**
 * One hit as the JSON object a page (GET /v1/events) and an NDJSON export
 * write: `{"index":N,"leaf_hash":"…","record":…}`, built byte by byte into
 * a sink (no string per row), with the record transcoded from the leaf's
 * CBOR (cbor-json.ts). And the leaf hashes an export reads a tile at a time.
 */

import { HASH_SIZE, TILE_WIDTH } from '../merkle/index.js';
import { markErased } from '../privacy/annotate.js';
import { type ByteSink, cborToJson, type RefMark } from './cbor-json.js';
import type { Hit } from './search.js';

const enc = new TextEncoder();
const INDEX = enc.encode('{"index":');
const LEAF_HASH = enc.encode(',"leaf_hash":"');
const RECORD = enc.encode('","record":');

/**
 * Writes hit `h` whose leaf hash is the 32 bytes of `hashes` at `at`,
 * without the closing brace (an export may add its proof first). `mark`
 * (erasure-marks.ts) marks its erased references.
 */
export function writeHitOpen(out: ByteSink, h: Hit, hashes: Uint8Array, at: number, mark?: RefMark): void {
  out.bytes(INDEX);
  out.uint(h.index);
  out.bytes(LEAF_HASH);
  out.base64(hashes, at, HASH_SIZE);
  out.bytes(RECORD);
  // The strict decoder's JSON for anything the transcoder does not read, marked alike.
  if (!cborToJson(h.leaf, out, mark)) out.text(JSON.stringify(mark === undefined ? h.record : markErased(h.record, mark)));
}

/** Reads level-0 hash tiles by index (Log.leafHashTiles). */
export type TileReader = (tiles: readonly number[]) => Promise<(Uint8Array | undefined)[]>;

/**
 * The leaf hashes of an export, read a level-0 tile at a time along with
 * the leaves (search's `alongside`): one tile per 256 entries instead of a
 * lookup per row, and no hashing. Tiles behind the reader are dropped, so
 * it holds only the tiles of the chunks in flight. Made for a scan in
 * ascending order.
 */
export class HashTiles {
  private readonly tiles = new Map<number, Uint8Array | undefined>();
  /** The tile the last lookup was in, and its bytes. */
  private at = -1;
  private data: Uint8Array | undefined;

  constructor(private readonly read: TileReader) {}

  /** Reads the tiles of `indexes` not read yet. */
  async load(indexes: readonly number[]): Promise<void> {
    const want: number[] = [];
    for (const i of indexes) {
      const t = Math.floor(i / TILE_WIDTH);
      if (!this.tiles.has(t)) {
        this.tiles.set(t, undefined);
        want.push(t);
      }
    }
    if (want.length === 0) return;
    const got = await this.read(want);
    for (let k = 0; k < want.length; k++) this.tiles.set(want[k]!, got[k]);
  }

  /**
   * The tile holding entry `index`'s hash (at offset `(index % 256) * 32`),
   * or undefined when it is not loaded or too short; tiles before it are
   * dropped.
   */
  tileOf(index: number): Uint8Array | undefined {
    const t = Math.floor(index / TILE_WIDTH);
    if (t !== this.at) {
      for (const k of this.tiles.keys()) {
        if (k >= t) break;
        this.tiles.delete(k);
      }
      this.at = t;
      this.data = this.tiles.get(t);
    }
    const data = this.data;
    return data !== undefined && data.length >= ((index % TILE_WIDTH) + 1) * HASH_SIZE ? data : undefined;
  }
}
