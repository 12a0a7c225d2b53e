/** Checkpoint verification details the receipt tests do not reach: the memo's key, and the key list of verifyCheckpointWithKeys. */

import { describe, expect, it } from 'vitest';
import { ed25519Signer, formatCheckpoint, signNote } from '../../src/note/index.js';
import { hasher, verifyCheckpoint, verifyCheckpointAsync, verifyCheckpointWithKeys, verifyReceiptWithKeys } from '../../src/verifier/index.js';

const ORIGIN = 'keys.example/log';
const signer = ed25519Signer(ORIGIN, new Uint8Array(32).fill(21));
const note = (s = signer, origin = ORIGIN) => signNote(formatCheckpoint({ origin, treeSize: 1, rootHash: hasher.hashLeaf(new Uint8Array([1])), extensions: [] }), [s]);

describe('the verified-checkpoint memo', () => {
  it("is keyed on the effective origin: '' after undefined is still WRONG_ORIGIN, the key's name after undefined is the same check", async () => {
    const cp = note();
    expect(verifyCheckpoint(cp, signer.verifierKey).treeSize).toBe(1);
    expect(() => verifyCheckpoint(cp, signer.verifierKey, '')).toThrow(expect.objectContaining({ code: 'WRONG_ORIGIN' }));
    await expect(verifyCheckpointAsync(cp, signer.verifierKey, '')).rejects.toMatchObject({ code: 'WRONG_ORIGIN' });
    expect(verifyCheckpoint(cp, signer.verifierKey, ORIGIN).treeSize).toBe(1);
    expect(() => verifyCheckpoint(cp, signer.verifierKey, 'other.example/log')).toThrow(expect.objectContaining({ code: 'WRONG_ORIGIN' }));
  });
});

describe('verifyCheckpointWithKeys', () => {
  it('refuses keys that name different logs (a RangeError: the caller mixed up its keys)', () => {
    const otherLog = ed25519Signer('x.example', new Uint8Array(32).fill(3));
    const cp = note(otherLog, 'x.example');
    expect(() => verifyCheckpointWithKeys(cp, [signer.verifierKey, otherLog.verifierKey], 'x.example')).toThrow(RangeError);
    expect(() => verifyCheckpointWithKeys(cp, [signer.verifierKey, otherLog.verifierKey])).toThrow(RangeError);
    expect(() => verifyReceiptWithKeys('c2sp.org/tlog-proof@v1\n', [signer.verifierKey, otherLog.verifierKey])).toThrow();
  });

  it('accepts several keys of one log (a rotation): a checkpoint signed by any of them', () => {
    const rotated = ed25519Signer(ORIGIN, new Uint8Array(32).fill(22));
    for (const s of [signer, rotated]) expect(verifyCheckpointWithKeys(note(s), [rotated.verifierKey, signer.verifierKey]).treeSize).toBe(1);
  });
});
