/** Writing: append one event or a batch; fetch a fresh receipt. */

import type { RequestHandler, Response } from 'express';
import { ALL_TENANTS } from '../../auth/roles.js';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { parseEvent } from '../../events/index.js';
import type { Appended, Receipt } from '../../log/log.js';
import { callerKey } from '../auth.js';
import { decodeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';
import { parseId } from '../params.js';

export const MAX_BATCH_EVENTS = 1000;

/** The tenant of every write comes from the key, never from the body. */
function writeTenant(res: Response): string {
  const key = callerKey(res);
  if (key.tenant === ALL_TENANTS)
    throw new TlogError('FORBIDDEN', 'a cross-tenant key cannot write events: create an agent key for one tenant');
  return key.tenant;
}

function hasEventId(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.prototype.hasOwnProperty.call(body, 'event_id');
}

export function receiptJson(r: Receipt): Record<string, unknown> {
  return { ...r, leaf_hash: toBase64(r.leaf_hash) };
}

/**
 * Personal data must never enter the tree. Until the erasable vault exists,
 * an event that carries `pii` is refused instead of being logged as sent.
 */
function parseStorableEvent(input: unknown, ctx: AppContext) {
  const event = parseEvent(input, ctx.eventOptions);
  if (event.pii !== undefined)
    throw new TlogError('SCHEMA_VIOLATION', 'pii is not accepted yet: personal data goes to the vault, which this server does not have', {
      details: { issues: [{ path: 'pii', message: 'not accepted until the personal-data vault is enabled' }] },
    });
  return event;
}

export const appendOne = (ctx: AppContext): RequestHandler => async (req, res) => {
  const tenant = writeTenant(res);
  const body = decodeBody(req);
  const event = parseStorableEvent(body, ctx);
  const appended = await ctx.log.append(tenant, event, { assignedId: !hasEventId(body) });
  const receipt = await ctx.log.receipt(appended);
  sendJson(res, appended.duplicate ? 200 : 201, receiptJson(receipt));
};

function errorJson(e: unknown): { status: number; error: Record<string, unknown> } {
  if (e instanceof TlogError) return { status: e.status, error: { code: e.code, message: e.message, ...(e.details ?? {}) } };
  throw e;
}

/** The events of a batch body `{ "events": [ … ] }` (1..MAX_BATCH_EVENTS). */
function batchItems(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as { events?: unknown }).events))
    throw new TlogError('SCHEMA_VIOLATION', 'the body must be { "events": [ … ] }', { details: { issues: [{ path: 'events', message: 'required array' }] } });
  const extra = Object.keys(body)
    .filter((k) => k !== 'events')
    .slice(0, 20)
    .map((k) => k.slice(0, 64));
  if (extra.length > 0) throw new TlogError('UNKNOWN_FIELDS', `unknown fields: ${extra.map((k) => JSON.stringify(k)).join(', ')}`, { details: { fields: extra } });
  const items = (body as { events: unknown[] }).events;
  if (items.length > MAX_BATCH_EVENTS) throw new TlogError('BATCH_TOO_LARGE', `a batch holds at most ${MAX_BATCH_EVENTS} events, got ${items.length}`);
  if (items.length === 0) throw new TlogError('SCHEMA_VIOLATION', 'the batch is empty', { details: { issues: [{ path: 'events', message: 'at least one event' }] } });
  return items;
}

export const appendBatch = (ctx: AppContext): RequestHandler => async (req, res) => {
  const tenant = writeTenant(res);
  let items: unknown[];
  try {
    items = batchItems(decodeBody(req));
  } catch (e) {
    // A batch that cannot be counted still costs one event, so garbage cannot flood for free.
    try {
      ctx.rateLimits.charge('append', callerKey(res), 1);
    } catch {
      // Already limited: the body's own error is the more useful answer.
    }
    throw e;
  }
  // A batch counts its events (the rate-limit middleware only checked).
  ctx.rateLimits.charge('append', callerKey(res), items.length);

  const parsed = items.map((item) => {
    try {
      return { event: parseStorableEvent(item, ctx), assignedId: !hasEventId(item) };
    } catch (e) {
      return { failed: errorJson(e) };
    }
  });
  // All-or-nothing admission: a batch never half-fits the pool.
  ctx.log.reserve(parsed.filter((p) => p.event).length, tenant);
  const settled = await Promise.allSettled(
    parsed.map(async (p): Promise<Appended | undefined> => (p.event ? ctx.log.append(tenant, p.event, { assignedId: p.assignedId }) : undefined)),
  );
  const results = await Promise.all(
    settled.map(async (s, i) => {
      const failed = parsed[i]!.failed;
      if (failed) return failed;
      if (s.status === 'rejected') return errorJson(s.reason);
      const a = s.value!;
      return { status: a.duplicate ? 200 : 201, ...receiptJson(await ctx.log.receipt(a)) };
    }),
  );
  sendJson(res, 200, { results });
};

export const getReceipt = (ctx: AppContext): RequestHandler => async (req, res) => {
  const key = callerKey(res);
  const eventId = parseId(req.params.event_id, 'event_id');
  let tenant = key.tenant;
  if (tenant === ALL_TENANTS) {
    const t = req.query.tenant;
    if (t === undefined) throw new TlogError('MISSING_PARAMETER', 'a cross-tenant key must name ?tenant=');
    if (typeof t !== 'string') throw new TlogError('INVALID_PARAMETER', 'give ?tenant= once');
    tenant = t;
  }
  const index = await ctx.log.findEvent(tenant, eventId);
  if (index === undefined) throw new TlogError('NOT_FOUND', `no event ${eventId}`);
  const e = await ctx.log.entry(index);
  const receipt = await ctx.log.receipt({ eventId, index, leaf: e.leaf, leafHash: e.leafHash, loggedAt: e.loggedAt });
  sendJson(res, 200, receiptJson(receipt));
};
