/**
 * API key management (admin role, route scope 'own-tenant'). Every change is
 * logged (src/auth/key-events.ts): the change and its event are written in one
 * synced batch (the key-event outbox), then the event is logged, so a crash
 * between the two leaves the event for start-up to log.
 */

import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { keyEvent, logKeyEvent } from '../../auth/key-events.js';
import { describeKey } from '../../auth/keyring.js';
import { ALL_TENANTS, ROLES, TENANT_PATTERN } from '../../auth/roles.js';
import { fromBase64 } from '../../bytes/index.js';
import { isWellFormedString } from '../../events/json.js';
import { isPrintable } from '../../events/strings.js';
import { ed25519PublicKeyProblem } from '../../note/ed25519.js';
import { TlogError } from '../../errors.js';
import { callerKey, tenantGate } from '../auth.js';
import { decodeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';
import { parseId } from '../params.js';

/** A raw Ed25519 public key in standard base64 (44 characters, 32 bytes). */
const agentPublicKey = z
  .string()
  .refine((s) => s.length === 44 && fromBase64(s)?.length === 32, 'agent_public_key must be a 32-byte Ed25519 public key in standard base64')
  .refine((s) => fromBase64(s)?.length !== 32 || ed25519PublicKeyProblem(fromBase64(s)!) === undefined, {
    message: 'agent_public_key must be a canonical Ed25519 point that is not of small order',
  });

const futureTime = z.iso.datetime({ offset: true });

const CreateKey = z
  .strictObject({
    role: z.enum(ROLES),
    tenant: z.string().refine((t) => t === ALL_TENANTS || TENANT_PATTERN.test(t), `tenant must match ${TENANT_PATTERN} or be "${ALL_TENANTS}"`),
    // A label shown by GET /v1/keys: printable, and well-formed Unicode, so every JSON reader of that list can read it.
    note: z
      .string()
      .max(200)
      .refine((n) => n === '' || (isPrintable(n) && isWellFormedString(n)), 'note must be printable: no control or format characters, no unpaired surrogates, no leading or trailing whitespace')
      .optional(),
    expires_at: futureTime.optional(),
    agent_public_key: agentPublicKey.optional(),
  })
  .refine((k) => k.agent_public_key === undefined || k.role === 'agent', { path: ['agent_public_key'], message: 'only agent keys sign events' });

const RotateKey = z.strictObject({
  /** Seconds the old token keeps working; default: the server's keyRotationGrace. */
  grace_seconds: z.number().int().min(0).max(30 * 24 * 3600).optional(),
  expires_at: futureTime.optional(),
  agent_public_key: agentPublicKey.nullable().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success)
    throw new TlogError('SCHEMA_VIOLATION', `invalid ${what}`, {
      details: { issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  return r.data;
}

function checkFuture(ctx: AppContext, expiresAt: string | undefined): void {
  if (expiresAt !== undefined && Date.parse(expiresAt) <= ctx.keys.now())
    throw new TlogError('SCHEMA_VIOLATION', 'expires_at is in the past', { details: { issues: [{ path: 'expires_at', message: 'must be in the future' }] } });
}

export const createKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const spec = parse(CreateKey, decodeBody(req), 'key request');
  checkFuture(ctx, spec.expires_at);
  // A tenant-bound admin cannot see other tenants, so for it they do not exist (404, like any other tenant object).
  tenantGate(res).assertSees(spec.tenant, `no tenant "${spec.tenant}"`);
  // A key change that could not be logged must not happen: check room in the log first.
  ctx.log.reserve(1);
  // The note is stored with the key and shown by the key routes: secrets out, like everything stored.
  const by = callerKey(res);
  const { key, token, pending } = await ctx.keys.create(spec.note === undefined ? spec : { ...spec, note: ctx.ingest.text(spec.note) }, (k) =>
    keyEvent(ctx.eventOptions, 'key.create', k, by),
  );
  const audit = await logKeyEvent(ctx.log, ctx.keys, pending);
  sendJson(res, 201, { ...describeKey(key), token, audit });
};

export const listKeys = (ctx: AppContext): RequestHandler => (_req, res) => {
  const gate = tenantGate(res);
  // ?tenant= narrows the list to one tenant (the gate applies it).
  sendJson(res, 200, { keys: ctx.keys.list().filter((k) => gate.sees(k.tenant)).map(describeKey) });
};

/** Another tenant's key is "not found" to a tenant-bound admin. */
function ownKeyId(ctx: AppContext, res: Response, raw: unknown): string {
  const id = parseId(raw, 'id');
  const k = ctx.keys.get(id);
  if (!k) throw new TlogError('NOT_FOUND', `no key ${id}`);
  tenantGate(res).assertSees(k.tenant, `no key ${id}`);
  return id;
}

export const revokeKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const id = ownKeyId(ctx, res, req.params.id);
  const before = ctx.keys.get(id)!;
  if (before.revoked_at !== undefined) return sendJson(res, 200, describeKey(before));
  ctx.log.reserve(1);
  const by = callerKey(res);
  const { key, pending } = await ctx.keys.revoke(id, (k) => keyEvent(ctx.eventOptions, 'key.revoke', k, by));
  // Revoked meanwhile by a concurrent request (which logged it): nothing changed here.
  if (pending === undefined) return sendJson(res, 200, describeKey(key));
  const audit = await logKeyEvent(ctx.log, ctx.keys, pending);
  sendJson(res, 200, { ...describeKey(key), audit });
};

export const rotateKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const id = ownKeyId(ctx, res, req.params.id);
  // The body is optional: an empty one means "defaults".
  const raw = req.body instanceof Uint8Array && req.body.length > 0 ? decodeBody(req) : {};
  const opts = parse(RotateKey, raw, 'rotation request');
  checkFuture(ctx, opts.expires_at);
  const before = ctx.keys.get(id)!;
  if (opts.agent_public_key && before.role !== 'agent')
    throw new TlogError('SCHEMA_VIOLATION', 'invalid rotation request', { details: { issues: [{ path: 'agent_public_key', message: 'only agent keys sign events' }] } });
  ctx.log.reserve(1);
  const grace = opts.grace_seconds ?? ctx.config.keyRotationGrace;
  const by = callerKey(res);
  const { key, token, pending } = await ctx.keys.rotate(
    id,
    grace,
    {
      ...(opts.expires_at !== undefined ? { expires_at: opts.expires_at } : {}),
      ...(opts.agent_public_key !== undefined ? { agent_public_key: opts.agent_public_key } : {}),
    },
    (k) =>
      keyEvent(ctx.eventOptions, 'key.rotate', k, by, {
        grace_seconds: grace,
        ...(before.agent_public_key !== k.agent_public_key ? { agent_public_key_changed: true } : {}),
      }),
  );
  const audit = await logKeyEvent(ctx.log, ctx.keys, pending);
  sendJson(res, 200, { ...describeKey(key), token, audit });
};
