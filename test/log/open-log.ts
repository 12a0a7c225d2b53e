/** A real Log on a real LevelDB in a temp folder, for tests that drive the sequencer directly. */

import { rm } from 'node:fs/promises';
import { Log } from '../../src/log/log.js';
import { nodeEd25519Signer } from '../../src/log/signing-key.js';
import { rfc6962Hasher } from '../../src/merkle/index.js';
import { nodeSha256 } from '../../src/server.js';
import { LogStore } from '../../src/storage/store.js';
import { tempDir } from '../helpers.js';

/** The log, and the function that closes it and deletes its folder. */
export async function openTestLog(origin: string, maxPending: number, maxBatch: number): Promise<{ log: Log; close: () => Promise<void> }> {
  const dir = await tempDir();
  const store = await LogStore.open(dir);
  const log = await Log.open(store, {
    origin,
    hasher: rfc6962Hasher(nodeSha256),
    signer: nodeEd25519Signer(origin, new Uint8Array(32).fill(7)),
    sha256: nodeSha256,
    maxPending,
    maxBatch,
  });
  return {
    log,
    close: async () => {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
