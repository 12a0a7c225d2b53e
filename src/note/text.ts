/**
 * Character-level rules for signed notes (c2sp.org/signed-note §Format): the note
 * must be valid UTF-8 and contain no ASCII control characters other than `\n`.
 * Go applies this to the whole message, signature lines included, and so do we.
 *
 * @module
 */

import { assertBytes } from './args.js';
import { malformed } from './syntax.js';

/**
 * C0 controls except `\n` (so `\r` too: CRLF is invalid), plus unpaired UTF-16
 * surrogates. With the `u` flag a well-formed surrogate pair is one code point
 * and does not match the class, so only lone surrogates do; those have no UTF-8
 * encoding (TextEncoder would silently turn them into U+FFFD and change the
 * signed bytes). DEL (0x7f) is allowed, as in Go (`r < 0x20`).
 */
const FORBIDDEN = /[\x00-\x09\x0b-\x1f\uD800-\uDFFF]/u;

/**
 * Returns why `s` may not appear in a signed note, or `undefined` if it may.
 * Runs one native regex scan: cheap enough for the signing hot path.
 */
export function noteTextProblem(s: string): string | undefined {
  const m = FORBIDDEN.exec(s);
  if (m === null) return undefined;
  const c = m[0].charCodeAt(0);
  if (c === 0x0d) return 'carriage return (CRLF line endings are not allowed)';
  if (c < 0x20) return `control character U+${c.toString(16).padStart(4, '0')} at offset ${m.index}`;
  return `unpaired surrogate at offset ${m.index} (not valid UTF-8)`;
}

/**
 * Strict UTF-8; keeps a leading byte-order mark as U+FEFF. Dropping it (the
 * TextDecoder default) would change the bytes whose signature we check.
 */
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a note received as bytes (HTTP body, file) into the string the parsers
 * take. Use this rather than a lenient decoder (`Response.text()`), which would
 * replace invalid UTF-8 with U+FFFD instead of rejecting the note.
 *
 * @example
 * ```ts
 * const note = openNote(decodeNoteBytes(new Uint8Array(await res.arrayBuffer())), verifiers);
 * ```
 * @throws {TypeError} If `bytes` is not a `Uint8Array`.
 * @throws {TlogError} `MALFORMED` if `bytes` is not valid UTF-8.
 */
export function decodeNoteBytes(bytes: Uint8Array): string {
  assertBytes(bytes, 'note bytes');
  try {
    return decoder.decode(bytes);
  } catch {
    throw malformed('malformed note: not valid UTF-8');
  }
}
