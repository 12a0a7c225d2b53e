/**
 * An iterative well-formedness pre-scan of CBOR bytes, run before cbor-x
 * decodes them. cbor-x decodes recursively, so 100,000 nested array heads
 * (100 kB) would overflow the stack; and it is lenient where we must be
 * strict (it renames a "__proto__" key, turns number keys into strings,
 * returns Tag objects, undefined, and invalid UTF-8 as U+FFFD). After this
 * scan, the bytes hold exactly one item of the JSON data model, nested no
 * deeper than the limit, so cbor-x's recursion is bounded and its leniency
 * never applies.
 *
 * Accepted: unsigned and negative integers (any head width), text strings
 * (valid UTF-8), arrays and maps (definite or indefinite length), maps with
 * distinct text keys only, false, true, null, and float16/32/64.
 * Rejected: byte strings, tags, undefined, other simple values,
 * indefinite-length strings, reserved heads, truncation and trailing bytes.
 */
import { TlogError, type ErrorCode } from '../errors.js';
import { fromUtf8 } from '../bytes/index.js';

/** How the scan reports failures; the codes differ for request bodies and leaves. */
export interface ScanOptions {
  /** Deepest container nesting allowed (the outermost container is level 1). */
  maxDepth: number;
  /** Code for anything that is not well-formed JSON-model CBOR. */
  code: ErrorCode;
  /** Code when nesting exceeds maxDepth. */
  depthCode: ErrorCode;
  /** Reject NaN and infinities here (leaves) instead of leaving them to the schema (bodies). */
  finiteOnly: boolean;
}

interface Container {
  /** Items still to read (a map counts keys and values); -1 when indefinite. */
  remaining: number;
  isMap: boolean;
  /** Map items read so far; even means the next item is a key. */
  read: number;
  keys: Set<string> | undefined;
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/**
 * A Set key for a map key's bytes: one UTF-16 unit per byte. Injective, so
 * equal strings mean equal bytes (duplicate keys); far cheaper than a
 * TextDecoder call per key, which dominated the scan.
 */
function byteKey(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Throws a TlogError unless `bytes` is one well-formed JSON-model CBOR item. */
export function scanCbor(bytes: Uint8Array, opts: ScanOptions): void {
  const fail = (why: string, at: number): never => {
    throw new TlogError(opts.code, `not valid CBOR for this log at byte ${at}: ${why}`);
  };
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Container[] = [];
  let p = 0;
  let done = false;

  /** One item finished: close every definite container it completed. */
  const finishItem = (): void => {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.remaining !== 0) return;
      stack.pop();
    }
    done = true;
  };

  if (end === 0) fail('empty input', 0);
  while (!done) {
    if (p >= end) fail('truncated', p);
    const start = p;
    const ib = bytes[p++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    const top = stack[stack.length - 1];

    if (ib === 0xff) {
      // Break: closes the innermost indefinite container, after a whole map entry.
      if (top === undefined || top.remaining !== -1) fail('unexpected break', start);
      if (top!.isMap && top!.read % 2 !== 0) fail('map ended after a key', start);
      stack.pop();
      finishItem();
      continue;
    }

    // Count this item in its container, and know whether it is a map key.
    let isKey = false;
    if (top !== undefined) {
      if (top.isMap) isKey = top.read % 2 === 0;
      top.read++;
      if (top.remaining > 0) top.remaining--;
    }

    // The head's argument.
    let arg = info;
    if (info === 24) {
      if (p + 1 > end) fail('truncated', p);
      arg = bytes[p]!;
      p += 1;
    } else if (info === 25) {
      if (p + 2 > end) fail('truncated', p);
      arg = view.getUint16(p);
      p += 2;
    } else if (info === 26) {
      if (p + 4 > end) fail('truncated', p);
      arg = view.getUint32(p);
      p += 4;
    } else if (info === 27) {
      if (p + 8 > end) fail('truncated', p);
      arg = view.getUint32(p) * 2 ** 32 + view.getUint32(p + 4); // may round above 2^53; only used as a length bound
      p += 8;
    } else if (info >= 28 && info <= 30) {
      fail('reserved additional information', start);
    }
    const indefinite = info === 31;

    if (isKey && major !== 3) fail('map keys must be text strings', start);

    switch (major) {
      case 0:
      case 1:
        if (indefinite) fail('malformed integer', start);
        break;
      case 2:
        fail('byte strings are not part of the JSON data model', start);
        break;
      case 3: {
        if (indefinite) fail('indefinite-length text strings are not supported', start);
        if (arg > end - p) fail('truncated', p);
        const s = p;
        p += arg;
        if (!isAscii(bytes, s, p) && fromUtf8(bytes.subarray(s, p)) === undefined) fail('text is not valid UTF-8', s);
        if (isKey) {
          const key = byteKey(bytes, s, p);
          const keys = (top!.keys ??= new Set());
          if (keys.has(key)) fail('duplicate map key', start);
          keys.add(key);
        }
        break;
      }
      case 4:
      case 5: {
        if (stack.length + 1 > opts.maxDepth) {
          throw new TlogError(opts.depthCode, `CBOR nests deeper than ${opts.maxDepth} levels`, { details: { max_depth: opts.maxDepth } });
        }
        const isMap = major === 5;
        // Each item takes at least one byte: a larger count cannot be satisfied.
        if (!indefinite && arg > (end - p) / (isMap ? 2 : 1)) fail('truncated', p);
        stack.push({ remaining: indefinite ? -1 : isMap ? arg * 2 : arg, isMap, read: 0, keys: undefined });
        if (!indefinite && arg === 0) finishItem();
        continue;
      }
      case 6:
        fail('tags are not part of the JSON data model', start);
        break;
      case 7:
        if (info === 20 || info === 21 || info === 22) break; // false, true, null
        if (info === 25 || info === 26 || info === 27) {
          if (opts.finiteOnly) {
            const f = info === 25 ? (arg & 0x7c00) !== 0x7c00 : info === 26 ? Number.isFinite(view.getFloat32(p - 4)) : Number.isFinite(view.getFloat64(p - 8));
            if (!f) fail('NaN and infinities are not allowed', start);
          }
          break;
        }
        fail(info === 23 ? 'undefined is not part of the JSON data model' : 'simple values other than false, true and null are not allowed', start);
        break;
    }
    finishItem();
  }
  if (p !== end) fail('trailing bytes after the item', p);
}
