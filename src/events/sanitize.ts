/**
 * The first line of defence for an incoming event: an iterative (explicit
 * stack, no recursion) walk that checks the input is within the JSON data
 * model and copies it into fresh plain objects.
 *
 * Why iterative: a 100,000-deep array from JSON.parse or CBOR would overflow
 * the call stack of a recursive walker (and of zod). The walk stops at the
 * first container deeper than `maxDepth`, so everything after it (zod, the
 * encoder) only ever sees shallow values.
 *
 * Why copy: the output must not share objects with the input (a caller could
 * mutate them after validation) and must be built only from own enumerable
 * data, so inherited or polluted properties never enter an event.
 */
import { TlogError } from '../errors.js';
import { isPlainObject, isWellFormedString, setOwn, type JsonValue } from './json.js';
import { formatPath, piiCut, type PathSegment } from './path.js';

/**
 * The key of a personal-data reference ({"$pii", "subject", "commitment"},
 * events/pii.ts). Only the server places references: a client's own would
 * read as personal data of someone (erased, or under a legal hold, which
 * also keeps its entry from being pruned), so input may not hold the key.
 */
const PII_REF_KEY = '$pii';

/** Longest object key accepted anywhere in an event, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 256;

/** A container being copied: the source, its copy, and where we are in it. */
interface Frame {
  readonly src: readonly unknown[] | Record<string, unknown>;
  readonly dst: JsonValue[] | Record<string, unknown>;
  /** Own enumerable keys of an object; null for an array. */
  readonly keys: readonly string[] | null;
  next: number;
  /** This container's key or index in its parent (undefined for the root). */
  readonly at: PathSegment | undefined;
  readonly parent: Frame | undefined;
}

function pathOf(frame: Frame | undefined, last?: PathSegment): string {
  const segs: PathSegment[] = last === undefined ? [] : [last];
  for (let f = frame; f !== undefined && f.at !== undefined; f = f.parent) segs.push(f.at);
  segs.reverse();
  // Under `pii` a name, a field or a key inside a value can be personal data itself
  // (an email as a key): an error names the entry or its value, never a place inside (piiCut).
  return formatPath(piiCut(segs) ?? segs);
}

function violation(path: string, message: string): TlogError {
  const where = path === '' ? 'the event' : path;
  return new TlogError('SCHEMA_VIOLATION', `${where}: ${message}`, { details: { issues: [{ path, message }] } });
}

/** Names the kind of a non-JSON object without reading anything the sender controls. */
function describeObject(v: object): string {
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return 'a byte string';
  if (v instanceof Map) return 'a Map';
  if (v instanceof Set) return 'a Set';
  if (v instanceof Date) return 'a Date';
  return 'an object that is not a plain JSON object';
}

/**
 * Checks a scalar and returns its stored form, or a message saying which rule
 * it breaks. Messages describe the rule, never the value.
 */
function scalar(v: unknown): { ok: true; value: JsonValue } | { ok: false; message: string } {
  switch (typeof v) {
    case 'string':
      return isWellFormedString(v) ? { ok: true, value: v } : { ok: false, message: 'string contains an unpaired UTF-16 surrogate (not valid Unicode)' };
    case 'number':
      if (!Number.isFinite(v)) return { ok: false, message: 'numbers must be finite (NaN and infinities are not JSON)' };
      // -0 and 0 encode to the same CBOR integer; store the one JSON.parse round-trips to.
      return { ok: true, value: v === 0 ? 0 : v };
    case 'boolean':
      return { ok: true, value: v };
    case 'bigint':
      // CBOR 64-bit integers decode to bigint. Within ±(2^53−1) they are exact numbers.
      if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return { ok: true, value: Number(v) };
      return { ok: false, message: 'integer outside the safe range ±(2^53−1)' };
    case 'undefined':
      return { ok: false, message: 'undefined is not a JSON value' };
    case 'object':
      if (v === null) return { ok: true, value: null };
      return { ok: false, message: `${describeObject(v)} is not a JSON value` };
    default:
      return { ok: false, message: `a ${typeof v} is not a JSON value` };
  }
}

