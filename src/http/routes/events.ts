/** Writing: append one event or a batch; fetch a fresh receipt. */

import type { RequestHandler, Response } from 'express';
import { toBase64 } from '../../bytes/index.js';
import { TlogError } from '../../errors.js';
import { assertSignedEventUnaltered, parseEvent } from '../../events/index.js';
import { assertNotServerIdentity } from '../../log/system-events.js';
import type { Appended, Receipt } from '../../log/log.js';
import type { ApiKey } from '../../auth/keyring.js';
import { callerKey, tenantGate } from '../auth.js';
import { checkAgentSignature } from '../signed-events.js';
import { decodeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';
import { errorBody } from '../errors.js';
import { parseId } from '../params.js';

export const MAX_BATCH_EVENTS = 1000;

/** The tenant of every write comes from the key, never from the body (route scope 'own-tenant-write'). */
function writeTenant(res: Response): string {
  return tenantGate(res).writeTenant();
}

function hasEventId(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.prototype.hasOwnProperty.call(body, 'event_id');
}

export function receiptJson(r: Receipt): Record<string, unknown> {
  return { ...r, leaf_hash: toBase64(r.leaf_hash) };
}

/**
 * From a request's event to what the log stores: configured personal-data
 * paths out, validation, the agent signature (checked before anything could
 * change the event: a signed event is stored exactly as signed, or refused),
 * then scrubbing and the vault (src/ingest/).
 */
function readEvent(input: unknown, ctx: AppContext, key: ApiKey) {
  const moved = ctx.ingest.extract(input);
  const event = parseEvent(input, ctx.eventOptions);
  assertNotServerIdentity(event);
  if (event.agent_signature !== undefined && moved.length > 0)
    throw new TlogError('SIGNED_EVENT_ALTERED', 'a signed event cannot carry personal data at configured paths: it would be moved to the vault');
  checkAgentSignature(key, input, event);
  return { event, moved, assignedId: !hasEventId(input) };
}

async function prepareEvent(ctx: AppContext, tenant: string, r: ReturnType<typeof readEvent>) {
  const prepared = await ctx.ingest.prepare(tenant, r.event, r.assignedId, r.moved);
  if (r.event.agent_signature !== undefined) assertSignedEventUnaltered(r.event, prepared.event, 'it holds secrets the server must scrub');
  return prepared;
}

export const appendOne = (ctx: AppContext): RequestHandler => async (req, res) => {
  const tenant = writeTenant(res);
  const body = decodeBody(req);
  const prepared = await prepareEvent(ctx, tenant, readEvent(body, ctx, callerKey(res)));
  const appended = await ctx.log.append(tenant, prepared.event, prepared.append);
  const receipt = await ctx.log.receipt(appended);
  sendJson(res, appended.duplicate ? 200 : 201, receiptJson(receipt));
};

/**
 * Events a batch reads, or answers, per turn (~2–3 ms of work): a
 * 1,000-event batch would otherwise hold the event loop for its whole parse
 * (~100 ms) and again for its receipts, and every other tenant's requests
 * would wait behind it.
 */
const BATCH_TURN = 32;

/** A batch item's error answer, scrubbed like any error answer (http/errors.ts). */
function errorJson(e: unknown, ctx: AppContext): { status: number; error: Record<string, unknown> } {
  if (e instanceof TlogError) return { status: e.status, error: errorBody(e, (s) => ctx.ingest.text(s)) };
  throw e;
}

/**
 * The events of a batch body `{ "events": [ … ] }`: 1 to MAX_BATCH_EVENTS,
 * and at most `poolShare`, the appends one tenant may have waiting in the
 * sequencer pool (half of TLOG_MAX_PENDING): a larger batch could never be
 * admitted, so it is refused as too large rather than asked to retry.
 */
function batchItems(body: unknown, poolShare: number): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as { events?: unknown }).events))
    throw new TlogError('SCHEMA_VIOLATION', 'the body must be { "events": [ … ] }', { details: { issues: [{ path: 'events', message: 'required array' }] } });
  const extra = Object.keys(body)
    .filter((k) => k !== 'events')
    .slice(0, 20)
    .map((k) => k.slice(0, 64));
  if (extra.length > 0) throw new TlogError('UNKNOWN_FIELDS', `unknown fields: ${extra.map((k) => JSON.stringify(k)).join(', ')}`, { details: { fields: extra } });
  const items = (body as { events: unknown[] }).events;
  if (items.length > MAX_BATCH_EVENTS)
    throw new TlogError('BATCH_TOO_LARGE', `a batch holds at most ${MAX_BATCH_EVENTS} events, got ${items.length}`, { details: { max: MAX_BATCH_EVENTS } });
  if (items.length > poolShare)
    throw new TlogError('BATCH_TOO_LARGE', `a batch holds at most ${poolShare} events on this server (one tenant's share of its sequencer pool, TLOG_MAX_PENDING / 2), got ${items.length}`, {
      details: { max: poolShare },
    });
  if (items.length === 0) throw new TlogError('SCHEMA_VIOLATION', 'the batch is empty', { details: { issues: [{ path: 'events', message: 'at least one event' }] } });
  return items;
}

