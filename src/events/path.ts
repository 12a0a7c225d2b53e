/**
 * Field paths for error messages: `actor.id`, `data_accessed[2].type`,
 * `metadata["odd key"]`. Paths name where a rule was broken; they never carry
 * the offending value, which may be a secret.
 */

import { EVENT_LIMITS } from './limits.js';

/** One step into a JSON value: an object key or an array index. */
export type PathSegment = string | number;

/** A `pii` name: the schema's rule (schema.ts), and what an error may show of one. */
export const PII_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9_.-]{0,${EVENT_LIMITS.piiName - 1}}$`);

/**
 * Under `pii`, the part of a path an error may show: `pii`, a well-formed
 * name, and its `subject` or `value` field. A malformed name
 * (`pii["gina@x.org"]`), an unknown field of an entry or a key inside a
 * value may be the person's data, none of which ever enters the leaf, so
 * no error answer carries it either. Undefined when nothing is cut.
 */
export function piiCut(segments: readonly PathSegment[]): PathSegment[] | undefined {
  if (segments[0] !== 'pii' || segments.length < 2) return undefined;
  const name = segments[1];
  if (typeof name !== 'string' || !PII_NAME.test(name)) return ['pii'];
  const field = segments[2];
  if (segments.length === 2 || ((field === 'subject' || field === 'value') && segments.length === 3)) return undefined;
  return field === 'subject' || field === 'value' ? ['pii', name, field] : ['pii', name];
}

/** Keys longer than this are cut in messages so a huge key cannot bloat an error body. */
const MAX_KEY_IN_PATH = 64;
const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Formats a path; the root (an empty path) is the empty string. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') {
      out += `[${seg}]`;
    } else if (SIMPLE_KEY.test(seg) && seg.length <= MAX_KEY_IN_PATH) {
      out += out === '' ? seg : `.${seg}`;
    } else {
      const shown = seg.length > MAX_KEY_IN_PATH ? `${seg.slice(0, MAX_KEY_IN_PATH)}…` : seg;
      out += `[${JSON.stringify(shown)}]`;
    }
  }
  return out;
}
