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

/** True for an identifier/label: printable characters, no surrounding whitespace (length not checked). */
export function isPrintable(s: string): boolean {
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

/** Free text up to `max`: any character except control characters other than tab, LF and CR. */
export function text(max: number, min = 0) {
  return z
    .string()
    .min(min, stop)
    .max(max, stop)
    .refine((s) => TEXT.test(s), { message: 'must not contain control characters other than tab, LF and CR' });
}

/** ISO 8601 / RFC 3339 date-time with seconds and an explicit offset (`Z` or `±hh:mm`). */
export function timestamp() {
  return z.iso.datetime({ offset: true });
}
