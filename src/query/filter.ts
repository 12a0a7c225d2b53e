/**
 * Query filters: parsed from query parameters at the HTTP boundary (zod),
 * and the exact predicate every hit must satisfy. Where a key is cut, a
 * risk bucket is coarse or a time window ends inside a block, the indexes
 * only narrow the scan and `matches` decides, so those never produce a
 * wrong hit. Where the lists are exact (search.ts `indexExact`), the
 * intersection is the answer: the lists and `matches` read the same fields
 * (`recordFields`), and the brute-force tests hold them to each other.
 */

import { z } from 'zod';
import { TENANT_PATTERN } from '../auth/roles.js';
import { TlogError } from '../errors.js';
import type { LogRecord } from '../events/index.js';
import { isPrintable } from '../events/strings.js';
import { recordFields, type RecordFields } from './fields.js';
import { tokenize } from './tokens.js';

export interface EventFilter {
  run_id?: string;
  session_id?: string;
  actor?: string;
  /** action.type or action.name. */
  action?: string;
  decision?: 'ALLOW' | 'DENY' | 'REQUIRE_APPROVAL';
  approval?: 'pending' | 'approved' | 'denied' | 'expired' | 'not_required';
  approver?: string;
  /** target.system or target.resource. */
  target?: string;
  risk_min?: number;
  risk_max?: number;
  /** logged_at bounds, Unix ms, both inclusive. */
  from?: number;
  to?: number;
  /** Tokens of `q`; every one must be among the record's tokens. */
  words?: string[];
}

export const MAX_LIMIT = 1000;
export const MAX_Q_WORDS = 16;

const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** ISO 8601 (a date, or a date-time with an offset) or Unix milliseconds. */
export function parseTime(s: string): number | undefined {
  if (/^(0|[1-9]\d{0,15})$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (!ISO.test(s)) return undefined;
  // Date.parse rolls impossible dates over (2026-02-30 is March 2nd) and takes 24:00: both are
  // refused, like an event's `ts`.
  const [y, mo, d] = [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return undefined;
  if (s.length > 10 && (Number(s.slice(11, 13)) > 23 || Number(s.slice(14, 16)) > 59 || (s[16] === ':' && Number(s.slice(17, 19)) > 59))) return undefined;
  const zone = /[+-](\d{2}):(\d{2})$/.exec(s);
  if (zone && (Number(zone[1]) > 23 || Number(zone[2]) > 59)) return undefined;
  const n = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const id = z.string().min(1).max(256).refine(isPrintable, 'must be printable: no control characters, no surrounding spaces');
const time = z.string().transform((s, ctx) => {
  const t = parseTime(s);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be ISO 8601 (2026-11-23 or 2026-11-23T10:00:00Z) or Unix milliseconds' });
    return z.NEVER;
  }
  return t;
});
const score = z
  .string()
  .regex(/^(?:0|[1-9]\d{0,2})(?:\.\d{1,6})?$/, 'must be a decimal number')
  .transform(Number)
  .pipe(z.number().min(0).max(100));
const q = z
  .string()
  .min(1)
  .max(1024)
  .transform((s, ctx) => {
    const w = tokenize([s], MAX_Q_WORDS + 1);
    if (w.length === 0 || w.length > MAX_Q_WORDS) {
      ctx.addIssue({ code: 'custom', message: `must hold 1 to ${MAX_Q_WORDS} words (letters or digits)` });
      return z.NEVER;
    }
    return w;
  });

export const FILTER_PARAMS = {
  run_id: id.optional(),
  session_id: id.optional(),
  actor: id.optional(),
  action: id.optional(),
  decision: z.enum(['ALLOW', 'DENY', 'REQUIRE_APPROVAL']).optional(),
  approval: z.enum(['pending', 'approved', 'denied', 'expired', 'not_required']).optional(),
  approver: id.optional(),
  target: z.string().min(1).max(1024).refine(isPrintable, 'must be printable').optional(),
  risk_min: score.optional(),
  risk_max: score.optional(),
  q: q.optional(),
  from: time.optional(),
  to: time.optional(),
  tenant: z.string().regex(TENANT_PATTERN, `must match ${TENANT_PATTERN}`).optional(),
};

/**
 * Validates `query` against `shape`. A repeated parameter, a malformed value
 * or a bad range is 400 INVALID_PARAMETER naming the parameter.
 */
export function parseParams<S extends z.ZodRawShape>(shape: S, query: Record<string, unknown>): z.output<z.ZodObject<S>> {
  for (const k of Object.keys(shape)) {
    if (Array.isArray(query[k])) throw new TlogError('INVALID_PARAMETER', `${k} is given more than once`, { details: { parameter: k } });
  }
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(shape)) if (query[k] !== undefined) picked[k] = query[k];
  const r = z.object(shape).safeParse(picked);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const param = String(issue.path[0] ?? '');
    throw new TlogError('INVALID_PARAMETER', `${param}: ${issue.message}`, { details: { parameter: param } });
  }
  return r.data as z.output<z.ZodObject<S>>;
}

type FilterInput = { [K in keyof typeof FILTER_PARAMS]?: z.output<(typeof FILTER_PARAMS)[K]> };

export function toFilter(p: FilterInput): EventFilter {
  const f: EventFilter = {};
  for (const k of ['run_id', 'session_id', 'actor', 'action', 'decision', 'approval', 'approver', 'target', 'risk_min', 'risk_max', 'from', 'to'] as const) {
    if (p[k] !== undefined) (f as Record<string, unknown>)[k] = p[k];
  }
  if (p.q !== undefined) f.words = p.q;
  if (f.risk_min !== undefined && f.risk_max !== undefined && f.risk_min > f.risk_max)
    throw new TlogError('INVALID_PARAMETER', 'risk_min is above risk_max', { details: { parameter: 'risk_min' } });
  if (f.from !== undefined && f.to !== undefined && f.from > f.to)
    throw new TlogError('INVALID_PARAMETER', 'from is after to', { details: { parameter: 'from' } });
  return f;
}

/** The exact predicate. `fields` may be passed when already computed. */
export function matches(f: EventFilter, tenant: string, r: LogRecord, fields: RecordFields = recordFields(r)): boolean {
  if (r.tenant !== tenant) return false;
  if (f.from !== undefined && r.logged_at < f.from) return false;
  if (f.to !== undefined && r.logged_at > f.to) return false;
  if (f.run_id !== undefined && fields.run !== f.run_id) return false;
  if (f.session_id !== undefined && fields.session !== f.session_id) return false;
  if (f.actor !== undefined && fields.actor !== f.actor) return false;
  if (f.action !== undefined && !fields.action.includes(f.action)) return false;
  if (f.decision !== undefined && fields.decision !== f.decision) return false;
  if (f.approval !== undefined && fields.approval !== f.approval) return false;
  if (f.approver !== undefined && fields.approver !== f.approver) return false;
  if (f.target !== undefined && !fields.target.includes(f.target)) return false;
  if (f.risk_min !== undefined || f.risk_max !== undefined) {
    if (fields.risk === undefined) return false;
    if (f.risk_min !== undefined && fields.risk < f.risk_min) return false;
    if (f.risk_max !== undefined && fields.risk > f.risk_max) return false;
  }
  if (f.words !== undefined) {
    const have = new Set(fields.words);
    if (!f.words.every((w) => have.has(w))) return false;
  }
  return true;
}
