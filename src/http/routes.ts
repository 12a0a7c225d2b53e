/**
 * The route table: every route, who may call it, and its body limit, in one
 * place. The app is built from this table (and so will be the security
 * matrix tests and spec/security.md), so a route cannot skip authorization.
 */

import type { RequestHandler } from 'express';
import type { Role } from '../auth/roles.js';
import type { TenantScope } from '../auth/scope.js';
import type { AppContext } from './context.js';
import { getEntry, getEntryBundle } from './routes/entries.js';
import { appendBatch, appendOne, getReceipt } from './routes/events.js';
import { createKey, listKeys, revokeKey, rotateKey } from './routes/keys.js';
import { eraseSubject, getRetentionRun, getSubject, liftHold, liftRunHold, runRetention, setHold, setRunHold } from './routes/subjects.js';
import { exportEvents } from './routes/export.js';
import { queryEvents } from './routes/query.js';
import { summaryReportRoute } from './routes/reports.js';
import { getRun, listRunsRoute } from './routes/runs.js';
import { getCheckpoint, getConsistencyProof, getHealth, getInclusionProof, getLogInfo, getTile } from './routes/public.js';

export interface RouteDef {
  readonly method: 'get' | 'post' | 'delete';
  /** Express 5 path syntax. */
  readonly path: string;
  readonly access: 'public' | readonly Role[];
  /**
   * How the caller's tenant limits the route (src/auth/scope.ts). Required, so
   * a new route must decide; the middleware enforces it and the security
   * matrix test derives every expectation from it.
   */
  readonly tenant: TenantScope;
  /** A public route that stays open even when config requires tokens for public reads (liveness probes). */
  readonly alwaysOpen?: true;
  /** Raw body limit (bytes), for routes that take a body. */
  readonly body?: (ctx: AppContext) => number;
  readonly handler: (ctx: AppContext) => RequestHandler;
  readonly summary: string;
}

const WRITERS: readonly Role[] = ['agent', 'admin'];
const READERS: readonly Role[] = ['auditor', 'admin'];
const ADMIN: readonly Role[] = ['admin'];
const PRIVACY: readonly Role[] = ['privacy'];

/**
 * Order is match order: express tries each route in turn (a few µs per miss),
 * so the busiest routes come first. Only overlapping paths constrain it:
 * `/tile/entries/*rest` must precede `/tile/*rest`.
 */
export const ROUTES: readonly RouteDef[] = [
  { method: 'post', path: '/v1/events', access: WRITERS, tenant: 'own-tenant-write', body: (c) => c.config.maxBody, handler: appendOne, summary: 'Append one audit event; returns a receipt' },
  { method: 'post', path: '/v1/events/batch', access: WRITERS, tenant: 'own-tenant-write', body: (c) => c.config.maxBatchBody, handler: appendBatch, summary: 'Append up to 1,000 events' },
  { method: 'get', path: '/v1/proofs/inclusion', access: 'public', tenant: 'none', handler: getInclusionProof, summary: 'RFC 6962 inclusion proof' },
  { method: 'get', path: '/tile/entries/*rest', access: READERS, tenant: 'all-tenants', handler: getEntryBundle, summary: 'Entry bundle (C2SP tlog-tiles)' },
  { method: 'get', path: '/tile/*rest', access: 'public', tenant: 'none', handler: getTile, summary: 'Hash tile (C2SP tlog-tiles)' },
  { method: 'get', path: '/checkpoint', access: 'public', tenant: 'none', handler: getCheckpoint, summary: 'Latest signed checkpoint (C2SP tlog-checkpoint)' },
  { method: 'get', path: '/v1/proofs/consistency', access: 'public', tenant: 'none', handler: getConsistencyProof, summary: 'RFC 6962 consistency proof' },
  { method: 'get', path: '/v1/log', access: 'public', tenant: 'none', handler: getLogInfo, summary: 'Origin, verifier key, size and root' },
  { method: 'get', path: '/healthz', access: 'public', tenant: 'none', alwaysOpen: true, handler: getHealth, summary: 'Liveness and queue depth' },
  { method: 'get', path: '/v1/entries/:index', access: READERS, tenant: 'own-tenant', handler: getEntry, summary: 'One entry, decoded (own tenant)' },
  { method: 'get', path: '/v1/events/:event_id/receipt', access: ['agent', 'auditor', 'admin'], tenant: 'own-tenant', handler: getReceipt, summary: 'Fresh receipt for a logged event (own tenant)' },
  { method: 'post', path: '/v1/keys', access: ADMIN, tenant: 'own-tenant', body: () => 16 * 1024, handler: createKey, summary: 'Create an API key' },
  { method: 'get', path: '/v1/keys', access: ADMIN, tenant: 'own-tenant', handler: listKeys, summary: 'List API keys (no tokens)' },
  { method: 'delete', path: '/v1/keys/:id', access: ADMIN, tenant: 'own-tenant', handler: revokeKey, summary: 'Revoke an API key' },
  { method: 'post', path: '/v1/keys/:id/rotate', access: ADMIN, tenant: 'own-tenant', body: () => 16 * 1024, handler: rotateKey, summary: "Replace a key's token" },
  { method: 'get', path: '/v1/subjects/:id', access: PRIVACY, tenant: 'own-tenant', handler: getSubject, summary: "Subject access: a subject's stored values and events (the read is logged)" },
  { method: 'delete', path: '/v1/subjects/:id', access: PRIVACY, tenant: 'own-tenant', handler: eraseSubject, summary: "Erase a subject's personal data; returns the erasure receipt" },
  { method: 'post', path: '/v1/subjects/:id/hold', access: PRIVACY, tenant: 'own-tenant', body: () => 4 * 1024, handler: setHold, summary: 'Set a legal hold on a subject' },
  { method: 'delete', path: '/v1/subjects/:id/hold', access: PRIVACY, tenant: 'own-tenant', handler: liftHold, summary: 'Lift a legal hold' },
  { method: 'post', path: '/v1/runs/:run_id/hold', access: PRIVACY, tenant: 'own-tenant', body: () => 4 * 1024, handler: setRunHold, summary: 'Set a legal hold on a run (its entries are never pruned)' },
  { method: 'delete', path: '/v1/runs/:run_id/hold', access: PRIVACY, tenant: 'own-tenant', handler: liftRunHold, summary: "Lift a run's legal hold" },
  { method: 'post', path: '/v1/retention/run', access: ADMIN, tenant: 'all-tenants', handler: runRetention, summary: 'Run the retention sweep now (dry run unless ?apply=true; ?wait=false answers 202 with a job)' },
  { method: 'get', path: '/v1/retention/runs/:id', access: ADMIN, tenant: 'all-tenants', handler: getRetentionRun, summary: 'A retention run started over HTTP: running, done (with its outcome) or failed' },
  { method: 'get', path: '/v1/events', access: READERS, tenant: 'own-tenant', handler: queryEvents, summary: 'Search the tenant\'s events (filters, q, paging)' },
  { method: 'get', path: '/v1/export', access: READERS, tenant: 'own-tenant', handler: exportEvents, summary: 'Stream every match as NDJSON or CSV' },
  { method: 'get', path: '/v1/runs', access: READERS, tenant: 'own-tenant', handler: listRunsRoute, summary: 'List runs with their summaries' },
  { method: 'get', path: '/v1/runs/:run_id', access: READERS, tenant: 'own-tenant', handler: getRun, summary: "One run's timeline and causal tree" },
  { method: 'get', path: '/v1/reports/summary', access: READERS, tenant: 'own-tenant', handler: summaryReportRoute, summary: 'Summary report (JSON or self-contained HTML)' },
];
