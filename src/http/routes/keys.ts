/** API key management (admin role). */

import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { describeKey, keyCoversTenant } from '../../auth/keyring.js';
import { callerKey } from '../auth.js';
import { ALL_TENANTS, ROLES, TENANT_PATTERN } from '../../auth/roles.js';
import { TlogError } from '../../errors.js';
import { decodeBody } from '../body.js';
import type { AppContext } from '../context.js';
import { sendJson } from '../json.js';
import { parseId } from '../params.js';

const CreateKey = z.strictObject({
  role: z.enum(ROLES),
  tenant: z.string().refine((t) => t === ALL_TENANTS || TENANT_PATTERN.test(t), `tenant must match ${TENANT_PATTERN} or be "${ALL_TENANTS}"`),
  note: z.string().max(200).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
});

export const createKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const r = CreateKey.safeParse(decodeBody(req));
  if (!r.success)
    throw new TlogError('SCHEMA_VIOLATION', 'invalid key request', {
      details: { issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  if (r.data.expires_at !== undefined && Date.parse(r.data.expires_at) <= Date.now())
    throw new TlogError('SCHEMA_VIOLATION', 'expires_at is in the past', { details: { issues: [{ path: 'expires_at', message: 'must be in the future' }] } });
  // An admin key bound to one tenant manages that tenant's keys only.
  const caller = callerKey(res);
  if (caller.tenant !== ALL_TENANTS && r.data.tenant !== caller.tenant)
    throw new TlogError('FORBIDDEN', `this admin key may only create keys for tenant "${caller.tenant}"`);
  const { key, token } = await ctx.keys.create(r.data);
  sendJson(res, 201, { ...describeKey(key), token });
};

export const listKeys = (ctx: AppContext): RequestHandler => (_req, res) => {
  const caller = callerKey(res);
  sendJson(res, 200, { keys: ctx.keys.list().filter((k) => keyCoversTenant(caller, k.tenant)).map(describeKey) });
};

/** Another tenant's key is "not found" to a tenant-bound admin. */
function ownKeyId(ctx: AppContext, res: Response, raw: unknown): string {
  const id = parseId(raw, 'id');
  const k = ctx.keys.get(id);
  if (!k || !keyCoversTenant(callerKey(res), k.tenant)) throw new TlogError('NOT_FOUND', `no key ${id}`);
  return id;
}

export const revokeKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const key = await ctx.keys.revoke(ownKeyId(ctx, res, req.params.id));
  sendJson(res, 200, describeKey(key));
};

export const rotateKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const { key, token } = await ctx.keys.rotate(ownKeyId(ctx, res, req.params.id));
  sendJson(res, 200, { ...describeKey(key), token });
};
