/** Personal data: subject access, erasure, legal hold (privacy role, the key's tenant); retention runs (admin). */

import type { Request, RequestHandler, Response } from 'express';
import { TlogError } from '../../errors.js';
import { isPrintable } from '../../events/strings.js';
import type { Caller } from '../../privacy/service.js';
import { callerKey, tenantGate } from '../auth.js';
import { decodeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';
import { onlyOnce } from '../params.js';
import { receiptJson } from './events.js';

const MAX_SUBJECT = 256;
const MAX_TEXT = 500;
// Control and format characters have no place in an id or a reason.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** The subject id from the path. Never echoed in errors: it is personal data. */
function subjectParam(req: Request): string {
  const s = req.params.id;
  // The ingest rule for subject ids (events/strings.ts isPrintable): every stored subject can be named here.
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_SUBJECT || !isPrintable(s))
    throw new TlogError('INVALID_PARAMETER', `the subject id must be 1–${MAX_SUBJECT} printable characters`);
  return s;
}

/** A purpose or reason, trimmed; blank (only spaces) counts as absent, so a required one cannot be skipped with `?reason=+`. */
function textParam(value: unknown, name: string, required: boolean): string | undefined {
  const v = typeof value === 'string' ? value.trim() : value;
  if (v === undefined || v === '') {
    if (required) throw new TlogError('MISSING_PARAMETER', `${name} is required`);
    return undefined;
  }
  onlyOnce(v, name);
  if (typeof v !== 'string' || v.length > MAX_TEXT || UNPRINTABLE.test(v))
    throw new TlogError('INVALID_PARAMETER', `${name} must be at most ${MAX_TEXT} printable characters`);
  return v;
}

/** Whose subject: the key's tenant; a cross-tenant key names one with ?tenant= (route scope 'own-tenant'). */
function caller(_req: Request, res: Response): Caller {
  return { keyId: callerKey(res).id, tenant: tenantGate(res).lookupTenant() };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Purposes and reasons are logged: secrets out first, like everything else that reaches the log. */
const scrubbed = (ctx: AppContext, s: string | undefined) => (s === undefined ? undefined : ctx.ingest.text(s));

/** A hold's body: empty, `{}` or `{ "reason": "…" }`; the reason scrubbed. */
function holdReason(ctx: AppContext, req: Request): string | undefined {
  const body = req.body === undefined || (req.body as Buffer).length === 0 ? {} : decodeBody(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).some((k) => k !== 'reason'))
    throw new TlogError('SCHEMA_VIOLATION', 'the body must be {} or { "reason": "…" }', { details: { issues: [{ path: '', message: 'only "reason" is allowed' }] } });
  const reason = (body as { reason?: unknown }).reason;
  // A body field of the wrong type is a schema violation (422), like any body's; a query parameter's is 400.
  if (reason !== undefined && typeof reason !== 'string')
    throw new TlogError('SCHEMA_VIOLATION', 'reason must be a string', { details: { issues: [{ path: 'reason', message: 'must be a string' }] } });
  return scrubbed(ctx, textParam(reason, 'reason', false));
}

export const getSubject = (ctx: AppContext): RequestHandler => async (req, res) => {
  const subject = subjectParam(req);
  const purpose = ctx.ingest.text(textParam(req.query.purpose, 'purpose', true)!);
  const r = await ctx.privacy.access(caller(req, res), subject, purpose);
  if ('erased' in r) {
    sendJson(res, 200, { erased: true, erased_at: iso(r.erased_at), erasure_receipt: receiptJson(r.receipt) });
    return;
  }
  sendJson(res, 200, {
    pseudonym: r.pseudonym,
    hold: r.hold ? { since: iso(r.hold.since), ...(r.hold.reason ? { reason: r.hold.reason } : {}) } : null,
    values: r.values.map((v) => ({
      name: v.name,
      path: v.path,
      value: v.value,
      pointer: v.pointer,
      commitment: v.commitment,
      salt: v.salt,
      event_id: v.event_id,
      index: v.index ?? null,
      leaf_hash: v.leaf_hash ?? null,
      stored_at: iso(v.created_at),
      expires_at: iso(v.expires_at),
    })),
    read_receipt: receiptJson(r.read_receipt),
  });
};

