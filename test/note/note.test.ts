import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { concatBytes, fromHex, utf8 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import {
  MAX_NOTE_SIGNATURES,
  decodeNoteBytes,
  ed25519Signer,
  ed25519Verifier,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifyNote,
  type NoteSigner,
} from '../../src/note/index.js';
import { expectTlogError, noteVectors, witnessVectors } from './helpers.js';

const go = noteVectors.go_x_mod_v0_7_0;
const text = go.PeterNeumann.text;
const peterSig = go.PeterNeumann.signature_line;
const enochSig = go.EnochRoot.signature_line_over_same_text;
const peterSigner = parseSignerKey(go.PeterNeumann.skey);
const enochSigner = ed25519Signer('EnochRoot', new Uint8Array(32));
const peter = parseVerifierKey(go.PeterNeumann.vkey);
const enoch = parseVerifierKey(go.EnochRoot.vkey);

/** Go slices strings by byte; JS by UTF-16 unit. Do it on the UTF-8 bytes, like the Go test. */
function insertAtByte(s: string, offset: number, insert: string): string {
  const b = utf8(s);
  return decodeNoteBytes(concatBytes(b.subarray(0, offset), utf8(insert), b.subarray(offset)));
}

describe('byte-exact signing', () => {
  test('PeterNeumann (Go x/mod)', () => {
    expect(signNote(text, [peterSigner])).toBe(go.PeterNeumann.signed_note);
    expect(go.PeterNeumann.signed_note).toBe(text + '\n' + peterSig);
  });

  test('EnochRoot with the all-zero seed', () => {
    expect(signNote(text, [enochSigner])).toBe(text + '\n' + enochSig);
  });

  test('adding a signature keeps existing lines first (Go example_test output)', () => {
    const existing = parseNote(go.PeterNeumann.signed_note).signatures;
    expect(signNote(text, [enochSigner], existing)).toBe(go.doubly_signed_example_output);
  });

  test('a signer replaces the line with its (name, keyId); new lines go last, as in Go', () => {
    const existing = parseNote(go.doubly_signed_example_output).signatures;
    expect(signNote(text, [peterSigner], existing)).toBe(text + '\n' + enochSig + peterSig);
  });

  test('re-serializing parsed signatures reproduces the note', () => {
    const { text: t, signatures } = parseNote(go.doubly_signed_example_output);
    expect(signNote(t, [], signatures)).toBe(go.doubly_signed_example_output);
  });

  test('C2SP signed-note example verifies', () => {
    const c2sp = noteVectors.c2sp_signed_note_md;
    const opened = openNote(c2sp.signed_note, [parseVerifierKey(c2sp.vkey)]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified.map((s) => [s.name, s.keyId])).toEqual([['example.com/foo', 0x530d903a]]);
    expect(opened.unverified).toEqual([]);
  });
});

describe('Go open expectations', () => {
  const both = text + '\n' + peterSig + enochSig;

  test('Peter known: Sigs=[Peter], UnverifiedSigs=[Enoch]', () => {
    const n = openNote(both, [peter]);
    expect(n.text).toBe(text);
    expect(n.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(n.unverified.map((s) => [s.name, s.keyId])).toEqual([['EnochRoot', 0xaf0cfe78]]);
  });

  test('both known: Sigs=[Peter, Enoch]', () => {
    const n = openNote(both, [peter, enoch]);
    expect(n.verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(n.unverified).toEqual([]);
  });

  test('no verifiers: UNKNOWN_KEY "note has no verifiable signatures"', () => {
    const err = expectTlogError(() => openNote(both, []), 'UNKNOWN_KEY', /^note has no verifiable signatures$/);
    expect(err.details).toEqual({ unverified: ['PeterNeumann+c74f20a3', 'EnochRoot+af0cfe78'] });
  });

  test('101 signature lines: MALFORMED; 100 are accepted', () => {
    expectTlogError(() => openNote(text + '\n' + peterSig.repeat(101), [peter]), 'MALFORMED', /more than 100 signature lines/);
    const n = openNote(text + '\n' + peterSig.repeat(MAX_NOTE_SIGNATURES), [peter]);
    expect(n.verified).toHaveLength(1); // a repeated verified key counts once
  });

  test('garbled signature by a known key (Go: peterSig[:60]+"ABCD"+peterSig[60:]): BAD_SIGNATURE', () => {
    const garbled = text + '\n' + insertAtByte(peterSig, 60, 'ABCD');
    expect(parseNote(garbled).signatures[0]!.signature).toHaveLength(67); // parses fine
    const err = expectTlogError(() => openNote(garbled, [peter]), 'BAD_SIGNATURE', /^invalid signature for key PeterNeumann\+c74f20a3$/);
    expect(err.details).toEqual({ name: 'PeterNeumann', keyId: 'c74f20a3' });
  });
});

describe('verification rules', () => {
  test('a bad signature by a known key fails the note even if another known key verifies', () => {
    const garbledEnoch = insertAtByte(enochSig, 40, 'AAAA');
    expectTlogError(() => openNote(text + '\n' + peterSig + garbledEnoch, [peter, enoch]), 'BAD_SIGNATURE', /EnochRoot/);
    // ...but is ignored if that key is not known.
    expect(openNote(text + '\n' + peterSig + garbledEnoch, [peter]).unverified).toHaveLength(1);
  });

  test('every line by a known key is checked, not just the first (stricter than Go)', () => {
    const garbled = insertAtByte(peterSig, 60, 'ABCD');
    expectTlogError(() => openNote(text + '\n' + peterSig + garbled, [peter]), 'BAD_SIGNATURE');
  });

  test('known name with another key id, or known id with another name, is ignored', () => {
    const otherPeter = ed25519Signer('PeterNeumann', new Uint8Array(32).fill(1));
    expect(otherPeter.keyId).not.toBe(peter.keyId);
    expectTlogError(() => openNote(go.PeterNeumann.signed_note, [parseVerifierKey(otherPeter.verifierKey)]), 'UNKNOWN_KEY');
    const renamed = text + '\n' + peterSig.replace('PeterNeumann', 'PeterNeumann2');
    expect(parseNote(renamed).signatures[0]!.keyId).toBe(peter.keyId);
    expectTlogError(() => openNote(renamed, [peter]), 'UNKNOWN_KEY');
  });

  test('repeated identical unverified lines are kept once', () => {
    const n = openNote(text + '\n' + enochSig + peterSig + enochSig + enochSig, [peter]);
    expect(n.unverified).toHaveLength(1);
    expect(n.verified).toHaveLength(1);
  });

  test('two verifiers for the same (name, keyId): either may verify', () => {
    const impostor = { name: peter.name, keyId: peter.keyId, verify: () => false };
    expect(openNote(go.PeterNeumann.signed_note, [impostor, peter]).verified).toHaveLength(1);
    expectTlogError(() => openNote(go.PeterNeumann.signed_note, [impostor]), 'BAD_SIGNATURE');
  });

  test('non-zero trailing base64 bits are tolerated like Go (same bytes, still verifies)', () => {
    // "…JnAM=" → "…JnAN=": M and N differ only in the 2 bits the padding discards.
    const tweaked = go.PeterNeumann.signed_note.replace('JnAM=\n', 'JnAN=\n');
    expect(tweaked).not.toBe(go.PeterNeumann.signed_note);
    expect(openNote(tweaked, [peter]).verified).toHaveLength(1);
  });

  test('litewitness: a corrupted log signature is BAD_SIGNATURE (403), the intact one verifies', () => {
    const lw = witnessVectors.litewitness_sigsum_log;
    const log = ed25519Verifier(lw.origin, fromHex(lw.log_ed25519_pubkey_hex)!);
    const checkpointOf = (body: string): string => body.slice(body.indexOf('\n\n') + 2);
    const corrupted = lw.requests_in_order[1]!;
    expect(corrupted.status).toBe(403);
    expectTlogError(() => openNote(checkpointOf(corrupted.body), [log]), 'BAD_SIGNATURE');
    const intact = lw.requests_in_order[3]!; // 422 for its proof, so its signature was fine
    expect(openNote(checkpointOf(intact.body), [log]).verified[0]!.name).toBe(lw.origin);
  });

  test('text may contain blank lines: split at the last "\\n\\n" (C2SP intro note)', () => {
    const n = parseNote(noteVectors.c2sp_signed_note_md.intro_example_note_no_key_published);
    expect(n.text).toBe('Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n');
    expect(n.signatures.map((s) => s.name)).toEqual(['quasimodo.example/salvatore']);
    expect(n.signatures[0]!.signature).toHaveLength(64);
  });

  test('verifiers must be an array', () => {
    expect(() => openNote(go.PeterNeumann.signed_note, peter as unknown as [])).toThrow(TypeError);
    expect(() => verifyNote(parseNote(go.PeterNeumann.signed_note), undefined as unknown as [])).toThrow(TypeError);
  });
});

describe('malformed notes', () => {
  const cases: [string, string, RegExp][] = [
    ['text only (Go)', text, /no blank line/],
    ['text + "\\n" (Go)', text + '\n', /no signature lines/],
    ['signature without final newline (Go)', text + '\n' + peterSig.slice(0, -1), /must end in a newline/],
    ['control character (Go)', '\x01' + text + '\n' + peterSig, /control character U\+0001/],
    ['space in key name (Go)', text + '\n' + '— Bad Name ' + peterSig.slice(peterSig.indexOf(' ', 2) + 1), /not base64/],
    ['non-signature line after signatures (Go)', text + '\n' + peterSig + 'Unexpected line.\n', /line 2 does not start with "— "/],
    ['CRLF line endings', (text + '\n' + peterSig).replaceAll('\n', '\r\n'), /carriage return/],
    ['tab in the text', 'a\tb\n\n' + peterSig, /control character U\+0009/],
    ['unpaired surrogate', '\uD800' + text + '\n' + peterSig, /unpaired surrogate/],
    ['en dash instead of em dash', text + '\n' + peterSig.replace('—', '–'), /does not start with "— "/],
    ['two hyphens instead of em dash', text + '\n' + peterSig.replace('—', '--'), /does not start with "— "/],
    ['em dash without the space', text + '\n' + peterSig.replace('— ', '—'), /does not start with "— "/],
    ['no space after the name', text + '\n' + '— PeterNeumann\n', /no signature after the key name/],
    ['empty base64', text + '\n' + '— PeterNeumann \n', /not base64/],
    ['blob shorter than 5 bytes', text + '\n' + '— PeterNeumann AAAA\n', /not base64/],
    ['base64url blob', text + '\n' + peterSig.replace('/', '_'), /not base64/],
    ['unpadded blob', text + '\n' + peterSig.replace('=\n', '\n'), /not base64/],
    ['"+" in the key name', text + '\n' + peterSig.replace('PeterNeumann', 'Peter+Neumann'), /invalid key name/],
    ['empty key name', text + '\n' + peterSig.replace('PeterNeumann', ''), /invalid key name/],
    ['101 unknown-key lines', text + '\n' + enochSig.repeat(101), /more than 100/],
  ];
  test.each(cases)('%s', (_, msg, reason) => {
    expectTlogError(() => parseNote(msg), 'MALFORMED', reason);
    expectTlogError(() => openNote(msg, [peter, enoch]), 'MALFORMED', reason);
  });

  test('invalid UTF-8 bytes (Go: "\\xff" + text) are MALFORMED at decoding', () => {
    const bytes = concatBytes(Uint8Array.of(0xff), utf8(go.PeterNeumann.signed_note));
    expectTlogError(() => decodeNoteBytes(bytes), 'MALFORMED', /not valid UTF-8/);
    expectTlogError(() => decodeNoteBytes(Uint8Array.of(0xed, 0xa0, 0x80)), 'MALFORMED'); // CESU-8 surrogate
  });

  test('decodeNoteBytes keeps a byte-order mark (it is part of the signed bytes)', () => {
    expect(decodeNoteBytes(utf8(go.PeterNeumann.signed_note))).toBe(go.PeterNeumann.signed_note);
    expect(decodeNoteBytes(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))).toBe('\uFEFFA');
  });

  test('non-string input is a caller bug', () => {
    expect(() => parseNote(utf8(text) as unknown as string)).toThrow(TypeError);
    expect(() => decodeNoteBytes('x' as unknown as Uint8Array)).toThrow(TypeError);
  });

  test('fuzz: parseNote either parses or throws MALFORMED, nothing else', () => {
    const piece = fc.constantFrom('\n', '\n\n', '— ', '—', ' ', 'PeterNeumann', 'x08go/ZJ', 'AAAA', '=', '+', '\r', '\x00', '\uD800', 'é', peterSig);
    fc.assert(
      fc.property(fc.oneof(fc.array(piece).map((p) => p.join('')), fc.string({ unit: 'binary' })), (msg) => {
        try {
          const n = parseNote(msg);
          expect(n.text.endsWith('\n')).toBe(true);
          expect(n.signatures.length).toBeGreaterThan(0);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          expect((e as TlogError).code).toBe('MALFORMED');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('signNote', () => {
  test('text must end in a newline and hold only note characters: MALFORMED', () => {
    expectTlogError(() => signNote('no newline', [peterSigner]), 'MALFORMED', /must end in a newline/);
    expectTlogError(() => signNote('', [peterSigner]), 'MALFORMED', /must end in a newline/);
    expectTlogError(() => signNote('a\r\n', [peterSigner]), 'MALFORMED', /carriage return/);
    expectTlogError(() => signNote('\uDC00\n', [peterSigner]), 'MALFORMED', /unpaired surrogate/);
  });

  test('caller bugs: RangeError / TypeError', () => {
    expect(() => signNote(text, [])).toThrow(RangeError);
    expect(() => signNote(text, [peterSigner, peterSigner])).toThrow(RangeError);
    const badName: NoteSigner = { name: 'a b', keyId: 1, sign: () => new Uint8Array(64) };
    expect(() => signNote(text, [badName])).toThrow(RangeError);
    const badId: NoteSigner = { name: 'a', keyId: 2 ** 32, sign: () => new Uint8Array(64) };
    expect(() => signNote(text, [badId])).toThrow(RangeError);
    const empty: NoteSigner = { name: 'a', keyId: 1, sign: () => new Uint8Array(0) };
    expect(() => signNote(text, [empty])).toThrow(RangeError);
    const notBytes: NoteSigner = { name: 'a', keyId: 1, sign: () => 'sig' as unknown as Uint8Array };
    expect(() => signNote(text, [notBytes])).toThrow(TypeError);
    const many = parseNote(text + '\n' + enochSig).signatures[0]!;
    expect(() => signNote(text, [peterSigner], Array.from({ length: 100 }, (_, i) => ({ ...many, keyId: i })))).toThrow(RangeError);
    expect(signNote(text, [peterSigner], Array.from({ length: 99 }, (_, i) => ({ ...many, keyId: i })))).toMatch(/PeterNeumann/);
  });

  test('the signer gets exactly the UTF-8 text bytes', () => {
    let seen: Uint8Array | undefined;
    const spy: NoteSigner = { name: 'spy', keyId: 7, sign: (m) => ((seen = m), new Uint8Array(64)) };
    signNote('é —\n', [spy]);
    expect(seen).toEqual(utf8('é —\n'));
  });

  test('property: sign → open round-trips any note text', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\x00-\x1f]/.test(s));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const t = lines.map((l) => l + '\n').join('');
        const signed = signNote(t, [peterSigner, enochSigner]);
        const opened = openNote(signed, [peter]);
        expect(opened.text).toBe(t);
        expect(opened.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
        expect(opened.unverified.map((s) => s.name)).toEqual(['EnochRoot']);
        expect(signNote(t, [], parseNote(signed).signatures)).toBe(signed);
      }),
      { numRuns: 200 },
    );
  });
});
