import { describe, expect, test } from 'vitest';
import { fromBase64, fromHex, toBase64, utf8 } from '../../src/bytes/index.js';
import {
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  decodeVerifierKey,
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  formatVerifierKey,
  keyIdFor,
  parseSignerKey,
  parseVerifierKey,
} from '../../src/note/index.js';
import { checkpointVectors, expectTlogError, noteVectors } from './helpers.js';

const go = noteVectors.go_x_mod_v0_7_0;
const peter = go.PeterNeumann;

/** Every (vkey, skey) pair published in the vectors. */
const KEY_PAIRS: [string, { vkey: string; skey: string }][] = [
  ['PeterNeumann', peter],
  ['sumdb test server', go.sumdb_test_server_keys],
  ...Object.entries(noteVectors.transparency_dev_formats_test_keys.keys).map(([k, v]) => [`formats ${k}`, v] as [string, typeof v]),
  ['tessera testdata', checkpointVectors.tessera_testdata_log],
  ...Object.entries(checkpointVectors.transparency_dev_witness_monkeys.keys).map(([k, v]) => [`witness ${k}`, v] as [string, typeof v]),
];

/** The seed inside a Go private key string (test-only decoding, independent of parseSignerKey). */
function seedOf(skey: string): Uint8Array {
  // PRIVATE+KEY+<name>+<id>+<base64>: names have no '+', the base64 part may.
  const typed = fromBase64(skey.split('+').slice(4).join('+'))!;
  expect(typed[0]).toBe(1);
  return typed.subarray(1);
}

describe('key strings from the vectors', () => {
  test.each(KEY_PAIRS)('%s: skey derives the published vkey, and both round-trip', (_, { vkey, skey }) => {
    const signer = parseSignerKey(skey);
    expect(signer.verifierKey).toBe(vkey);
    const verifier = parseVerifierKey(vkey);
    expect(verifier.keyId).toBe(signer.keyId);
    expect(verifier.name).toBe(signer.name);
    expect(verifier.sigType).toBe(SIG_TYPE_ED25519);
    expect(verifier.publicKey).toEqual(signer.publicKey);
    expect(formatVerifierKey(verifier.name, verifier.publicKey)).toBe(vkey);
    expect(formatSignerKey(signer.name, seedOf(skey))).toBe(skey);
    const msg = utf8('round trip\n');
    expect(verifier.verify(msg, signer.sign(msg))).toBe(true);
  });

  test('PeterNeumann key id is c74f20a3 = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pub)[:4]', () => {
    const v = parseVerifierKey(peter.vkey);
    expect(v.keyId).toBe(0xc74f20a3);
    expect(keyIdFor('PeterNeumann', SIG_TYPE_ED25519, v.publicKey)).toBe(0xc74f20a3);
  });

  test('EnochRoot is the key with the all-zero seed', () => {
    expect(ed25519Signer('EnochRoot', new Uint8Array(32)).verifierKey).toBe(go.EnochRoot.vkey);
  });

  test('sumdb test server: "/" in the name and "+" in the base64 part', () => {
    const { vkey, skey } = go.sumdb_test_server_keys;
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('localhost.localdev/sumdb');
    expect(v.keyId).toBe(0x00000c67);
    expect(toBase64(Uint8Array.of(1, ...v.publicKey))).toBe('AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6');
    expect(parseSignerKey(skey).keyId).toBe(0x00000c67);
  });

  test('uppercase key id hex is accepted (as Go does), lowercase is what we print', () => {
    const upper = peter.vkey.replace('c74f20a3', 'C74F20A3');
    expect(parseVerifierKey(upper).keyId).toBe(0xc74f20a3);
    expect(formatVerifierKey('PeterNeumann', parseVerifierKey(upper).publicKey)).toBe(peter.vkey);
  });
});

