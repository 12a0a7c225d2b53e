/**
 * Deterministic CBOR for the log's leaves (RFC 8949 §4.2.1, "core
 * deterministic encoding"), built on cbor-x, plus the strict decoders for
 * leaves and for application/cbor request bodies.
 *
 * Encoding rules (the contract every verifier re-implements):
 *  - only the JSON data model: null, false, true, numbers, text strings,
 *    arrays, and maps with text keys;
 *  - map keys sorted by their encoded bytes (cbor-keys.ts);
 *  - definite lengths everywhere; every head (integers, lengths) in its
 *    shortest form;
 *  - a number that is a safe integer (|n| ≤ 2^53−1) is a CBOR integer
 *    (major type 0 or 1); -0 is the integer 0;
 *  - every other number is a 64-bit float (0xfb). This is the documented
 *    deviation from §4.2.1, which would shorten floats to 16 or 32 bits when
 *    exact: always-64-bit is simpler for every verifier to reproduce;
 *  - NaN and ±Infinity are rejected; strings must be valid Unicode.
 *
 * cbor-x has no deterministic mode, so encodeCanonical first rebuilds the
 * value with Maps in sorted key order (a plain object would iterate
 * integer-like keys first) and turns integers beyond 32 bits into bigint,
 * because cbor-x writes any integer ≥ 2^32 or < −2^32 given as a number as
 * a float64, which is not the shortest integer form. The Encoder settings
 * are pinned below; see spec/events.md.
 */
import { Decoder, Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { TlogError, type ErrorCode } from '../errors.js';
import { decodeCanonicalStrict } from './cbor-canonical.js';
import { sortKeys } from './cbor-keys.js';
import { scanCbor } from './cbor-scan.js';
import { isPlainObject, isWellFormedString, setOwn } from './json.js';
import { MAX_CBOR_DEPTH } from './limits.js';

/**
 * cbor-x settings. Each one turns off an extension that would write
 * something outside plain deterministic CBOR:
 *  - useRecords: false — no record structures (tag 0xdfff and friends);
 *  - structuredClone: false — no value-sharing tags 28/29;
 *  - pack: false, bundleStrings: false — no packed (tag 51) or bundled
 *    (tag 0xdff9) strings;
 *  - useFloat32: NEVER, alwaysUseFloat: false — integers stay integers and
 *    every non-integer is float64 (0xfb);
 *  - useTag259ForMaps: false — a Map is a bare map (major type 5), not tag 259;
 *  - variableMapSize: true — if a plain object ever slipped through, its
 *    header would be the shortest form rather than cbor-x's default map16;
 *  - tagUint8Array, useSelfDescribedHeader, useToJSON: false — no tags or
 *    surprises (byte arrays never reach the encoder anyway).
 * Arrays and Maps always get definite, shortest-form lengths in cbor-x; text
 * strings too (it guesses the head size from the UTF-16 length and moves
 * the bytes when the UTF-8 length needs a longer head).
 */
const encoder = new Encoder({
  useRecords: false,
  structuredClone: false,
  pack: false,
  bundleStrings: false,
  useFloat32: FLOAT32_OPTIONS.NEVER,
  alwaysUseFloat: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  tagUint8Array: false,
  useSelfDescribedHeader: false,
  useToJSON: false,
} as ConstructorParameters<typeof Encoder>[0]);

/** Decoding: Maps (not objects) so no key is renamed and duplicates are visible; int64 as bigint. */
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false } as ConstructorParameters<typeof Decoder>[0]);

const TWO_32 = 2 ** 32;

/**
 * Rebuilds a JSON value as cbor-x input: Maps with sorted keys, bigint for
 * integers outside cbor-x's 32-bit integer paths. Recursion is bounded by
 * MAX_CBOR_DEPTH (inputs come from parseEvent, which allows at most 120).
 */
function toCborModel(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      if (!isWellFormedString(v)) throw new TypeError('encodeCanonical: string is not valid Unicode (unpaired surrogate)');
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('encodeCanonical: NaN and infinities cannot be encoded');
      if (Number.isSafeInteger(v) && (v >= TWO_32 || v < -TWO_32)) return BigInt(v);
      return v; // cbor-x: shortest int for |v| < 2^32 (and -0 → 0), else float64
    case 'boolean':
      return v;
    case 'object': {
      if (v === null) return null;
      if (depth >= MAX_CBOR_DEPTH) throw new RangeError(`encodeCanonical: nesting deeper than ${MAX_CBOR_DEPTH} levels`);
      if (Array.isArray(v)) {
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new TypeError('encodeCanonical: arrays must not have holes');
          out[i] = toCborModel(v[i], depth + 1);
        }
        return out;
      }
      if (isPlainObject(v)) {
        const keys = sortKeys(Object.keys(v));
        const m = new Map<string, unknown>();
        for (const k of keys) {
          if (!isWellFormedString(k)) throw new TypeError('encodeCanonical: key is not valid Unicode (unpaired surrogate)');
          m.set(k, toCborModel(v[k], depth + 1));
        }
        return m;
      }
      throw new TypeError('encodeCanonical: only JSON values (plain objects, arrays, strings, finite numbers, booleans, null) can be encoded');
    }
    default:
      throw new TypeError(`encodeCanonical: a ${typeof v} is not a JSON value`);
  }
}

