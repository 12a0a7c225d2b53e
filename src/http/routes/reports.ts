/** GET /v1/reports/summary: JSON, or one self-contained HTML page. */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { TlogError } from '../../errors.js';
import { FILTER_PARAMS, parseParams } from '../../query/filter.js';
import { reportHtml } from '../../query/report-html.js';
import { summaryReport } from '../../query/report.js';
import { readTenant } from '../../query/tenant.js';
import { callerKey } from '../auth.js';
import type { AppContext } from '../context.js';
import { sendBytes, sendJson } from '../json.js';
import { requireQueryIndex } from './query.js';

const REPORT_PARAMS = {
  from: FILTER_PARAMS.from,
  to: FILTER_PARAMS.to,
  tenant: FILTER_PARAMS.tenant,
  format: z.enum(['json', 'html']).optional(),
};

export const summaryReportRoute = (ctx: AppContext): RequestHandler => async (req, res) => {
  requireQueryIndex(ctx);
  const p = parseParams(REPORT_PARAMS, req.query as Record<string, unknown>);
  const tenant = readTenant(callerKey(res), p.tenant);
  if (p.from !== undefined && p.to !== undefined && p.from > p.to)
    throw new TlogError('INVALID_PARAMETER', 'from is after to', { details: { parameter: 'from' } });
  const report = await summaryReport(ctx.log.store, tenant, { from: p.from, to: p.to }, ctx.log.head.treeSize);
  if (p.format !== 'html') return sendJson(res, 200, report);
  // Inline styles only; nothing may be fetched, scripted or framed.
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  sendBytes(res, 'text/html; charset=utf-8', reportHtml(report));
};
