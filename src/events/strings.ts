/**
 * The string kinds of the event schema. Identifiers and labels are
 * "printable": no control or format characters (which includes bidi
 * overrides and zero-width characters, the usual tricks for making two ids
 * look alike), no line separators, and no leading or trailing whitespace.
 * Free text (summaries, notes, commands) may hold newlines and tabs.
 */
import { z } from 'zod';

const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const TRIMMED = /^\S(?:[^]*\S)?$/u;
const TEXT = /^(?:[\t\n\r]|[^\p{Cc}])*$/u;

/**
 * True for an identifier/label: printable characters, no surrounding
 * whitespace (length not checked). Printable ASCII (nearly every id) is
 * decided by a character loop; anything else goes to the Unicode regexes.
 */
export function isPrintable(s: string): boolean {
  const n = s.length;
  if (n > 0 && s.charCodeAt(0) !== 0x20 && s.charCodeAt(n - 1) !== 0x20) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) {
        ascii = false;
        break;
      }
    }
    if (ascii) return true;
  }
  return PRINTABLE.test(s) && TRIMMED.test(s);
}

// Length checks abort: a string that is empty or too long gets one issue,
// and an oversized string is never run through the character regexes.
const stop = { abort: true } as const;

/** 1..max printable characters. */
export function printable(max: number) {
  return z
    .string()
    .min(1, stop)
    .max(max, stop)
    .refine(isPrintable, { message: 'must be printable: no control or format characters, no leading or trailing whitespace' });
}

/** Free text: no control characters other than tab, LF and CR (a loop for the common case, the regex otherwise). */
function isText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 9 && c !== 10 && c !== 13 : c >= 0x7f) return TEXT.test(s);
  }
  return true;
}

/** Free text up to `max`: any character except control characters other than tab, LF and CR. */
export function text(max: number, min = 0) {
  return z
    .string()
    .min(min, stop)
    .max(max, stop)
    .refine(isText, { message: 'must not contain control characters other than tab, LF and CR' });
}

/** ISO 8601 / RFC 3339 date-time with seconds and an explicit offset (`Z` or `±hh:mm`). */
export function timestamp() {
  return z.iso.datetime({ offset: true });
}
