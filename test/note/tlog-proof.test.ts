import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { concatBytes, toBase64, utf8 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import {
  MAX_INCLUSION_PROOF_LENGTH,
  TLOG_PROOF_HEADER,
  formatTlogProof,
  openCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  type TlogProof,
} from '../../src/note/index.js';
import { checkpointVectors, expectTlogError, vectorBytes } from './helpers.js';

const tessera = checkpointVectors.tessera_testdata_log;
const checkpoint3 = tessera.checkpoints_by_size['3']!;

// Leaf hashes of entries 0..2, straight from tessera's level-0 partial tile of width 3.
const tile = vectorBytes('tessera-testdata-log/tile/0/000.p/3');
const leaf = (i: number): Uint8Array => tile.subarray(32 * i, 32 * i + 32);

/** Inclusion proof of entry 0 in the size-3 tree: sibling leaf 1, then leaf 2 (RFC 6962 §2.1.1). */
const realProof: TlogProof = { extra: utf8('one'), index: 0, inclusionProof: [leaf(1), leaf(2)], checkpoint: checkpoint3 };

describe('tlog-proof format', () => {
  test('the tile and checkpoint fixtures agree (the proof is real)', () => {
    const h = (...p: Uint8Array[]): Uint8Array => sha256(concatBytes(...p));
    expect(leaf(0)).toEqual(h(Uint8Array.of(0), utf8('one')));
    const root = h(Uint8Array.of(1), h(Uint8Array.of(1), leaf(0), leaf(1)), leaf(2));
    expect(openCheckpoint(checkpoint3, [parseVerifierKey(tessera.vkey)]).checkpoint.rootHash).toEqual(root);
  });

  test('exact layout', () => {
    expect(formatTlogProof(realProof)).toBe(
      `c2sp.org/tlog-proof@v1\nextra b25l\nindex 0\n${toBase64(leaf(1))}\n${toBase64(leaf(2))}\n\n` + checkpoint3,
    );
    expect(formatTlogProof({ index: 12, inclusionProof: [], checkpoint: checkpoint3 })).toBe(
      `${TLOG_PROOF_HEADER}\nindex 12\n\n${checkpoint3}`,
    );
  });

  test('round trips: with and without extra, empty extra, no hashes', () => {
    const variants: TlogProof[] = [
      realProof,
      { index: 2, inclusionProof: [leaf(0)], checkpoint: checkpoint3 },
      { extra: new Uint8Array(0), index: 0, inclusionProof: [], checkpoint: tessera.checkpoints_by_size['1']! },
    ];
    for (const p of variants) {
      const s = formatTlogProof(p);
      expect(parseTlogProof(s)).toEqual(p);
      expect(formatTlogProof(parseTlogProof(s))).toBe(s);
    }
    expect('extra' in parseTlogProof(formatTlogProof(variants[1]!))).toBe(false);
  });

  test('the checkpoint is kept verbatim, cosignature lines included', () => {
    const cosigned = checkpoint3 + '— witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    expect(parseTlogProof(formatTlogProof({ ...realProof, checkpoint: cosigned })).checkpoint).toBe(cosigned);
  });

  test('property: parseTlogProof inverts formatTlogProof', () => {
    const proof = fc.record(
      {
        extra: fc.uint8Array({ maxLength: 100 }),
        index: fc.maxSafeNat(),
        inclusionProof: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: MAX_INCLUSION_PROOF_LENGTH }),
        checkpoint: fc.constantFrom(...Object.values(tessera.checkpoints_by_size)),
      },
      { requiredKeys: ['index', 'inclusionProof', 'checkpoint'] },
    );
    fc.assert(
      fc.property(proof, (p) => {
        const s = formatTlogProof(p);
        expect(parseTlogProof(s)).toEqual(p);
        expect(formatTlogProof(parseTlogProof(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('malformed tlog-proofs', () => {
  const good = formatTlogProof(realProof);
  const h1 = toBase64(leaf(1));
  const cases: [string, string, RegExp][] = [
    ['wrong version', good.replace('@v1', '@v2'), /first line/],
    ['header with trailing space', good.replace('@v1\n', '@v1 \n'), /first line/],
    ['CRLF', good.replaceAll('\n', '\r\n'), /no empty line|first line/],
    ['empty input', '', /no empty line/],
    ['no empty line before the checkpoint', good.replace('\n\n', '\n'), /not canonical base64|no empty line/],
    ['missing index line', good.replace('index 0\n', ''), /missing index line/],
    ['index with leading zero', good.replace('index 0\n', 'index 00\n'), /index must be/],
    ['negative index', good.replace('index 0\n', 'index -1\n'), /index must be/],
    ['index 2^53', good.replace('index 0\n', 'index 9007199254740992\n'), /index must be/],
    ['index without value', good.replace('index 0\n', 'index \n'), /index must be/],
    ['"index" without space', good.replace('index 0\n', 'index0\n'), /missing index line/],
    ['index before extra', good.replace('extra b25l\nindex 0\n', 'index 0\nextra b25l\n'), /inclusion proof line 1/],
    ['extra not base64', good.replace('extra b25l', 'extra b25l!'), /extra/],
    ['extra with non-zero trailing bits', good.replace('extra b25l', 'extra b25='), /extra/],
    ['hash of 31 bytes', good.replace(h1, toBase64(new Uint8Array(31))), /line 1 is not canonical base64 of 32 bytes/],
    ['hash of 33 bytes', good.replace(h1, toBase64(new Uint8Array(33))), /line 1/],
    ['base64url hash', good.replace(h1, toBase64(new Uint8Array(32).fill(0xff)).replaceAll('/', '_')), /line 1/],
    ['hex hash', good.replace(h1, Array.from(leaf(1), (b) => b.toString(16).padStart(2, '0')).join('')), /line 1/],
    ['too many hashes', good.replace(h1 + '\n', (h1 + '\n').repeat(MAX_INCLUSION_PROOF_LENGTH)), /more than 64/],
    ['checkpoint without signatures', good.slice(0, good.lastIndexOf('\n\n') + 1), /checkpoint: malformed note/],
    ['checkpoint that is not a checkpoint', good.replace('\n3\n', '\n03\n'), /checkpoint: malformed checkpoint: tree size/],
    ['trailing garbage after the checkpoint', good + 'garbage', /checkpoint: malformed note/],
  ];
  test.each(cases)('%s', (_, s, reason) => {
    expectTlogError(() => parseTlogProof(s), 'MALFORMED', reason);
  });

  test('exactly 64 hashes is the limit', () => {
    const max = { ...realProof, inclusionProof: Array.from({ length: MAX_INCLUSION_PROOF_LENGTH }, () => leaf(0)) };
    expect(parseTlogProof(formatTlogProof(max)).inclusionProof).toHaveLength(64);
  });

  test('fuzz: parseTlogProof either parses or throws MALFORMED', () => {
    const piece = fc.constantFrom('\n', '\n\n', TLOG_PROOF_HEADER, 'extra ', 'index ', '0', '01', h1, '=', checkpoint3, '\r', '\uD800');
    fc.assert(
      fc.property(fc.oneof(fc.array(piece).map((p) => p.join('')), fc.string({ unit: 'binary' })), (s) => {
        try {
          parseTlogProof(s);
        } catch (e) {
          expect(e).toBeInstanceOf(TlogError);
          expect((e as TlogError).code).toBe('MALFORMED');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatTlogProof caller bugs', () => {
  test('RangeError / TypeError', () => {
    expect(() => formatTlogProof({ ...realProof, index: -1 })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, index: 2 ** 53 })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, inclusionProof: [new Uint8Array(31)] })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, inclusionProof: Array.from({ length: 65 }, () => leaf(0)) })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, checkpoint: '' })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, checkpoint: checkpoint3.slice(0, -1) })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, checkpoint: '\n' + checkpoint3 })).toThrow(RangeError);
    expect(() => formatTlogProof({ ...realProof, extra: 'x' as unknown as Uint8Array })).toThrow(TypeError);
    expect(() => formatTlogProof({ ...realProof, index: '0' as unknown as number })).toThrow(TypeError);
  });
});
