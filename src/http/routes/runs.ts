/** Run timelines and run listings (src/query/runs.ts). */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { isPrintable } from '../../events/strings.js';
import { queryFingerprint } from '../../query/cursor.js';
import { FILTER_PARAMS, parseParams } from '../../query/filter.js';
import { erasureMarks } from '../../query/erasure-marks.js';
import { causalTree, listRuns, readRun, RUN_STATUSES, summarizeRun } from '../../query/runs.js';
import { markErased } from '../../privacy/annotate.js';
import { readTenant } from '../../query/tenant.js';
import { callerKey } from '../auth.js';
import type { AppContext } from '../context.js';
import { requireQueryIndex } from './query.js';
import { sendJson } from '../json.js';

/** Runs one listing page may examine before it hands out a cursor. */
export const RUNS_PAGE_BUDGET = 1000;

export const getRun = (ctx: AppContext): RequestHandler => async (req, res) => {
  requireQueryIndex(ctx);
  const runId = req.params.run_id;
  if (typeof runId !== 'string' || runId.length === 0 || runId.length > 256 || !isPrintable(runId))
    throw new TlogError('INVALID_PARAMETER', 'run_id must be 1–256 printable characters', { details: { parameter: 'run_id' } });
  const p = parseParams({ tenant: FILTER_PARAMS.tenant }, req.query as Record<string, unknown>);
  const tenant = readTenant(callerKey(res), p.tenant);
  const treeSize = ctx.log.head.treeSize;
  const { hits, truncated } = await readRun(ctx.log.store, tenant, runId, treeSize);
  if (hits.length === 0) throw new TlogError('NOT_FOUND', 'no events with this run_id');
  const summary = summarizeRun(runId, hits, truncated);
  const tree = causalTree(hits);
  // Erased references marked, as on every read: one vault read for the whole timeline.
  const marks = await erasureMarks(hits, ctx.vault);
  sendJson(res, 200, {
    ...summary,
    tree_size: treeSize,
    roots: tree.roots,
    events: hits.map((h, i) => ({
      index: h.index,
      leaf_hash: toBase64(ctx.log.hashLeaf(h.leaf)),
      parent: tree.nodes[i]!.parent,
      depth: tree.nodes[i]!.depth,
      children: tree.nodes[i]!.children,
      record: marks?.[i] === undefined ? h.record : markErased(h.record, marks[i]),
    })),
  });
};

const LIST_PARAMS = {
  from: FILTER_PARAMS.from,
  to: FILTER_PARAMS.to,
  actor: FILTER_PARAMS.actor,
  tenant: FILTER_PARAMS.tenant,
  status: z.enum(RUN_STATUSES).optional(),
  limit: z
    .string()
    .regex(/^[1-9]\d{0,2}$/, 'must be an integer from 1 to 200')
    .transform(Number)
    .pipe(z.number().max(200, 'must be an integer from 1 to 200'))
    .optional(),
  cursor: z.string().optional(),
};

function decodeRunCursor(cursor: string, fingerprint: string): string {
  let c: { r?: unknown; f?: unknown } | undefined;
  try {
    c = /^[A-Za-z0-9_-]{1,2000}$/.test(cursor) ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof c) : undefined;
  } catch {
    c = undefined;
  }
  if (!c || typeof c.r !== 'string' || typeof c.f !== 'string') throw new TlogError('INVALID_CURSOR', 'the cursor is not one this server handed out');
  if (c.f !== fingerprint) throw new TlogError('INVALID_CURSOR', 'the cursor belongs to a listing with other filters or tenant');
  return c.r;
}

export const listRunsRoute = (ctx: AppContext): RequestHandler => async (req, res) => {
  requireQueryIndex(ctx);
  const p = parseParams(LIST_PARAMS, req.query as Record<string, unknown>);
  const tenant = readTenant(callerKey(res), p.tenant);
  if (p.from !== undefined && p.to !== undefined && p.from > p.to)
    throw new TlogError('INVALID_PARAMETER', 'from is after to', { details: { parameter: 'from' } });
  const f = { from: p.from, to: p.to, actor: p.actor, status: p.status };
  const fingerprint = queryFingerprint(['runs', tenant, f]);
  const afterRunId = p.cursor === undefined ? undefined : decodeRunCursor(p.cursor, fingerprint);
  const r = await listRuns(ctx.log.store, tenant, f, {
    treeSize: ctx.log.head.treeSize,
    limit: p.limit ?? 50,
    budget: RUNS_PAGE_BUDGET,
    ...(afterRunId !== undefined ? { afterRunId } : {}),
  });
  const next = r.resumeAfter === undefined ? null : Buffer.from(JSON.stringify({ r: r.resumeAfter, f: fingerprint })).toString('base64url');
  sendJson(res, 200, { runs: r.runs, next_cursor: next });
};
