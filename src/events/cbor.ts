/**
 * Deterministic CBOR for the log's leaves (RFC 8949 §4.2.1, "core
 * deterministic encoding"): the encoder (cbor-encode.ts), the strict leaf
 * decoder (cbor-canonical.ts) and the lenient, cbor-x based decoder for
 * application/cbor request bodies.
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
 * Both the encoder and the leaf decoder are pure code of ours: cbor-x has
 * no deterministic mode, and its Node entry point is not browser-safe.
 * cbor-x still decodes request bodies, behind the strict pre-scan below.
 */
import { Decoder } from 'cbor-x';
import { TlogError, type ErrorCode } from '../errors.js';
import { decodeCanonicalStrict } from './cbor-canonical.js';
import { scanCbor } from './cbor-scan.js';
import { setOwn } from './json.js';
import { MAX_CBOR_DEPTH } from './limits.js';

// The encoder is pure and dependency-free (cbor-encode.ts); the verifier imports it directly.
export { encodeCanonical } from './cbor-encode.js';

/** Decoding: Maps (not objects) so no key is renamed and duplicates are visible; int64 as bigint. */
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false } as ConstructorParameters<typeof Decoder>[0]);

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
