import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical, encodeRecord } from '../../src/events/index.js';
import { ByteSink, cborToJson } from '../../src/query/cbor-json.js';
import { sampleEvent } from '../helpers.js';

const dec = new TextDecoder();

function transcode(cbor: Uint8Array): string | undefined {
  const out = new ByteSink();
  out.text('prefix:');
  if (!cborToJson(cbor, out)) {
    // Nothing written on failure: the sink holds exactly what it held before.
    expect(dec.decode(out.take())).toBe('prefix:');
    return undefined;
  }
  return dec.decode(out.take()).slice('prefix:'.length);
}

/** JSON values inside the log's CBOR domain (well-formed strings, finite numbers). */
const json = fc.jsonValue({ maxDepth: 6 });

describe('cborToJson', () => {
  it('gives the same value as decoding and JSON.stringify, for any JSON value', () => {
    fc.assert(
      fc.property(json, (v) => {
        const cbor = encodeCanonical(v);
        const text = transcode(cbor);
        expect(text).toBeDefined();
        expect(JSON.parse(text!)).toEqual(JSON.parse(JSON.stringify(decodeCanonical(cbor))));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a leading byte-order mark (U+FEFF) in keys and strings', () => {
    const v = { '\uFEFF': '\uFEFFx', k: ['\uFEFF'] };
    expect(JSON.parse(transcode(encodeCanonical(v))!)).toEqual(v);
  });

  it('writes strings and numbers exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()), (v) => {
        expect(transcode(encodeCanonical(v))).toBe(JSON.stringify(v));
      }),
      { numRuns: 1000 },
    );
    for (const s of ['"', '\\', '\u0000\u0001\u001f', '\b\f\n\r\t', '\u007f', '\u2028\u2029', 'é€😀']) expect(transcode(encodeCanonical(s))).toBe(JSON.stringify(s));
    for (const n of [0, -0, 1e21, -1e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 0.1, 5e-324]) expect(transcode(encodeCanonical(n))).toBe(JSON.stringify(n));
  });

  it('turns a stored leaf into the JSON of its record', () => {
    const record = { v: 1, tenant: 'acme', logged_at: 1795000000000, event: { ...sampleEvent(7), event_id: '0194f3a2-0000-7000-8000-000000000000' } } as const;
    const text = transcode(encodeRecord(record as never));
    expect(JSON.parse(text!)).toEqual(record);
  });

  it('answers false, writing nothing, for CBOR this server never writes', () => {
    const cases: [string, number[]][] = [
      ['a tag', [0xc1, 0x00]],
      ['a byte string', [0x41, 0x00]],
      ['an indefinite map', [0xbf, 0x61, 0x61, 0x00, 0xff]],
      ['an indefinite text', [0x7f, 0x61, 0x61, 0xff]],
      ['a float32', [0xfa, 0x3f, 0x80, 0x00, 0x00]],
      ['a float16', [0xf9, 0x3c, 0x00]],
      ['a non-finite float64', [0xfb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]],
      ['undefined', [0xf7]],
      ['an integer past 2^53', [0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0]],
      ['an integer key', [0xa1, 0x01, 0x02]],
      ['trailing bytes', [0x01, 0x02]],
      ['a truncated text', [0x63, 0x61, 0x62]],
      ['a truncated head', [0x19, 0x01]],
      ['nothing', []],
      ['reserved additional info', [0x1c]],
    ];
    for (const [what, bytes] of cases) expect(transcode(new Uint8Array(bytes)), what).toBeUndefined();
    // Deeper than MAX_CBOR_DEPTH (128): 200 nested one-element arrays.
    expect(transcode(new Uint8Array([...Array(200).fill(0x81), 0x00]))).toBeUndefined();
  });

  it('fits the densest output in the room it makes (six JSON bytes per CBOR byte), in a sink that starts small', () => {
    // `false,` from 0xf4, \u00XX from a control byte, `"":` from an empty key: the worst ratios.
    const values: unknown[] = [
      Array(5000).fill(false),
      '\u0001'.repeat(5000),
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => ['\u0000'.repeat(i % 3), false])),
      Array.from({ length: 3000 }, (_, i) => -1 - (i % 24)),
      [[], {}, [[]], [{}], Array(100).fill([])],
      Array(500).fill(-2.2250738585072014e-308),
    ];
    for (const v of values) {
      const cbor = encodeCanonical(v);
      for (const start of [1, 16, cbor.length]) {
        const out = new ByteSink(start);
        expect(cborToJson(cbor, out)).toBe(true);
        expect(dec.decode(out.take())).toBe(JSON.stringify(v));
      }
    }
  });

  it('writes integers and base64 into a sink exactly as String() and toBase64 do', async () => {
    const { portableToBase64 } = await import('../../src/bytes/index.js');
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ maxLength: 70 }), fc.nat({ max: 5 }), (n, bytes, skip) => {
        const out = new ByteSink(1);
        out.uint(n);
        out.byte(0x20);
        const at = Math.min(skip, bytes.length);
        out.base64(bytes, at, bytes.length - at);
        expect(dec.decode(out.handOff())).toBe(`${n} ${portableToBase64(bytes.subarray(at))}`);
        expect(out.p).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
