/** Entry contents: auditor role or above, tenant-scoped. */

import type { RequestHandler } from 'express';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { decodeRecord } from '../../events/index.js';
import { parseTilePath } from '../../merkle/index.js';
import { annotateErasures } from '../../privacy/annotate.js';
import { tenantGate } from '../auth.js';
import type { AppContext } from '../context.js';
import { sendBytes, sendJson } from '../json.js';
import { parseCount } from '../params.js';
import { restPath } from './public.js';

/** No key's tenant: only an all-tenants key sees what is filed under it. */
const NO_TENANT = '';

export const getEntry = (ctx: AppContext): RequestHandler => async (req, res) => {
  const index = parseCount(req.params.index, 'index');
  const gate = tenantGate(res);
  const notFound = `no entry at index ${index}`;
  const e = await ctx.log.entry(index).catch(async (err: unknown) => {
    // A pruned entry is as much another tenant's as a stored one: its 410 (and when it was
    // pruned, which hints at its retention class) goes only to keys that see its tenant. A
    // marker written before markers kept the tenant is shown to all-tenants keys only.
    if (err instanceof TlogError && err.code === 'PRUNED') gate.assertSees((await ctx.log.prunedTenant(index)) ?? NO_TENANT, notFound);
    throw err;
  });
  const record = decodeRecord(e.leaf);
  // Another tenant's entry is "not found", so indexes don't reveal whose they are.
  gate.assertSees(record.tenant, notFound);
  sendJson(res, 200, { index, leaf: toBase64(e.leaf), leaf_hash: toBase64(e.leafHash), record: await annotateErasures(record, ctx.vault) });
};

export const getEntryBundle = (ctx: AppContext): RequestHandler => async (req, res) => {
  // Bundles hold every tenant's entries: the route is 'all-tenants' in the table.
  const rest = restPath(req);
  const id = rest === undefined ? undefined : parseTilePath(`entries/${rest}`);
  if (!id) throw new TlogError('INVALID_PARAMETER', 'not an entry bundle path: tile/entries/<N>[.p/<W>] (C2SP tlog-tiles)');
  const data = await ctx.log.entryBundle(id.index, id.width);
  if (!data) throw new TlogError('NOT_FOUND', 'the entry bundle is beyond the current tree');
  res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  sendBytes(res, 'application/octet-stream', data);
};
