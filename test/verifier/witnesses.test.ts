/** k-of-n witness policies over cosigned checkpoints. */

import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import { cosignatureSigner, ed25519Signer, formatCheckpoint, signNote, parseNote } from '../../src/note/index.js';
import { verifyWitnesses } from '../../src/verifier/index.js';

const log = ed25519Signer('policy.example/log', new Uint8Array(32).fill(1));
const w = [2, 3, 4].map((n) => cosignatureSigner(`policy.example/w${n}`, new Uint8Array(32).fill(n), () => 1_700_000_000 + n));
const text = formatCheckpoint({ origin: 'policy.example/log', treeSize: 7, rootHash: new Uint8Array(32).fill(9), extensions: [] });
const keys = w.map((s) => s.verifierKey);
const cosign = (...signers: typeof w) => {
  const base = parseNote(signNote(text, [log]));
  return signNote(text, signers, base.signatures);
};

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TlogError)) throw e;
    return e.code;
  }
  return 'NO ERROR';
}

describe('verifyWitnesses', () => {
  it('accepts k valid cosignatures and reports them in policy order with their timestamps', () => {
    const note = cosign(w[2]!, w[0]!);
    expect(verifyWitnesses(note, { keys, quorum: 2 })).toEqual([
      { name: 'policy.example/w2', keyId: w[0]!.keyId, timestamp: 1_700_000_002 },
      { name: 'policy.example/w4', keyId: w[2]!.keyId, timestamp: 1_700_000_004 },
    ]);
    expect(codeOf(() => verifyWitnesses(note, { keys, quorum: 3 }))).toBe('WITNESS_QUORUM');
    expect(codeOf(() => verifyWitnesses(signNote(text, [log]), { keys, quorum: 1 }))).toBe('WITNESS_QUORUM');
  });

  it('counts one witness once, even listed twice or under another name', () => {
    const note = cosign(w[0]!);
    expect(codeOf(() => verifyWitnesses(note, { keys: [keys[0]!, keys[0]!], quorum: 2 }))).toBe('WITNESS_QUORUM');
    const alias = cosignatureSigner('policy.example/alias', new Uint8Array(32).fill(2), () => 5);
    const both = signNote(text, [w[0]!, alias], parseNote(signNote(text, [log])).signatures);
    expect(codeOf(() => verifyWitnesses(both, { keys: [keys[0]!, alias.verifierKey], quorum: 2 }))).toBe('WITNESS_QUORUM');
  });

  it('fails on a garbled line by a listed witness (BAD_SIGNATURE), ignores unlisted ones', () => {
    const note = cosign(w[0]!, w[1]!);
    const line = note.split('\n').find((l) => l.startsWith('— policy.example/w3 '))!;
    const blob = fromBase64(line.split(' ')[2]!)!;
    blob[40]! ^= 1;
    const bad = note.replace(line, `— policy.example/w3 ${toBase64(blob)}`);
    expect(codeOf(() => verifyWitnesses(bad, { keys, quorum: 1 }))).toBe('BAD_SIGNATURE');
    expect(verifyWitnesses(bad, { keys: [keys[0]!], quorum: 1 })).toHaveLength(1);
    // A changed checkpoint body breaks every cosignature.
    expect(codeOf(() => verifyWitnesses(note.replace('\n7\n', '\n8\n'), { keys, quorum: 1 }))).toBe('BAD_SIGNATURE');
  });

  it('refuses policies that are caller bugs, and bad keys as MALFORMED', () => {
    const note = cosign(w[0]!);
    expect(() => verifyWitnesses(note, { keys, quorum: 0 })).toThrow(RangeError);
    expect(() => verifyWitnesses(note, { keys, quorum: 4 })).toThrow(RangeError);
    expect(codeOf(() => verifyWitnesses(note, { keys: ['nope'], quorum: 1 }))).toBe('MALFORMED');
  });
});