describe('key IDs and signature types', () => {
  const sigsum = noteVectors.key_id_vectors.sigsum_type04_key;
  const sigsumKey = new Uint8Array(32);
  sigsumKey.set([0x01, 0x45, 0x2c, 0x83, 0x46, 0x34, 0x44, 0x92, 0xf8]);

  test('sigsum type-0x04 vector: key id 57bfe580, base64 containing "+"', () => {
    expect(keyIdFor('example.org/key', SIG_TYPE_COSIGNATURE, sigsumKey)).toBe(0x57bfe580);
    const d = decodeVerifierKey(sigsum.vkey);
    expect(d).toEqual({ name: 'example.org/key', keyId: 0x57bfe580, sigType: 0x04, publicKey: sigsumKey });
  });

  test('sigsum string with an arbitrary key id is rejected', () => {
    expectTlogError(() => decodeVerifierKey(sigsum.string_with_arbitrary_id), 'MALFORMED', /key id does not match/);
  });

  test('parseVerifierKey accepts only Ed25519 (0x01) keys', () => {
    expectTlogError(() => parseVerifierKey(sigsum.vkey), 'MALFORMED', /unsupported signature type 0x04/);
    const remora = noteVectors.key_id_vectors.formats_cosigv1_vkeys_accepted['native cosignature/v1 (type 0x04)']!;
    expect(decodeVerifierKey(remora).sigType).toBe(SIG_TYPE_COSIGNATURE);
    expectTlogError(() => parseVerifierKey(remora), 'MALFORMED', /unsupported signature type/);
    const ed = noteVectors.key_id_vectors.formats_cosigv1_vkeys_accepted['ed25519 (type 0x01) accepted and converted']!;
    expect(parseVerifierKey(ed).keyId).toBe(0x7997405c);
  });

  test('the same key gets different ids as 0x01 and 0x04', () => {
    const { publicKey } = decodeVerifierKey(noteVectors.key_id_vectors.formats_cosigv1_vkeys_accepted['native cosignature/v1 (type 0x04)']!);
    expect(keyIdFor('remora.n621.de', SIG_TYPE_COSIGNATURE, publicKey)).toBe(0xda77ade7);
    expect(keyIdFor('remora.n621.de', SIG_TYPE_ED25519, publicKey)).not.toBe(0xda77ade7);
  });
});

