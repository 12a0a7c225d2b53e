/** GET /v1/events: filtered, paged search over the tenant's entries (src/query/). */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { TlogError } from '../../errors.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../query/cursor.js';
import { FILTER_PARAMS, MAX_LIMIT, parseParams, toFilter } from '../../query/filter.js';
import { borrowSink, finishPage, returnSink, writeEventsPage } from '../../query/events-page.js';
import { readTenant } from '../../query/tenant.js';
import { callerKey } from '../auth.js';
import type { AppContext } from '../context.js';
import { sendBytes } from '../json.js';

/** Leaves one page may examine: a page that filters out many candidates stops here and hands out a cursor. */
export const PAGE_BUDGET = 20_000;

const PAGE_PARAMS = {
  ...FILTER_PARAMS,
  limit: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .pipe(z.number().max(MAX_LIMIT, 'must be an integer from 1 to 1000'))
    .optional(),
  order: z.enum(['asc', 'desc']).optional(),
  cursor: z.string().optional(),
};

/** Query routes read the indexes; a server running without them must not answer from half an index. */
export function requireQueryIndex(ctx: AppContext): void {
  if (ctx.config.queryIndex === 'off') throw new TlogError('QUERY_DISABLED', 'this server runs with query indexes off (TLOG_QUERY_INDEX=off)');
}

export const queryEvents = (ctx: AppContext): RequestHandler => async (req, res) => {
  requireQueryIndex(ctx);
  const p = parseParams(PAGE_PARAMS, req.query as Record<string, unknown>);
  const tenant = readTenant(callerKey(res), p.tenant);
  const filter = toFilter(p);
  const order = p.order ?? 'asc';
  const fingerprint = queryFingerprint([tenant, order, filter]);
  const after = p.cursor !== undefined ? decodeCursor(p.cursor, fingerprint) : undefined;
  const treeSize = ctx.log.head.treeSize;
  const out = borrowSink();
  let end;
  try {
    end = await writeEventsPage(out, ctx.log.store, (i, leaf) => ctx.log.leafHashIfCached(i) ?? ctx.log.hashLeaf(leaf), tenant, filter, {
      order,
      treeSize,
      limit: p.limit ?? 100,
      budget: PAGE_BUDGET,
      ...(after !== undefined ? { after } : {}),
    }, ctx.vault);
  } catch (e) {
    returnSink(out);
    throw e;
  }
  const next = end.resumeAfter;
  const body = finishPage(out, next === undefined ? null : encodeCursor(next, fingerprint), treeSize);
  // The body is a view of the pooled sink: it goes back once the bytes are handed to the socket.
  // A response that never finishes (the client left) leaves its sink to the GC.
  res.once('finish', () => returnSink(out));
  sendBytes(res, 'application/json; charset=utf-8', body);
};