export const eraseSubject = (ctx: AppContext): RequestHandler => async (req, res) => {
  const subject = subjectParam(req);
  const reason = ctx.ingest.text(textParam(req.query.reason, 'reason', true)!);
  const r = await ctx.privacy.erase(caller(req, res), subject, reason);
  sendJson(res, 200, {
    pseudonym: r.pseudonym,
    erased_at: iso(r.erased_at),
    values_erased: r.values,
    repeated: r.repeated,
    receipt: receiptJson(r.receipt),
  });
};

export const setHold = (ctx: AppContext): RequestHandler => async (req, res) => {
  const subject = subjectParam(req);
  const reason = holdReason(ctx, req);
  const r = await ctx.privacy.hold(caller(req, res), subject, true, reason);
  sendJson(res, r.changed ? 201 : 200, { pseudonym: r.pseudonym, hold: true, changed: r.changed, ...(r.receipt ? { receipt: receiptJson(r.receipt) } : {}) });
};

export const liftHold = (ctx: AppContext): RequestHandler => async (req, res) => {
  const subject = subjectParam(req);
  const reason = scrubbed(ctx, textParam(req.query.reason, 'reason', false));
  const r = await ctx.privacy.hold(caller(req, res), subject, false, reason);
  sendJson(res, 200, { pseudonym: r.pseudonym, hold: false, changed: r.changed, ...(r.receipt ? { receipt: receiptJson(r.receipt) } : {}) });
};

/** `true` or `false`, else the default; anything else is 400. */
function boolParam(req: Request, name: string, fallback: boolean): boolean {
  const v = req.query[name];
  onlyOnce(v, name);
  if (v === undefined) return fallback;
  if (v !== 'true' && v !== 'false') throw new TlogError('INVALID_PARAMETER', `${name} must be true or false`);
  return v === 'true';
}

/**
 * A retention run, as a job (privacy/retention-jobs.ts). By default the answer waits for the
 * outcome (200, as before jobs); `wait=false` answers 202 at once with the job and its Location.
 */
export const runRetention = (ctx: AppContext): RequestHandler => async (req, res) => {
  const dryRun = !boolParam(req, 'apply', false);
  const wait = boolParam(req, 'wait', true);
  const { job, done } = ctx.retentionJobs.start(dryRun);
  if (!wait) {
    res.setHeader('Location', `/v1/retention/runs/${job.id}`);
    sendJson(res, 202, job);
    return;
  }
  // The server drops a connection silent for 2× the request deadline (server.ts); a run can take
  // minutes, and its answer is all this connection waits for.
  const timeout = req.socket.timeout;
  req.socket.setTimeout(0);
  try {
    const r = await done;
    sendJson(res, 200, { id: job.id, dry_run: dryRun, pii: r.pii, entries: r.entries });
  } finally {
    req.socket.setTimeout(timeout ?? 0);
  }
};

export const getRetentionRun = (ctx: AppContext): RequestHandler => async (req, res) => {
  const id = req.params.id;
  const job = typeof id === 'string' ? ctx.retentionJobs.get(id) : undefined;
  if (!job) throw new TlogError('NOT_FOUND', 'no such retention run (jobs are kept in memory: a restart, or 32 later runs, forget it)');
  sendJson(res, 200, job);
};

function runParam(req: Request): string {
  const r = req.params.run_id;
  // The event schema's rule for run_id (as GET /v1/runs/<run_id>): every run an event can name can be held.
  if (typeof r !== 'string' || r.length === 0 || r.length > 256 || !isPrintable(r)) throw new TlogError('INVALID_PARAMETER', 'run_id must be 1–256 printable characters');
  return r;
}

export const setRunHold = (ctx: AppContext): RequestHandler => async (req, res) => {
  const runId = runParam(req);
  const reason = holdReason(ctx, req);
  const r = await ctx.privacy.runHold(caller(req, res), runId, true, reason);
  sendJson(res, r.changed ? 201 : 200, { run_id: runId, hold: true, changed: r.changed, ...(r.receipt ? { receipt: receiptJson(r.receipt) } : {}) });
};

export const liftRunHold = (ctx: AppContext): RequestHandler => async (req, res) => {
  const runId = runParam(req);
  const reason = scrubbed(ctx, textParam(req.query.reason, 'reason', false));
  const r = await ctx.privacy.runHold(caller(req, res), runId, false, reason);
  if (!r.changed) throw new TlogError('NOT_FOUND', 'no hold is set on this run');
  sendJson(res, 200, { run_id: runId, hold: false, changed: true, ...(r.receipt ? { receipt: receiptJson(r.receipt) } : {}) });
};