export const appendBatch = (ctx: AppContext): RequestHandler => async (req, res) => {
  const tenant = writeTenant(res);
  let items: unknown[];
  try {
    items = batchItems(decodeBody(req), ctx.log.tenantShare);
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
  const key = callerKey(res);

  // Only the failures are kept for the answer: holding every parsed event
  // until the commit returns would make each young-generation GC copy them
  // all (the surviving set, not the garbage, is what a scavenge costs).
  const failures: ReturnType<typeof errorJson>[] = [];
  const ready: { i: number; r: ReturnType<typeof readEvent> }[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % BATCH_TURN === 0) await ctx.turns.turn(tenant);
    try {
      ready.push({ i, r: readEvent(items[i], ctx, key) });
    } catch (e) {
      failures[i] = errorJson(e, ctx);
    }
  }
  // All-or-nothing admission: a batch never half-fits the pool.
  try {
    ctx.log.reserve(ready.length, tenant);
  } catch (e) {
    // Refused whole (503), nothing appended: the charge is given back but for
    // one event, as for an envelope that cannot be counted. Retrying costs
    // the batch once, not once per attempt.
    ctx.rateLimits.refund('append', key, items.length - 1);
    throw e;
  }
  const appended = new Array<Promise<Appended>>(items.length);
  for (const { i, r } of ready.splice(0)) appended[i] = prepareEvent(ctx, tenant, r).then((p) => ctx.log.append(tenant, p.event, p.append));
  const outcomes = await Promise.allSettled(appended);
  // From here on some events may be in the log: every item gets its own
  // answer, and nothing may fail the whole batch (a 5xx would invite a retry
  // that appends the server-assigned events again). An unexpected error is
  // logged and answered for its item alone, with a generic message.
  const itemError = (e: unknown) => {
    if (e instanceof TlogError) return errorJson(e, ctx);
    ctx.logger.error({ err: e, method: req.method, path: req.path }, 'batch item failed');
    return errorJson(new TlogError('INTERNAL', 'internal error'), ctx);
  };
  const results = new Array<unknown>(items.length);
  for (let from = 0; from < items.length; from += BATCH_TURN) {
    await ctx.turns.turn(tenant);
    const to = Math.min(items.length, from + BATCH_TURN);
    const chunk: Promise<void>[] = [];
    for (let i = from; i < to; i++) {
      const o = outcomes[i];
      if (failures[i]) results[i] = failures[i];
      else if (o?.status === 'fulfilled') {
        const a = o.value;
        chunk.push(
          ctx.log.receipt(a).then(
            (r) => void (results[i] = { status: a.duplicate ? 200 : 201, ...receiptJson(r) }),
            (e: unknown) => void (results[i] = itemError(e)),
          ),
        );
      } else results[i] = itemError(o?.reason);
    }
    await Promise.all(chunk);
  }
  sendJson(res, 200, { results });
};

export const getReceipt = (ctx: AppContext): RequestHandler => async (req, res) => {
  const eventId = parseId(req.params.event_id, 'event_id');
  const tenant = tenantGate(res).lookupTenant();
  const index = await ctx.log.findEvent(tenant, eventId);
  if (index === undefined) throw new TlogError('NOT_FOUND', `no event ${eventId}`);
  const e = await ctx.log.entry(index);
  const receipt = await ctx.log.receipt({ eventId, index, leaf: e.leaf, leafHash: e.leafHash, loggedAt: e.loggedAt });
  sendJson(res, 200, receiptJson(receipt));
};
