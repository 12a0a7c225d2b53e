/** The node:crypto cosigner and verifiers give the same bytes and verdicts as the pure ones. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/bytes/index.js';
import { checkCosignature, openNote, parseCosignatureVerifierKey, parseNote, parseVerifierKey, signNote } from '../../src/note/index.js';
import { nodeCosignatureSigner, nodeCosignatureVerifier, nodeNoteVerifier } from '../../src/witness/node-ed25519.js';
import { checkpointVectors, expectTlogError } from '../note/helpers.js';

const V = JSON.parse(readFileSync(new URL('../../../shared/vectors/cosignature.json', import.meta.url), 'utf8')) as {
  sigsum_verified_cosignature: { checkpoint_body: string; cosigner_name: string; cosigner_ed25519_seed_hex: string; timestamp: number; lines_from_source: string[] };
};
const S = V.sigsum_verified_cosignature;

describe('node:crypto Ed25519 for witnesses', () => {
  it('signs the sigsum cosignature line byte for byte', () => {
    const signer = nodeCosignatureSigner(S.cosigner_name, fromHex(S.cosigner_ed25519_seed_hex)!, () => S.timestamp);
    expect(signer.verifierKey).toBe('example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn');
    expect(signNote(S.checkpoint_body, [signer])).toBe(`${S.checkpoint_body}\n${S.lines_from_source[1]}\n`);
    expect(() => nodeCosignatureSigner(S.cosigner_name, new Uint8Array(32), () => -1).sign(new Uint8Array(1))).toThrow(RangeError);
  });

  it('gives the pure verifier\u2019s verdict on every sigsum line, and on a changed body', () => {
    const pure = parseCosignatureVerifierKey('example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn');
    const fast = nodeCosignatureVerifier(pure);
    for (const body of [S.checkpoint_body, S.checkpoint_body.replace('\n10\n', '\n11\n')]) {
      const note = parseNote(`${body}\n${S.lines_from_source.join('\n')}\n`);
      expect(note.signatures.map((s) => checkCosignature(note.text, s, fast))).toEqual(note.signatures.map((s) => checkCosignature(note.text, s, pure)));
    }
  });

  it('verifies a log signature like the pure note verifier', () => {
    const m = checkpointVectors.transparency_dev_witness_monkeys;
    const v = nodeNoteVerifier(parseVerifierKey(m.keys.monkeys.vkey));
    expect(openNote(m.checkpoint_size5, [v]).verified).toHaveLength(1);
    expectTlogError(() => openNote(m.checkpoint_size5.replace('\n5\n', '\n6\n'), [v]), 'BAD_SIGNATURE');
  });
});
