/**
 * The JSON data model the log stores, and the few predicates every event
 * module shares. Events are plain JSON values end to end: what an agent sends,
 * what the leaf holds, and what a verifier decodes.
 */

/** A JSON scalar. Numbers are always finite; -0 is stored as 0. */
export type JsonPrimitive = null | boolean | number | string;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object (string keys, JSON values). */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * True for objects that JSON.parse or our CBOR decoder could have produced:
 * a prototype of Object.prototype or null. Arrays, Maps, Dates, typed arrays,
 * class instances and cbor-x Tag objects are all rejected.
 *
 * The third clause accepts Object.prototype from another realm (an iframe or
 * a vm context) without accepting class instances, whose prototype chain is
 * at least two deep.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/**
 * Defines an own, enumerable data property. Plain assignment of the key
 * `__proto__` would call the Object.prototype setter and replace the
 * object's prototype instead (prototype pollution of that object), so that
 * one key is defined rather than assigned.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

// A lone (unpaired) UTF-16 surrogate: a high not followed by a low, or a low
// not preceded by a high. Such strings have no UTF-8 encoding.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SURROGATE = /[\uD800-\uDFFF]/;
type WellFormedCheck = (this: string) => boolean;
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed?: WellFormedCheck }).isWellFormed;

/**
 * True when the string is valid Unicode, i.e. it has a UTF-8 encoding.
 * JSON.parse accepts "\ud800", and cbor-x would encode such a string
 * differently depending on its length (WTF-8 bytes below 64 UTF-16 units,
 * U+FFFD above), so lone surrogates never reach the encoder.
 */
export function isWellFormedString(s: string): boolean {
  if (nativeIsWellFormed !== undefined) return nativeIsWellFormed.call(s);
  return !SURROGATE.test(s) || !LONE_SURROGATE.test(s);
}