describe('bad verifier keys are MALFORMED', () => {
  test.each(go.bad_vkeys_must_reject.filter((k) => k.includes('+')))('Go bad vkey %s', (vkey) => {
    expectTlogError(() => parseVerifierKey(vkey), 'MALFORMED');
  });

  test.each(Object.entries(noteVectors.key_id_vectors.formats_bad_vkeys))('formats: %s', (_, vkey) => {
    expectTlogError(() => parseVerifierKey(vkey), 'MALFORMED');
  });

  test('every proper substring of the PeterNeumann vkey', () => {
    const vkey = peter.vkey;
    let n = 0;
    for (let i = 0; i < vkey.length; i++) {
      for (let j = i + 1; j <= vkey.length; j++) {
        if (i === 0 && j === vkey.length) continue;
        expectTlogError(() => parseVerifierKey(vkey.slice(i, j)), 'MALFORMED');
        n++;
      }
    }
    expect(n).toBe((vkey.length * (vkey.length + 1)) / 2 - 1);
  });

  test('the PeterNeumann vkey with any single byte incremented', () => {
    const vkey = peter.vkey;
    for (let i = 0; i < vkey.length; i++) {
      const bumped = vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1);
      expectTlogError(() => parseVerifierKey(bumped), 'MALFORMED');
    }
  });

  test('wrong key length with a matching key id', () => {
    const short = new Uint8Array(31).fill(7);
    const id = keyIdFor('short', SIG_TYPE_ED25519, short).toString(16).padStart(8, '0');
    const vkey = `short+${id}+${toBase64(Uint8Array.of(1, ...short))}`;
    expect(decodeVerifierKey(vkey).publicKey.length).toBe(31);
    expectTlogError(() => parseVerifierKey(vkey), 'MALFORMED', /32 bytes/);
  });

  test('invalid names: "+" cannot be in a name; whitespace (also Unicode) cannot either', () => {
    for (const name of ['a b', 'a\u00a0b', 'a\u3000b', 'a\u0085b']) {
      const pub = parseVerifierKey(peter.vkey).publicKey;
      const id = keyIdFor(name, 1, pub).toString(16).padStart(8, '0');
      expectTlogError(() => parseVerifierKey(`${name}+${id}+${toBase64(Uint8Array.of(1, ...pub))}`), 'MALFORMED', /invalid key name/);
    }
    expectTlogError(() => parseVerifierKey('+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'MALFORMED', /invalid key name/);
  });
});

describe('signer keys', () => {
  test('bad private key strings are MALFORMED and never echo the key', () => {
    const seedB64 = peter.skey.split('+')[4]!;
    const cases = [
      peter.skey.replace('PRIVATE+KEY+', 'PRIVATE+KEX+'),
      peter.skey.replace('c74f20a3', 'c74f20a4'), // wrong id
      peter.skey.replace('+AYEK', '+AoEK'), // type byte 0x02
      peter.skey.slice(0, -4), // decodes to 30 bytes
      `PRIVATE+KEY+PeterNeumann+c74f20a3+${toBase64(Uint8Array.of(1, ...new Uint8Array(31)))}`, // 31-byte seed
      'PRIVATE+KEY+PeterNeumann+c74f20a3',
      peter.vkey,
    ];
    for (const skey of cases) {
      const err = expectTlogError(() => parseSignerKey(skey), 'MALFORMED', /malformed signer key/);
      expect(err.message).not.toContain(seedB64.slice(4, 20));
    }
  });

  test('the signer copies its seed', () => {
    const seed = new Uint8Array(32).fill(9);
    const signer = ed25519Signer('copy', seed);
    const msg = utf8('x\n');
    const before = signer.sign(msg);
    seed.fill(0);
    expect(signer.sign(msg)).toEqual(before);
    expect(parseVerifierKey(signer.verifierKey).verify(msg, before)).toBe(true);
  });

  test('ed25519Verifier matches the vkey route', () => {
    const v = parseVerifierKey(peter.vkey);
    const w = ed25519Verifier('PeterNeumann', v.publicKey);
    expect(w.keyId).toBe(v.keyId);
    expect(formatVerifierKey(w.name, w.publicKey)).toBe(peter.vkey);
  });
});

describe('verifiers never throw on hostile signatures', () => {
  const signer = ed25519Signer('v', new Uint8Array(32).fill(3));
  const v = parseVerifierKey(signer.verifierKey);
  const msg = utf8('m\n');
  const good = signer.sign(msg);

  test('wrong lengths and garbage return false', () => {
    for (const sig of [new Uint8Array(0), good.subarray(0, 63), Uint8Array.of(...good, 0), new Uint8Array(64), new Uint8Array(64).fill(0xff)]) {
      expect(v.verify(msg, sig)).toBe(false);
    }
    expect(v.verify(msg, good)).toBe(true);
    expect(v.verify(utf8('M\n'), good)).toBe(false);
  });

  test('S ≥ L (malleated signature) is rejected', () => {
    // L = 2^252 + 27742317777372353535851937790883648493; adding L to S gives the same
    // group equation; RFC 8032 strict (and Go) reject S ≥ L.
    const L = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010')!; // little-endian
    const forged = good.slice();
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const sum = forged[32 + i]! + L[i]! + carry;
      forged[32 + i] = sum & 0xff;
      carry = sum >> 8;
    }
    expect(carry).toBe(0); // S + L < 2^254: still a 32-byte scalar
    expect(forged).not.toEqual(good);
    expect(v.verify(msg, forged)).toBe(false);
  });
});

describe('caller bugs are TypeError / RangeError', () => {
  test('seed and key lengths', () => {
    expect(() => ed25519Signer('a', new Uint8Array(31))).toThrow(RangeError);
    expect(() => ed25519Signer('a', new Uint8Array(33))).toThrow(RangeError);
    expect(() => ed25519Signer('a', [1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => formatVerifierKey('a', new Uint8Array(31))).toThrow(RangeError);
    expect(() => formatSignerKey('a', new Uint8Array(31))).toThrow(RangeError);
    expect(() => ed25519Verifier('a', new Uint8Array(33))).toThrow(RangeError);
  });

  test('names and types', () => {
    expect(() => ed25519Signer('a b', new Uint8Array(32))).toThrow(RangeError);
    expect(() => ed25519Signer('a+b', new Uint8Array(32))).toThrow(RangeError);
    expect(() => ed25519Signer('', new Uint8Array(32))).toThrow(RangeError);
    expect(() => ed25519Signer(1 as unknown as string, new Uint8Array(32))).toThrow(TypeError);
    expect(() => keyIdFor('a', 256, new Uint8Array(32))).toThrow(RangeError);
    expect(() => keyIdFor('a', 1.5, new Uint8Array(32))).toThrow(RangeError);
    expect(() => parseVerifierKey(42 as unknown as string)).toThrow(TypeError);
    expect(() => parseSignerKey(undefined as unknown as string)).toThrow(TypeError);
  });
});