/**
 * Encodes a JSON value as deterministic CBOR (rules above). The same value
 * always gives the same bytes, whatever its key order.
 *
 * @throws TypeError for anything outside the JSON data model (NaN, ±Infinity,
 *   undefined, bigint, Maps, byte arrays, lone surrogates) and RangeError
 *   beyond 128 levels of nesting: callers pass validated events, so these
 *   are bugs, not input errors.
 */
export function encodeCanonical(value: unknown): Uint8Array {
  const model = toCborModel(value, 0);
  // cbor-x returns a view into its shared (Node: Buffer) scratch space;
  // copy into a plain Uint8Array the caller owns (set() is a memcpy,
  // the Uint8Array(typedArray) constructor copies element by element).
  const view = encoder.encode(model);
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

type BigintMode = 'number-or-keep' | 'number-or-fail';

/**
 * cbor-x's Maps → plain objects. Keys are defined as own properties (a
 * "__proto__" key stays data, never a prototype). 64-bit-head integers come
 * back as bigint: within ±(2^53−1) they become numbers; beyond that, leaves
 * fail (our encoder writes such numbers as float64) and bodies keep the
 * bigint for the schema to report with a path.
 */
function fromCborModel(v: unknown, bigints: BigintMode): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v) setOwn(o, k as string, fromCborModel(val, bigints));
    return o;
  }
  if (Array.isArray(v)) return v.map((x) => fromCborModel(x, bigints));
  if (typeof v === 'bigint') {
    if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return Number(v);
    if (bigints === 'number-or-fail') throw new TlogError('NOT_CANONICAL', 'integer beyond ±(2^53−1) (the encoding uses float64 for those)');
    return v;
  }
  return v;
}

function decodeChecked(bytes: Uint8Array, code: ErrorCode): unknown {
  try {
    // subarray(0): cbor-x caches a DataView as a property on the array it is
    // given; a fresh view keeps the caller's object untouched.
    return decoder.decode(bytes.subarray(0));
  } catch (e) {
    throw new TlogError(code, 'the CBOR could not be decoded', { cause: e });
  }
}

/**
 * Decodes a leaf (or any deterministic CBOR) and checks it is canonical:
 * no other encoding of the same value exists.
 *
 * @throws TlogError `MALFORMED` for bytes that are not one well-formed item
 *   of the JSON data model (garbage, truncation, trailing bytes, tags, byte
 *   strings, non-text keys, duplicate keys, invalid UTF-8, NaN/∞, nesting
 *   beyond 128), `NOT_CANONICAL` for well-formed CBOR in another encoding
 *   (unsorted keys, long heads, short floats, integral floats, indefinite
 *   lengths). Never throws anything else.
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  // One implementation for the server and the verifier: a strict decoder
  // that checks each canonical rule as it reads (cbor-canonical.ts).
  return decodeCanonicalStrict(bytes);
}

/** Options for {@link decodeCborBody}. */
export interface CborBodyOptions {
  /** Deepest container nesting allowed. Default and maximum 128. */
  maxDepth?: number;
}

/**
 * Decodes an `application/cbor` request body into a JSON-like value for
 * parseEvent. Any well-formed encoding is accepted (long heads, float16/32,
 * indefinite-length arrays and maps); anything outside the JSON data model
 * is refused.
 *
 * NaN/±Infinity and integers beyond ±(2^53−1) (as bigint) are passed through
 * so that parseEvent can answer with the field path.
 *
 * @throws TlogError `MALFORMED_CBOR` for garbage, truncation, trailing bytes,
 *   byte strings, tags, undefined and other simple values, non-text or
 *   duplicate map keys, invalid UTF-8; `NESTING_TOO_DEEP` past maxDepth.
 *   Never throws anything else.
 */
export function decodeCborBody(bytes: Uint8Array, opts: CborBodyOptions = {}): unknown {
  try {
    if (!(bytes instanceof Uint8Array)) throw new TlogError('MALFORMED_CBOR', 'the body must be bytes');
    const maxDepth = Math.min(opts.maxDepth ?? MAX_CBOR_DEPTH, MAX_CBOR_DEPTH);
    scanCbor(bytes, { maxDepth, code: 'MALFORMED_CBOR', depthCode: 'NESTING_TOO_DEEP', finiteOnly: false });
    return fromCborModel(decodeChecked(bytes, 'MALFORMED_CBOR'), 'number-or-keep');
  } catch (e) {
    if (e instanceof TlogError) throw e;
    throw new TlogError('MALFORMED_CBOR', 'the body could not be decoded as CBOR', { cause: e });
  }
}
