/**
 * Erased marks on the transcoded path: the transcoder with a RefMark writes
 * the bytes JSON.stringify writes for markErased's copy; the scanner finds
 * the references the decoded walk finds; a chunk without references makes
 * no vault read.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../../src/events/index.js';
import { forEachPiiRef } from '../../src/events/pii.js';
import { lookupMarks, markErased, type ErasureReader } from '../../src/privacy/annotate.js';
import { ByteSink, cborToJson, type RefMark } from '../../src/query/cbor-json.js';
import { eachRef, mayHoldRef } from '../../src/query/cbor-refs.js';
import { erasureMarks } from '../../src/query/erasure-marks.js';

const dec = new TextDecoder();
const AT = '2026-04-06T10:00:00.000Z';

const ref = (k: number) => ({ $pii: `pii_${String(k).padStart(22, '0')}`, subject: `ps_${String(k % 5).padStart(22, '0')}`, commitment: 'LVZcGFmU0sPBcIbkVsLGM3RLD+/RLfHBGnLKT+XFeIU=' });
/** Erased: subjects 0 and 1 (every pointer of theirs), and the pointers divisible by 7. */
const mark: RefMark = (p, s) => (s.endsWith('0') || s.endsWith('1') || Number(p.slice(4)) % 7 === 0 ? AT : undefined);

/** A reference's own keys, and the two a mark adds (never in a stored reference). */
const REF_KEYS = new Set(['$pii', 'subject', 'commitment', 'erased', 'erased_at']);

/** JSON values with references among them, and other maps with some of a reference's keys. */
const withRefs = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.nat({ max: 40 }).map(ref),
    // A reference with other keys, references among their values: what nested configured paths
    // once wrote (pii-paths.ts now refuses them); every read walks into them alike.
    fc
      .tuple(fc.nat({ max: 40 }), fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => !REF_KEYS.has(k)), tie('value'), { minKeys: 1, maxKeys: 2 }))
      .map(([k, extra]) => ({ ...ref(k), ...extra })),
    fc.record({ $pii: fc.string(), subject: fc.constant('ps_x') }), // not a reference: no commitment
    fc.record({ $pii: fc.nat(), subject: fc.string(), commitment: fc.string() }), // nor is this: $pii is no text
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

function transcode(cbor: Uint8Array, m: RefMark | undefined, start = 64): string | undefined {
  const out = new ByteSink(start);
  out.text('prefix:');
  if (!cborToJson(cbor, out, m)) {
    expect(dec.decode(out.take())).toBe('prefix:');
    return undefined;
  }
  return dec.decode(out.take()).slice('prefix:'.length);
}

describe('cborToJson with a RefMark', () => {
  it('writes what JSON.stringify writes for markErased, byte for byte (keys in CBOR order)', () => {
    fc.assert(
      fc.property(withRefs, (v) => {
        const cbor = encodeCanonical(v as never);
        const decoded = decodeCanonical(cbor);
        // The decoded record's key order is the leaf's, except integer-like keys: compare those values parsed.
        const want = JSON.stringify(markErased(decoded, mark));
        const got = transcode(cbor, mark);
        expect(JSON.parse(got!)).toEqual(JSON.parse(want));
        // Bytes of each plain reference (one with other keys may hold integer-like keys, which JavaScript reorders).
        forEachPiiRef(decoded, (r) => Object.keys(r).length === 3 && expect(got).toContain(JSON.stringify(markErased(r, mark))));
        // Without a mark, or with one that knows no erasure, the plain transcoding.
        expect(transcode(cbor, () => undefined)).toBe(transcode(cbor, undefined));
      }),
      { numRuns: 400 },
    );
    const leaf = encodeCanonical({ v: 1, event: { pii: { a: ref(0), b: ref(2) }, list: [ref(7), { x: ref(3) }] } } as never);
    expect(transcode(leaf, mark)).toBe(JSON.stringify(markErased(decodeCanonical(leaf), mark)));
    expect(transcode(leaf, mark)).toContain(`"commitment":"${ref(0).commitment}","erased":true,"erased_at":"${AT}"}`);
  });

  it('fits marks beyond the room it makes, in a sink that starts small', () => {
    const many = Array.from({ length: 3000 }, (_, k) => ref(k * 5)); // all subject 0: all erased
    const cbor = encodeCanonical(many as never);
    for (const start of [1, 16, cbor.length]) expect(transcode(cbor, mark, start)).toBe(JSON.stringify(markErased(many, mark)));
    // ISO times fit in the room made for the leaf; a longer mark grows the sink.
    const long: RefMark = () => 'T'.repeat(5000);
    const few = many.slice(0, 10);
    const small = encodeCanonical(few as never);
    for (const start of [1, small.length]) expect(transcode(small, long, start)).toBe(JSON.stringify(markErased(few, long)));
  });

  it('answers false with the sink as it was, after a mark grew it', () => {
    const good = encodeCanonical(Array.from({ length: 200 }, (_, k) => ref(k * 5)) as never);
    // The same array with one more element, a tag, after the marked references.
    const bad = new Uint8Array([0x99, 0x00, 0xc9, ...good.subarray(2), 0xc1, 0x00]);
    expect(good[0]).toBe(0x98); // an array of 200: head 0x98 0xc8
    expect(transcode(bad, mark, 8)).toBeUndefined();
  });
});

