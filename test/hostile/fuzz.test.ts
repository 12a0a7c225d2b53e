/**
 * Fuzzing (fast-check) of the request-body decoder (src/http/body.ts), the
 * event schema (src/events/validate.ts), and the HTTP append path: random and
 * mutated input only ever yields a value or a TlogError with an expected
 * code, never another exception, a hang or a 5xx; and Object.prototype stays
 * clean.
 */

import { encode } from 'cbor-x';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { encodeCanonical, parseEvent } from '../../src/events/index.js';
import { EVENT_FIELDS } from '../../src/events/schema.js';
import { decodeRequestBody, MAX_JSON_DEPTH, scanJson } from '../../src/http/body.js';
import { post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const BODY_CODES = ['MALFORMED_JSON', 'MALFORMED_CBOR', 'NESTING_TOO_DEEP', 'UNSUPPORTED_MEDIA_TYPE'];
const EVENT_CODES = ['SCHEMA_VIOLATION', 'UNKNOWN_FIELDS', 'NESTING_TOO_DEEP'];
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Runs f; a thrown value must be a TlogError with one of `codes`. */
function settle<T>(f: () => T, codes: string[]): { ok: true; value: T } | { ok: false; code: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!(e instanceof TlogError)) throw e;
    expect(codes).toContain(e.code);
    return { ok: false, code: e.code };
  }
}

const contentTypes = fc.constantFrom('application/json', 'application/cbor', 'application/json; charset=utf-8', 'application/vnd.x+json', '', 'text/plain', 'APPLICATION/CBOR');

/** JSON text with one random edit: a cut, an inserted or a replaced character. */
const mutatedJson = fc
  .tuple(fc.json({ maxDepth: 4 }), fc.nat(), fc.constantFrom('cut', 'insert', 'replace'), fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', 'x', '\u0000', '\ud800', 'é'))
  .map(([text, at, op, ch]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    return op === 'cut' ? text.slice(0, i) : op === 'insert' ? text.slice(0, i) + ch + text.slice(i) : text.slice(0, i) + ch + text.slice(i + 1);
  });

/** Valid CBOR with one byte changed, or cut short. */
const mutatedCbor = fc
  .tuple(fc.jsonValue({ maxDepth: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
  .map(([v, at, byte, cut]) => {
    const b = new Uint8Array(encode(v));
    const i = at % b.length;
    if (cut) return b.subarray(0, i);
    b[i] = byte;
    return b;
  });

describe('fuzz: request bodies (decodeRequestBody)', () => {
  it('arbitrary bytes under any content type: a value or a body error code', () => {
    fc.assert(
      fc.property(contentTypes, fc.uint8Array({ maxLength: 300 }), (type, bytes) => {
        settle(() => decodeRequestBody(type, bytes), BODY_CODES);
      }),
      { numRuns: 3000 },
    );
  });

  it('valid JSON decodes to exactly what JSON.parse gives', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 8 }), (text) => {
        expect(decodeRequestBody('application/json', utf8(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated JSON: a value or a body error code', () => {
    fc.assert(
      fc.property(mutatedJson, (text) => {
        settle(() => decodeRequestBody('application/json', utf8(text)), BODY_CODES);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated CBOR: a value or a body error code', () => {
    fc.assert(
      fc.property(mutatedCbor, (bytes) => {
        settle(() => decodeRequestBody('application/cbor', bytes), BODY_CODES);
      }),
      { numRuns: 3000 },
    );
  });

  // Objects written as entry lists, so duplicates can be generated on purpose.
  type Doc = number | Doc[] | { entries: [string, Doc][] };
  const doc: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
    doc: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.integer(),
      fc.array(tie('doc'), { maxLength: 3 }),
      fc.record({ entries: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', '\\u0061', 'é', 'a\\"'), tie('doc')), { maxLength: 4 }) }),
    ),
  })).doc;
  const write = (d: Doc): string =>
    typeof d === 'number' ? String(d) : Array.isArray(d) ? `[${d.map(write).join(',')}]` : `{${d.entries.map(([k, v]) => `"${k}" : ${write(v)}`).join(' , ')}}`;
  const decodedKey = (k: string) => JSON.parse(`"${k}"`) as string;
  const hasDuplicate = (d: Doc): boolean =>
    typeof d === 'number'
      ? false
      : Array.isArray(d)
        ? d.some(hasDuplicate)
        : new Set(d.entries.map(([k]) => decodedKey(k))).size < d.entries.length || d.entries.some(([, v]) => hasDuplicate(v));

  it('the duplicate-key scan agrees with a reference, escapes and nesting included', () => {
    const seen = { dup: 0, clean: 0 };
    fc.assert(
      fc.property(doc, (d) => {
        const text = write(d);
        const dup = hasDuplicate(d);
        seen[dup ? 'dup' : 'clean']++;
        expect(scanJson(text, MAX_JSON_DEPTH) === 'duplicate-key').toBe(dup);
      }),
      { numRuns: 3000 },
    );
    // Both outcomes were exercised.
    expect(Math.min(seen.dup, seen.clean)).toBeGreaterThan(100);
  });
});

describe('fuzz: the event schema (parseEvent)', () => {
  // Events whose fields are valid, random JSON, or hostile (pollution keys, non-JSON values).
  const hostileValue = fc.oneof(
    fc.anything({ maxDepth: 3, withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }),
    fc.constantFrom(NaN, Infinity, -0, 2 ** 53, undefined, Symbol('s'), () => 1),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(`{"__proto__": ${JSON.stringify(v)}, "constructor": {"prototype": {"polluted": 1}}}`)),
  );
  const base = sampleEvent(1);
  const field = fc.constantFrom(...EVENT_FIELDS, 'extra', '__proto__', 'constructor');
  const event = fc.array(fc.tuple(field, hostileValue), { maxLength: 4 }).map((edits) => {
    const e: Record<string, unknown> = JSON.parse(JSON.stringify(base));
    for (const [k, v] of edits) Object.defineProperty(e, k, { value: v, enumerable: true, configurable: true, writable: true });
    return e;
  });

  it('a stored event or an event error code; what is accepted re-validates to itself and encodes', () => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(event, fc.anything({ maxDepth: 3 })), (input) => {
        const r = settle(() => parseEvent(input, { generateId: () => '01900000-0000-7000-8000-000000000000' }), EVENT_CODES);
        seen[r.ok ? 'ok' : 'refused']++;
        if (r.ok) {
          expect(parseEvent(r.value)).toEqual(r.value);
          expect(encodeCanonical(r.value).length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
    expect(Math.min(seen.ok, seen.refused)).toBeGreaterThan(100);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

describe('fuzz: the append route', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ rateAppendKey: 'off', rateAppendTenant: 'off' });
  });
  afterAll(() => t.close());

  it('mutated event bodies never get a 5xx, and the server keeps serving', async () => {
    const body = fc.oneof(
      fc.constant(JSON.stringify(sampleEvent(1))).chain((s) =>
        fc.tuple(fc.nat(s.length), fc.string({ maxLength: 3 })).map(([i, ins]) => s.slice(0, i) + ins + s.slice(i + 1)),
      ),
      mutatedJson,
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'application/cbor'), async (b, type) => {
        const r = await post(`${t.url}/v1/events`, t.agentToken, type === 'application/cbor' ? utf8(b) : b, { 'content-type': type });
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(typeof r.json.error.code).toBe('string');
      }),
      { numRuns: 150 },
    );
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2))).status).toBe(201);
  });
});
