/**
 * Opening a LevelDB database, with LevelDB's lock turned into an answer a
 * person can act on: a second process (a running server, while a CLI command
 * that needs the folder to itself starts) gets "in use", not "failed to open".
 */

import type { Level } from 'level';
import { TlogError } from '../errors.js';

export async function openDb(db: Level<Uint8Array, Uint8Array>, dir: string): Promise<void> {
  try {
    await db.open();
  } catch (e) {
    if ((e as { cause?: { code?: unknown } }).cause?.code === 'LEVEL_LOCKED')
      throw new TlogError('LOG_UNAVAILABLE', `the database in ${dir} is in use by another process (a running server?): stop it first`, { cause: e });
    throw e;
  }
}
