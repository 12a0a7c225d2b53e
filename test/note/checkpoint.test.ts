import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { concatBytes, fromHex, toBase64, toHex, utf8 } from '../../src/bytes/index.js';
import {
  decodeNoteBytes,
  ed25519Signer,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type Checkpoint,
} from '../../src/note/index.js';
import { checkpointVectors, expectTlogError, vectorBytes } from './helpers.js';

const tessera = checkpointVectors.tessera_testdata_log;
const tesseraVerifier = parseVerifierKey(tessera.vkey);
const tesseraSigner = parseSignerKey(tessera.skey);
const EMPTY_ROOT = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

/** RFC 6962 leaf hash, to tie checkpoint roots to their entries. */
const leafHash = (data: Uint8Array): Uint8Array => sha256(concatBytes(Uint8Array.of(0), data));

/** The body (note text) of a signed checkpoint. */
const bodyOf = (signed: string): string => parseNote(signed).text;

describe('tessera testdata log', () => {
  test.each(Object.entries(tessera.checkpoints_by_size))('size %s: verifies, re-signs byte-identically, round-trips', (size, signed) => {
    const { checkpoint, note } = openCheckpoint(signed, [tesseraVerifier], tessera.origin);
    expect(checkpoint.treeSize).toBe(Number(size));
    expect(checkpoint.origin).toBe(tessera.origin);
    expect(checkpoint.extensions).toEqual([]);
    expect(note.verified.map((s) => s.keyId)).toEqual([0x33d7b496]);
    expect(signNote(formatCheckpoint(checkpoint), [tesseraSigner])).toBe(signed);
    expect(formatCheckpoint(parseCheckpoint(note.text))).toBe(note.text);
  });

  test('roots: size 0 is SHA-256(""), size 1 is SHA-256(0x00 ‖ "one")', () => {
    expect(toBase64(openCheckpoint(tessera.checkpoints_by_size['0']!, [tesseraVerifier]).checkpoint.rootHash)).toBe(EMPTY_ROOT);
    const one = openCheckpoint(tessera.checkpoints_by_size['1']!, [tesseraVerifier]).checkpoint;
    expect(one.rootHash).toEqual(leafHash(utf8(tessera.entries_in_order_ascii[0]!)));
  });

  const files = ['checkpoint', ...Array.from({ length: 16 }, (_, n) => `checkpoint.${n}`)];
  test.each(files)('file %s parses and verifies with the tessera vkey', (file) => {
    const signed = decodeNoteBytes(vectorBytes(`tessera-testdata-log/${file}`));
    const { checkpoint } = openCheckpoint(signed, [tesseraVerifier], tessera.origin);
    const size = file === 'checkpoint' ? 15 : Number(file.split('.')[1]);
    expect(checkpoint.treeSize).toBe(size);
    expect(signed).toBe(tessera.checkpoints_by_size[String(size)]);
  });
});

