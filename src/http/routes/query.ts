/** GET /v1/events: filtered, paged search over the tenant's entries (src/query/). */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../query/cursor.js';
import { FILTER_PARAMS, MAX_LIMIT, parseParams, toFilter } from '../../query/filter.js';
import { search } from '../../query/search.js';
import { readTenant } from '../../query/tenant.js';
import { callerKey } from '../auth.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';

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
  const gen = search(ctx.log.store, tenant, filter, { order, treeSize, limit: p.limit ?? 100, budget: PAGE_BUDGET, ...(after !== undefined ? { after } : {}) });
  const events: unknown[] = [];
  let n = await gen.next();
  for (; !n.done; n = await gen.next()) {
    events.push({ index: n.value.index, leaf_hash: toBase64(ctx.log.hashLeaf(n.value.leaf)), record: n.value.record });
  }
  const next = n.value.resumeAfter;
  sendJson(res, 200, { events, next_cursor: next === undefined ? null : encodeCursor(next, fingerprint), tree_size: treeSize });
};