/**
 * A frame for a container, or undefined for a scalar. Frames are built as
 * plain literals of one shape: building them with object spread
 * (`{ ...x, next: 0 }`) made this walk about 25 times slower in V8.
 */
function openFrame(v: unknown, at: PathSegment | undefined, parent: Frame | undefined): Frame | undefined {
  if (Array.isArray(v)) return { src: v, dst: new Array<JsonValue>(v.length), keys: null, next: 0, at, parent };
  if (isPlainObject(v)) return { src: v, dst: {}, keys: Object.keys(v), next: 0, at, parent };
  return undefined;
}

/**
 * Validates that `input` is a JSON value no deeper than `maxDepth` containers
 * (the root container is depth 1) and returns a deep copy made of plain
 * objects and arrays.
 *
 * Rejects, as `SCHEMA_VIOLATION` with the path: non-finite numbers, integers
 * (bigint) outside ±(2^53−1), undefined, functions, symbols, byte strings,
 * Maps, Dates and other non-plain objects, strings and keys that are not
 * valid Unicode, keys longer than {@link MAX_KEY_LENGTH}, array holes, and the
 * key `__proto__` (it has no use in an audit event and turns into prototype
 * pollution in any consumer that copies with plain assignment), and the key
 * `$pii` (reserved for the server's personal-data references).
 * Deeper nesting is `NESTING_TOO_DEEP`.
 */
export function sanitizeJson(input: unknown, maxDepth: number): JsonValue {
  const root = openFrame(input, undefined, undefined);
  if (root === undefined) {
    const s = scalar(input);
    if (!s.ok) throw violation('', s.message);
    return s.value;
  }
  if (maxDepth < 1) throw new TlogError('NESTING_TOO_DEEP', `nesting deeper than ${maxDepth} levels`, { details: { max_depth: maxDepth, path: '' } });

  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const { keys } = frame;
    const length = keys === null ? (frame.src as readonly unknown[]).length : keys.length;
    if (frame.next >= length) {
      stack.pop();
      continue;
    }
    const i = frame.next++;
    let at: PathSegment;
    let child: unknown;
    if (keys === null) {
      at = i;
      if (!(i in frame.src)) throw violation(pathOf(frame, at), 'arrays must not have holes');
      child = (frame.src as readonly unknown[])[i];
    } else {
      const key = keys[i]!;
      at = key;
      if (key === '__proto__') throw violation(pathOf(frame, at), 'the key "__proto__" is not allowed');
      if (key === PII_REF_KEY) throw violation(pathOf(frame, at), 'the key "$pii" is reserved for the references the server puts in place of personal values');
      if (key.length > MAX_KEY_LENGTH) throw violation(pathOf(frame, at), `keys must be at most ${MAX_KEY_LENGTH} characters`);
      if (!isWellFormedString(key)) throw violation(pathOf(frame), 'a key contains an unpaired UTF-16 surrogate (not valid Unicode)');
      // `key` came from Object.keys, so this reads the own value even for
      // names that Object.prototype also has ("constructor", "toString").
      child = (frame.src as Record<string, unknown>)[key];
    }

    const opened = openFrame(child, at, frame);
    let copy: unknown;
    if (opened === undefined) {
      const s = scalar(child);
      if (!s.ok) throw violation(pathOf(frame, at), s.message);
      copy = s.value;
    } else {
      if (stack.length + 1 > maxDepth) {
        const path = pathOf(frame, at);
        throw new TlogError('NESTING_TOO_DEEP', `nesting deeper than ${maxDepth} levels at ${path}`, { details: { max_depth: maxDepth, path } });
      }
      copy = opened.dst;
      stack.push(opened);
    }
    if (keys === null) (frame.dst as unknown[])[i] = copy;
    else setOwn(frame.dst as Record<string, unknown>, at as string, copy);
  }
  return root.dst as JsonValue;
}