describe('other published checkpoints', () => {
  const monkeys = checkpointVectors.transparency_dev_witness_monkeys;

  test.each([
    ['size 5', monkeys.checkpoint_size5, 5],
    ['size 8', monkeys.checkpoint_size8, 8],
  ] as const)('witness monkeys %s: verifies and re-signs byte-identically', (_, signed, size) => {
    const { checkpoint } = openCheckpoint(signed, [parseVerifierKey(monkeys.keys.monkeys.vkey)], 'monkeys');
    expect(checkpoint.treeSize).toBe(size);
    expect(signNote(formatCheckpoint(checkpoint), [parseSignerKey(monkeys.keys.monkeys.skey)])).toBe(signed);
  });

  test('sigsum seed 17: origin derives from the key, re-signs byte-identically', () => {
    const s = checkpointVectors.sigsum_seed17;
    const pub = ed25519Signer('x', fromHex(s.ed25519_seed_hex)!).publicKey;
    const origin = 'sigsum.org/v1/tree/' + toHex(sha256(pub));
    const signer = ed25519Signer(origin, fromHex(s.ed25519_seed_hex)!);
    const { checkpoint } = openCheckpoint(s.signed_checkpoint, [parseVerifierKey(signer.verifierKey)], origin);
    expect(checkpoint.treeSize).toBe(10);
    expect(signNote(formatCheckpoint(checkpoint), [signer])).toBe(s.signed_checkpoint);
  });

  test('sigsum format-only example parses (its DEADBEEF signature is a placeholder)', () => {
    const body = bodyOf(checkpointVectors.sigsum_seed17.format_only_example);
    expect(parseCheckpoint(body)).toMatchObject({ origin: 'example.org/log', treeSize: 10 });
    expect(formatCheckpoint(parseCheckpoint(body))).toBe(body);
  });

  const sumdb = checkpointVectors.sum_golang_org;
  test.each(sumdb.checkpoints.map((c) => [bodyOf(c.note).split('\n')[1]!, c.note]))('sum.golang.org tree %s verifies', (size, signed) => {
    const { checkpoint, note } = openCheckpoint(signed, [parseVerifierKey(sumdb.vkey)], 'go.sum database tree');
    expect(checkpoint.treeSize).toBe(Number(size));
    expect(note.verified[0]!.name).toBe('sum.golang.org');
    expect(formatCheckpoint(checkpoint)).toBe(note.text);
  });

  test('sum.golang.org 6476701 with three extra signatures: all four verify', () => {
    const extra = sumdb.extra_signatures_over_6476701_body;
    const signed = sumdb.checkpoints[0]!.note + extra.signature_lines.map((l) => l + '\n').join('');
    const all = [sumdb.vkey, ...extra.vkeys].map(parseVerifierKey);
    expect(openCheckpoint(signed, all).note.verified.map((s) => s.name)).toEqual(['sum.golang.org', 'monkeys', 'bananas', 'witness']);
    const onlyLog = openCheckpoint(signed, [all[0]!]).note;
    expect(onlyLog.verified).toHaveLength(1);
    expect(onlyLog.unverified.map((s) => s.name)).toEqual(['monkeys', 'bananas', 'witness']);
  });

  test('static-ct type-0x05 signature is ignored by Ed25519 verifiers', () => {
    const signed = checkpointVectors.static_ct_rfc6962_type05_example.checkpoint;
    const { text, signatures } = parseNote(signed);
    expect(parseCheckpoint(text).treeSize).toBe(115474666);
    expect(signatures[0]!.keyId).toBe(0x78f4abae);
    expectTlogError(() => openCheckpoint(signed, [tesseraVerifier]), 'UNKNOWN_KEY');
  });

  test('C2SP behind-the-sofa: key id matches sum.golang.org but the name does not, so it is ignored', () => {
    const signed = checkpointVectors.c2sp_example_no_key_published.checkpoint;
    expect(parseNote(signed).signatures[0]!.keyId).toBe(parseVerifierKey(sumdb.vkey).keyId);
    expectTlogError(() => openCheckpoint(signed, [parseVerifierKey(sumdb.vkey)]), 'UNKNOWN_KEY');
  });

  test('Go FormatTree golden: root is RecordHash("hello world") = SHA-256(0x00 ‖ data)', () => {
    const golden = checkpointVectors.go_sumdb_tree_note;
    const c = parseCheckpoint(golden.FormatTree_golden);
    expect(c).toEqual({ origin: 'go.sum database tree', treeSize: golden.tree.N, rootHash: leafHash(utf8('hello world')), extensions: [] });
    expect(formatCheckpoint(c)).toBe(golden.FormatTree_golden);
  });
});

describe('openCheckpoint errors', () => {
  const signed = tessera.checkpoints_by_size['3']!;

  test('WRONG_ORIGIN is reported before any signature work', () => {
    const err = expectTlogError(() => openCheckpoint(signed, [], 'example.com/other'), 'WRONG_ORIGIN');
    expect(err.details).toEqual({ expected: 'example.com/other' });
  });

  test('garbled signature by the log key: BAD_SIGNATURE', () => {
    const sig = signed.slice(signed.lastIndexOf(' ') + 1);
    const garbled = signed.replace(sig, sig.slice(0, 20) + (sig[20] === 'A' ? 'B' : 'A') + sig.slice(21));
    expectTlogError(() => openCheckpoint(garbled, [tesseraVerifier], tessera.origin), 'BAD_SIGNATURE');
  });

  test('signed by someone else only: UNKNOWN_KEY', () => {
    const other = ed25519Signer(tessera.origin, new Uint8Array(32).fill(5));
    const forged = signNote(bodyOf(signed), [other]);
    expectTlogError(() => openCheckpoint(forged, [tesseraVerifier], tessera.origin), 'UNKNOWN_KEY');
  });

  test('a tampered body fails the log signature', () => {
    const tampered = signed.replace('\n3\n', '\n4\n');
    expectTlogError(() => openCheckpoint(tampered, [tesseraVerifier], tessera.origin), 'BAD_SIGNATURE');
  });

  test('a body that is not a checkpoint is MALFORMED even when validly signed', () => {
    const note = signNote('just text\n', [tesseraSigner]);
    expectTlogError(() => openCheckpoint(note, [tesseraVerifier]), 'MALFORMED', /fewer than 3 lines/);
  });
});

