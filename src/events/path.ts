/**
 * Field paths for error messages: `actor.id`, `data_accessed[2].type`,
 * `metadata["odd key"]`. Paths name where a rule was broken; they never carry
 * the offending value, which may be a secret.
 */

/** One step into a JSON value: an object key or an array index. */
export type PathSegment = string | number;

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
