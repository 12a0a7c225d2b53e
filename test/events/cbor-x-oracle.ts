/**
 * The encoder the server used before cbor-encode.ts: cbor-x with every
 * extension turned off, fed a rebuilt value (Maps in deterministic key
 * order, bigint for safe integers beyond 32 bits). Kept here only as an
 * independent oracle: the pure encoder must give the same bytes and the
 * same errors. Settings and reasons: spec/events.md §3.1.
 */
import { Encoder, FLOAT32_OPTIONS } from 'cbor-x';
import { sortKeys } from '../../src/events/cbor-keys.js';
import { isPlainObject, isWellFormedString } from '../../src/events/json.js';
import { MAX_CBOR_DEPTH } from '../../src/events/limits.js';

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

const TWO_32 = 2 ** 32;

function toCborModel(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      if (!isWellFormedString(v)) throw new TypeError('encodeCanonical: string is not valid Unicode (unpaired surrogate)');
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('encodeCanonical: NaN and infinities cannot be encoded');
      // cbor-x writes any number ≥ 2^32 or < −2^32 as float64; a bigint gets the integer head.
      if (Number.isSafeInteger(v) && (v >= TWO_32 || v < -TWO_32)) return BigInt(v);
      return v;
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
        // A Map keeps the sorted order; a plain object would iterate "10" before "a".
        const m = new Map<string, unknown>();
        for (const k of sortKeys(Object.keys(v))) {
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

/** Deterministic CBOR via cbor-x (copied out of its shared scratch buffer). */
export function encodeWithCborX(value: unknown): Uint8Array {
  return Uint8Array.from(encoder.encode(toCborModel(value, 0)));
}