describe('malformed checkpoint bodies', () => {
  const root = 'T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=';
  const body = (size: string, r = root, origin = 'example.com/log'): string => `${origin}\n${size}\n${r}\n`;
  const cases: [string, string, RegExp][] = [
    ['leading zero in size', body('02'), /tree size/],
    ['"00"', body('00'), /tree size/],
    ['plus sign', body('+2'), /tree size/],
    ['minus sign', body('-2'), /tree size/],
    ['space before size', body(' 2'), /tree size/],
    ['decimal point', body('2.0'), /tree size/],
    ['exponent', body('2e3'), /tree size/],
    ['hex', body('0x2'), /tree size/],
    ['empty size', body(''), /tree size/],
    ['2^53 (not a safe integer)', body('9007199254740992'), /tree size/],
    ['20 digits', body('18446744073709551615'), /tree size/],
    ['31-byte root', body('2', toBase64(new Uint8Array(31))), /root hash/],
    ['33-byte root', body('2', toBase64(new Uint8Array(33))), /root hash/],
    ['root without padding', body('2', root.slice(0, -1)), /root hash/],
    ['base64url root', body('2', '_' + root.slice(1)), /root hash/],
    // '4' → '5' changes only the 2 bits the padding discards: same bytes, non-canonical text.
    ['root with non-zero trailing bits', body('2', root.slice(0, -2) + '5='), /root hash/],
    ['hex root', body('2', toHex(new Uint8Array(32))), /root hash/],
    ['empty origin', body('2', root, ''), /empty origin/],
    ['two lines', 'example.com/log\n2\n', /fewer than 3 lines/],
    ['missing final newline', body('2').slice(0, -1), /must end in a newline/],
    ['empty extension line', body('2') + '\n', /empty extension line/],
    ['empty extension line between others', body('2') + 'a\n\nb\n', /empty extension line/],
    ['CRLF', body('2').replaceAll('\n', '\r\n'), /carriage return/],
    ['control character in origin', body('2', root, 'a\x7f\x1bb'), /control character U\+001b/],
  ];
  test.each(cases)('%s', (_, text, reason) => {
    expectTlogError(() => parseCheckpoint(text), 'MALFORMED', reason);
  });

  test('the largest safe size is accepted', () => {
    expect(parseCheckpoint(body('9007199254740991')).treeSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseCheckpoint(body('0')).treeSize).toBe(0);
  });

  test('malformed body inside a signed note is MALFORMED, not a signature error', () => {
    const note = signNote(body('02'), [tesseraSigner]);
    expectTlogError(() => openCheckpoint(note, [tesseraVerifier]), 'MALFORMED', /tree size/);
  });

  test('extension lines are kept verbatim', () => {
    const text = body('2') + 'ext one\n— two\n';
    const c = parseCheckpoint(text);
    expect(c.extensions).toEqual(['ext one', '— two']);
    expect(formatCheckpoint(c)).toBe(text);
  });
});

describe('formatCheckpoint', () => {
  const good: Checkpoint = { origin: 'example.com/log', treeSize: 2, rootHash: new Uint8Array(32), extensions: [] };

  test('exact layout', () => {
    expect(formatCheckpoint({ ...good, extensions: ['x'] })).toBe(`example.com/log\n2\n${toBase64(new Uint8Array(32))}\nx\n`);
  });

  test('caller bugs: RangeError / TypeError', () => {
    for (const treeSize of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) expect(() => formatCheckpoint({ ...good, treeSize })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, treeSize: '2' as unknown as number })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...good, rootHash: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, origin: '' })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, origin: 'a\nb' })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, origin: 'a\rb' })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, extensions: [''] })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, extensions: ['a\n'] })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...good, extensions: 'x' as unknown as string[] })).toThrow(TypeError);
  });

  test('property: parseCheckpoint inverts formatCheckpoint', () => {
    const line = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => !/[\x00-\x1f]/.test(s));
    const checkpoint = fc.record({
      origin: line,
      treeSize: fc.maxSafeNat(),
      rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      extensions: fc.array(line, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(checkpoint, (c) => {
        const text = formatCheckpoint(c);
        expect(parseCheckpoint(text)).toEqual(c);
        expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
