/**
 * Turns zod issues into the `details.issues` of a SCHEMA_VIOLATION:
 * `{ path: "actor.id", message: "is required" }`.
 *
 * Messages are rebuilt here from the issue's code and the schema's own
 * constants (limits, enum options), never from zod's text or the input, so
 * a secret in a rejected field cannot leak into an error body or a log line.
 * The only messages passed through are those of `custom` issues, which this
 * module's schema authors wrote (schema.ts, strings.ts).
 */
import type { z } from 'zod';
import { formatPath, piiCut, type PathSegment } from './path.js';

/** One broken rule: where (a field path) and which rule. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** More issues than this are summarised; one bad batch item must not produce a megabyte of errors. */
export const MAX_ISSUES = 50;

type Issue = z.core.$ZodIssue;

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  record: 'an object',
};

/** Reads the input at a path, only to tell "missing" from "wrong type". */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function sizeRule(issue: Extract<Issue, { code: 'too_big' | 'too_small' }>): string {
  const big = issue.code === 'too_big';
  const bound = Number(big ? issue.maximum : issue.minimum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      if (!big && bound === 1) return 'must not be empty';
      return `must be ${big ? 'at most' : 'at least'} ${bound} characters`;
    case 'array':
    case 'set':
      return `must have ${big ? 'at most' : 'at least'} ${bound} items`;
    default: {
      const op = big ? (inclusive ? '≤' : '<') : inclusive ? '≥' : '>';
      return `must be ${op} ${bound}`;
    }
  }
}

function formatRule(issue: Extract<Issue, { code: 'invalid_format' }>): string {
  switch (issue.format) {
    case 'datetime':
      return 'must be an ISO 8601 date-time with seconds and an offset, e.g. 2025-01-31T12:00:00Z or 2025-01-31T13:00:00+01:00';
    case 'uuid':
      return 'must be a UUID (RFC 9562), e.g. 01890a5d-ac96-774b-bcce-b302099a8057';
    default:
      return `must be a valid ${issue.format}`;
  }
}

function toIssues(issue: Issue, input: unknown, prefix: readonly PropertyKey[], out: SchemaIssue[]): void {
  const full = [...prefix, ...issue.path];
  const segments = full.filter((s): s is PathSegment => typeof s !== 'symbol');
  const cut = piiCut(segments);
  if (cut) {
    // Authored messages name rules, never values (a bad name's: the name rule).
    const authored = issue.code === 'custom' ? issue.message : issue.code === 'invalid_key' ? issue.issues.find((i) => i.code === 'custom')?.message : undefined;
    out.push({ path: formatPath(cut), message: authored ?? 'is malformed' });
    return;
  }
  if (issue.code === 'unrecognized_keys' && segments[0] === 'pii') {
    // An unknown field of an entry (pii.<name>, which piiCut left whole): its key is not echoed.
    out.push({ path: formatPath(segments), message: 'may hold only "subject" and "value"' });
    return;
  }
  const path = formatPath(segments);
  switch (issue.code) {
    case 'invalid_type': {
      const missing = valueAt(input, full) === undefined;
      out.push({ path, message: missing ? 'is required' : `must be ${ARTICLE[issue.expected] ?? issue.expected}` });
      return;
    }
    case 'too_big':
    case 'too_small':
      out.push({ path, message: sizeRule(issue) });
      return;
    case 'invalid_format':
      out.push({ path, message: formatRule(issue) });
      return;
    case 'invalid_value':
      out.push({ path, message: `must be one of: ${issue.values.map((v) => String(v)).join(', ')}` });
      return;
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        out.push({ path: formatPath([...full.filter((s): s is PathSegment => typeof s !== 'symbol'), key]), message: 'is not a known field' });
      }
      return;
    case 'invalid_union': {
      // A union (data_accessed items: a string or an object) fails every
      // branch. Report the branch the value was meant for: the one that did
      // not fail on the value's type at the union itself.
      const meant = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (meant.length === 1) {
        for (const i of meant[0]!) toIssues(i, input, full, out);
      } else {
        out.push({ path, message: 'must be a string or an object of the documented shape' });
      }
      return;
    }
    case 'invalid_key': {
      const nested = issue.issues.find((i) => i.code === 'custom');
      out.push({ path, message: nested?.message ?? 'is not an allowed key' });
      return;
    }
    case 'custom':
      // Authored in schema.ts / strings.ts; they name rules, never values.
      out.push({ path, message: issue.message });
      return;
    default:
      out.push({ path, message: 'is invalid' });
  }
}

/** Maps zod issues to path + rule messages, at most {@link MAX_ISSUES}. */
export function schemaIssues(issues: readonly Issue[], input: unknown): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const issue of issues) {
    toIssues(issue, input, [], out);
    if (out.length >= MAX_ISSUES) break;
  }
  return out.slice(0, MAX_ISSUES);
}

/** One-line summary for the error message: the first few issues. */
export function summarizeIssues(issues: readonly SchemaIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.path === '' ? 'the event' : i.path} ${i.message}`);
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return `the event breaks the schema: ${shown.join('; ')}${more}`;
}
