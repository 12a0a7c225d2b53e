/** The monitor's state file: reloading it checks its checkpoint with the keys and the origin the monitor runs with. */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TileEdge } from '../../src/merkle/index.js';
import { loadState, saveState, type MonitorState } from '../../src/monitor/state.js';
import { ed25519Signer, formatCheckpoint, parseCheckpoint, signNote, type Ed25519NoteSigner } from '../../src/note/index.js';
import { hasher } from '../../src/verifier/index.js';
import { tempDir } from '../helpers.js';

let work: string;
beforeAll(async () => {
  work = await tempDir('tlog-state-');
});
afterAll(() => rm(work, { recursive: true, force: true }));

function stateFor(signers: Ed25519NoteSigner[], origin: string): MonitorState {
  const edge = TileEdge.empty(hasher);
  for (let i = 0; i < 3; i++) edge.append(hasher.hashLeaf(new Uint8Array([i])));
  const text = formatCheckpoint({ origin, treeSize: 3, rootHash: edge.root(), extensions: [] });
  return { checkpoint: signNote(text, signers), trusted: parseCheckpoint(text), edge };
}

describe('monitor state', () => {
  const key = ed25519Signer('key.example', new Uint8Array(32).fill(5));
  const rotated = ed25519Signer('key.example', new Uint8Array(32).fill(6));

  it('saved with an origin other than the key name (--origin), it reloads with that origin, and only with it', async () => {
    const path = join(work, 'origin.json');
    await saveState(path, key.verifierKey, stateFor([key], 'origin.example'));
    const s = await loadState(path, { current: key.verifierKey, origin: 'origin.example' }, hasher);
    expect(s?.trusted.treeSize).toBe(3);
    await expect(loadState(path, { current: key.verifierKey }, hasher)).rejects.toMatchObject({ code: 'WRONG_ORIGIN' });
    await expect(loadState(path, { current: key.verifierKey, origin: 'other.example' }, hasher)).rejects.toMatchObject({ code: 'WRONG_ORIGIN' });
  });

  it('saved under a key from before a rotation, it reloads when that key is given as previous, and not otherwise', async () => {
    const path = join(work, 'rotated.json');
    await saveState(path, key.verifierKey, stateFor([key], 'key.example'));
    await expect(loadState(path, { current: rotated.verifierKey }, hasher)).rejects.toMatchObject({ code: 'MALFORMED', message: expect.stringContaining('previous key') });
    const s = await loadState(path, { current: rotated.verifierKey, previous: [key.verifierKey] }, hasher);
    expect(s?.trusted.treeSize).toBe(3);
    // Listing the key is not enough: its checkpoint must verify with the keys given.
    const forged = join(work, 'forged.json');
    await saveState(forged, key.verifierKey, stateFor([ed25519Signer('key.example', new Uint8Array(32).fill(7))], 'key.example'));
    await expect(loadState(forged, { current: rotated.verifierKey, previous: [key.verifierKey] }, hasher)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
  });
});
