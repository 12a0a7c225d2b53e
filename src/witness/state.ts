/**
 * The witness's durable state: for each origin it follows, the latest
 * checkpoint it cosigned (size, root, and the note with its cosignature).
 *
 * Contract (c2sp.org/tlog-witness "Atomicity"): `put` resolves only after the
 * record is on disk (LevelDB write with `sync: true`, i.e. an fsynced WAL), so
 * a cosignature is never returned for a state a crash could forget; the
 * witness would otherwise cosign a smaller tree after restart (a rollback).
 * Callers serialize read-check-put per origin (witness.ts).
 */

import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { fromBase64, toBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';

export interface WitnessedState {
  treeSize: number;
  rootHash: Uint8Array;
  /** The log's checkpoint with the log signature(s) the witness verified and its own cosignature. */
  checkpoint: string;
}

export class WitnessStore {
  private constructor(private readonly db: Level<string, string>) {}

  static async open(dir: string): Promise<WitnessStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    return new WitnessStore(db);
  }

  async get(origin: string): Promise<WitnessedState | undefined> {
    const v = await this.db.get('s' + origin);
    if (v === undefined) return undefined;
    let j: { tree_size?: unknown; root_hash?: unknown; checkpoint?: unknown };
    try {
      j = JSON.parse(v) as typeof j;
    } catch (e) {
      throw new TlogError('STORE_CORRUPT', 'stored witness state does not parse', { cause: e });
    }
    const rootHash = typeof j.root_hash === 'string' ? fromBase64(j.root_hash) : undefined;
    if (!Number.isSafeInteger(j.tree_size) || rootHash?.length !== 32 || typeof j.checkpoint !== 'string')
      throw new TlogError('STORE_CORRUPT', 'stored witness state does not parse');
    return { treeSize: j.tree_size as number, rootHash, checkpoint: j.checkpoint };
  }

  /** Durable once it resolves (see the contract above). */
  async put(origin: string, s: WitnessedState): Promise<void> {
    const v = JSON.stringify({ tree_size: s.treeSize, root_hash: toBase64(s.rootHash), checkpoint: s.checkpoint });
    await this.db.put('s' + origin, v, { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
