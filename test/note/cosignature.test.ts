/** tlog-cosignature v1 against the shared vectors (sigsum-go, transparency-dev/formats, C2SP), byte for byte. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from '../../src/bytes/index.js';
import {
  checkCosignature,
  cosignatureMessage,
  cosignatureSigner,
  cosignatureTimestamp,
  cosignatureVerifier,
  formatCosignatureVerifierKey,
  keyIdFor,
  openNote,
  parseCosignatureVerifierKey,
  parseNote,
  signNote,
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  ed25519Signer,
  ed25519Verifier,
  parseVerifierKey,
} from '../../src/note/index.js';
import { checkpointVectors, expectTlogError, noteVectors } from './helpers.js';

interface CosignatureVectors {
  sigsum_verified_cosignature: { checkpoint_body: string; cosigner_name: string; cosigner_ed25519_seed_hex: string; timestamp: number; lines_from_source: string[] };
  sigsum_cosigned_message_format: { timestamp_str: string; message: string };
  sigsum_line_layout: { line: string; key_id_bytes: number[]; timestamp_hex: string; signature_prefix_bytes: number[] };
  formats_timestamp_extraction: { signature_base64: string; timestamp: number; not_a_cosignature_base64: string };
  c2sp_examples_no_keys_published: { cosigned_checkpoint: string; signed_message_example: string };
}

const V = JSON.parse(readFileSync(new URL('../../../shared/vectors/cosignature.json', import.meta.url), 'utf8')) as CosignatureVectors;
const S = V.sigsum_verified_cosignature;
const seed17 = fromHex(S.cosigner_ed25519_seed_hex)!;
const ed25519VerifierFor = (pub: Uint8Array) => ed25519Verifier('witness.test/w', pub);
const SIGSUM_VKEY = 'example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn';

describe('cosignature/v1 keys', () => {
  it('derives the sigsum witness vkey from seed 17 (key ID cacf2e50, base64 starting with B)', () => {
    const signer = cosignatureSigner(S.cosigner_name, seed17, () => S.timestamp);
    expect(signer.verifierKey).toBe(SIGSUM_VKEY);
    expect(formatCosignatureVerifierKey(S.cosigner_name, signer.publicKey)).toBe(SIGSUM_VKEY);
    expect(signer.keyId).toBe(0xcacf2e50);
    // The same key as a plain note signer has another ID.
    expect(ed25519Signer(S.cosigner_name, seed17).keyId).not.toBe(signer.keyId);
  });

  it('parses 0x04 vkeys, including one whose base64 holds "+" (sigsum 57bfe580)', () => {
    const k = noteVectors.key_id_vectors.sigsum_type04_key;
    const v = parseCosignatureVerifierKey(k.vkey);
    expect(v.keyId).toBe(0x57bfe580);
    expect(toHex(v.publicKey).startsWith('01452c8346344492f8')).toBe(true);
    expectTlogError(() => parseCosignatureVerifierKey(k.string_with_arbitrary_id), 'MALFORMED', /key id does not match/);
    const remora = noteVectors.key_id_vectors.formats_cosigv1_vkeys_accepted['native cosignature/v1 (type 0x04)']!;
    expect(parseCosignatureVerifierKey(remora).keyId).toBe(0xda77ade7);
  });

  it('accepts a type 0x01 vkey and converts it to the 0x04 key ID, as formats does', () => {
    const ed = noteVectors.key_id_vectors.formats_cosigv1_vkeys_accepted['ed25519 (type 0x01) accepted and converted']!;
    const v = parseCosignatureVerifierKey(ed);
    expect(v.keyId).not.toBe(0x7997405c);
    expect(v.keyId).toBe(keyIdFor('TEST', SIG_TYPE_COSIGNATURE, v.publicKey));
    expect(keyIdFor('TEST', SIG_TYPE_ED25519, v.publicKey)).toBe(0x7997405c);
  });

  it('rejects bad vkeys with MALFORMED', () => {
    for (const bad of Object.values(noteVectors.key_id_vectors.formats_bad_vkeys)) expectTlogError(() => parseCosignatureVerifierKey(bad), 'MALFORMED');
    // Type 0x06 (ML-DSA-44) is not supported.
    expectTlogError(() => parseCosignatureVerifierKey('w+00000000+BgAA'), 'MALFORMED');
  });
});

describe('cosignature/v1 signed message', () => {
  it('matches sigsum-go byte for byte, with a timestamp above 2^53', () => {
    const m = V.sigsum_cosigned_message_format;
    const text = m.message.split('\n').slice(2).join('\n');
    expect(new TextDecoder().decode(cosignatureMessage(text, BigInt(m.timestamp_str)))).toBe(m.message);
    expect(() => cosignatureMessage(text, 2 ** 53)).toThrow(RangeError);
    expect(() => cosignatureMessage(text, 1n << 63n)).toThrow(RangeError);
  });

  it('matches the C2SP example message', () => {
    const ex = V.c2sp_examples_no_keys_published;
    const note = parseNote(ex.cosigned_checkpoint);
    const w1 = note.signatures.find((s) => s.name === 'witness.example.com/w1')!;
    const t = cosignatureTimestamp(w1.signature)!;
    expect(t).toBe(1679315147n);
    expect(new TextDecoder().decode(cosignatureMessage(note.text, t))).toBe(ex.signed_message_example);
  });
});

describe('cosignature/v1 signatures', () => {
  it('reproduces the sigsum cosignature line byte for byte (seed 17, time 1234)', () => {
    const signer = cosignatureSigner(S.cosigner_name, seed17, () => S.timestamp);
    const signed = signNote(S.checkpoint_body, [signer]);
    expect(signed).toBe(`${S.checkpoint_body}\n${S.lines_from_source[1]}\n`);
  });

  it('classifies the four sigsum lines: other key ID, valid, other name, garbled', () => {
    const v = parseCosignatureVerifierKey(SIGSUM_VKEY);
    const note = parseNote(`${S.checkpoint_body}\n${S.lines_from_source.slice(0, 3).join('\n')}\n`);
    const results = note.signatures.map((sig) => checkCosignature(note.text, sig, v));
    expect(results).toEqual([undefined, { name: S.cosigner_name, keyId: 0xcacf2e50, timestamp: 1234 }, undefined]);
    // Line 4 has 2 extra bytes after the signature: by the right key, but not a valid cosignature.
    const garbled = parseNote(`${S.checkpoint_body}\n${S.lines_from_source[3]}\n`);
    expect(checkCosignature(garbled.text, garbled.signatures[0]!, v)).toBe(false);
  });

  it('verifies through openNote like any note signature, and fails on a changed body or time', () => {
    const v = parseCosignatureVerifierKey(SIGSUM_VKEY);
    const good = `${S.checkpoint_body}\n${S.lines_from_source[1]}\n`;
    expect(openNote(good, [v]).verified).toHaveLength(1);
    expectTlogError(() => openNote(good.replace('\n10\n', '\n11\n'), [v]), 'BAD_SIGNATURE');
    const blob = fromBase64(S.lines_from_source[1]!.split(' ')[2]!)!;
    blob[11]! ^= 1; // the low byte of the timestamp: 1234 → 1235
    const line = `— ${S.cosigner_name} ${Buffer.from(blob).toString('base64')}`;
    const note = parseNote(`${S.checkpoint_body}\n${line}\n`);
    expect(cosignatureTimestamp(note.signatures[0]!.signature)).toBe(1235n);
    expect(checkCosignature(note.text, note.signatures[0]!, v)).toBe(false);
  });

  it('lays the blob out as key ID ‖ u64 timestamp ‖ signature (sigsum layout vector)', () => {
    const L = V.sigsum_line_layout;
    const blob = fromBase64(L.line.trim().split(' ')[2]!)!;
    expect(blob.length).toBe(76);
    expect([...blob.subarray(0, 4)]).toEqual(L.key_id_bytes);
    expect(toHex(blob.subarray(4, 12))).toBe(L.timestamp_hex);
    expect([...blob.subarray(12, 15)]).toEqual(L.signature_prefix_bytes);
    expect(cosignatureTimestamp(blob.subarray(4))).toBe(BigInt('0x' + L.timestamp_hex));
  });

  it('extracts the timestamp as formats does and refuses a plain Ed25519 blob', () => {
    const F = V.formats_timestamp_extraction;
    expect(cosignatureTimestamp(fromBase64(F.signature_base64)!.subarray(4))).toBe(BigInt(F.timestamp));
    const plain = fromBase64(F.not_a_cosignature_base64)!.subarray(4);
    expect(plain.length).toBe(64);
    expect(cosignatureTimestamp(plain)).toBeUndefined();
    const v = cosignatureVerifier('w', new Uint8Array(32).fill(1));
    expect(v.verify(new Uint8Array(1), plain)).toBe(false);
  });

  it('a cosignature over a real checkpoint verifies alongside the log signature', () => {
    const m = checkpointVectors.transparency_dev_witness_monkeys;
    const w = cosignatureSigner('witness.test/w', new Uint8Array(32).fill(7), () => 1_700_000_000);
    const note = parseNote(m.checkpoint_size5);
    const cosigned = signNote(note.text, [w], note.signatures);
    const opened = openNote(cosigned, [parseVerifierKey(m.keys.monkeys.vkey), parseCosignatureVerifierKey(w.verifierKey)]);
    expect(opened.verified.map((s) => s.name)).toEqual(['monkeys', 'witness.test/w']);
    // The cosigner's line is not a plain Ed25519 signature by the same key.
    expectTlogError(() => openNote(cosigned, [ed25519VerifierFor(w.publicKey)]), 'UNKNOWN_KEY');
  });
});