describe('eachRef and mayHoldRef', () => {
  it('find the references the decoded walk finds', () => {
    fc.assert(
      fc.property(withRefs, (v) => {
        const cbor = encodeCanonical(v as never);
        const want: string[] = [];
        forEachPiiRef(decodeCanonical(cbor), (r) => want.push(`${r.$pii} ${r.subject}`));
        const got: string[] = [];
        expect(eachRef(cbor, (p, s) => got.push(`${p} ${s}`))).toBe(true);
        expect(got.sort()).toEqual(want.sort());
        if (want.length > 0) expect(mayHoldRef(cbor)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('mayHoldRef is false without the text "$pii"; eachRef answers false outside the subset', () => {
    expect(mayHoldRef(encodeCanonical({ pii: 'none', subject: 's', commitment: 'c' } as never))).toBe(false);
    expect(mayHoldRef(encodeCanonical({ note: 'costs $pii' } as never))).toBe(false); // inside a longer text: another head
    expect(mayHoldRef(encodeCanonical({ a: '$$ $pi $', b: ref(1) } as never))).toBe(true); // other $ first
    expect(mayHoldRef(encodeCanonical({ a: '$$ $pi $' } as never))).toBe(false);
    expect(eachRef(new Uint8Array([0xa1, 0x61, 0x61, 0xc1, 0x00]), () => {})).toBe(false); // a tag
    expect(eachRef(new Uint8Array([0x01, 0x02]), () => {})).toBe(false); // trailing bytes
  });
});

describe('erasureMarks', () => {
  const reader = (erased: Set<string>) => {
    const calls: [readonly string[], readonly string[]][] = [];
    const r: ErasureReader = {
      erasedTimes: async (subjects, pointers) => {
        calls.push([subjects, pointers]);
        return { subjects: new Map(subjects.filter((s) => erased.has(s)).map((s) => [s, Date.parse(AT)])), values: new Map(pointers.filter((p) => erased.has(p)).map((p) => [p, 1])) };
      },
    };
    return { r, calls };
  };
  const hit = (v: unknown) => {
    const leaf = encodeCanonical(v as never);
    return { leaf, get record(): never { throw new Error('decoded: the scanner should have read it'); } };
  };

  it('makes no vault read for a chunk without references', async () => {
    const { r, calls } = reader(new Set());
    const hits = Array.from({ length: 1000 }, (_, k) => hit({ v: 1, event: { n: k, subject: 'x', note: 'pii' } }));
    expect(await erasureMarks(hits, r)).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('makes one read for the distinct references of a chunk, and marks only hits with an erased one', async () => {
    const a = ref(1);
    const b = ref(2);
    const { r, calls } = reader(new Set([a.subject]));
    const hits = [hit({ x: a }), hit({ y: 1 }), hit({ x: b, z: [a, b] }), hit({ x: b })];
    const marks = await erasureMarks(hits, r);
    expect(calls).toEqual([[[a.subject, b.subject], [a.$pii, b.$pii]]]);
    expect(marks!.map((m) => m !== undefined)).toEqual([true, false, true, false]);
    expect(marks![0]!(a.$pii, a.subject)).toBe(AT);
    expect(marks![0]!(b.$pii, b.subject)).toBeUndefined();
    // Nothing erased among them: undefined, as without references.
    expect(await erasureMarks(hits, reader(new Set()).r)).toBeUndefined();
  });

  it('a value erased by retention (its pointer) marks that reference alone; a subject mark wins', async () => {
    const a = ref(3);
    const b = { ...ref(4), subject: a.subject };
    const m = await lookupMarks([[a.$pii, a.subject], [b.$pii, b.subject]], reader(new Set([a.$pii])).r);
    expect(m!(a.$pii, a.subject)).toBe(new Date(1).toISOString());
    expect(m!(b.$pii, b.subject)).toBeUndefined();
    const both = await lookupMarks([[a.$pii, a.subject]], reader(new Set([a.$pii, a.subject])).r);
    expect(both!(a.$pii, a.subject)).toBe(AT);
  });
});
