/** API key management (admin role). */

import type { RequestHandler } from 'express';
import { z } from 'zod';
import { describeKey } from '../../auth/keyring.js';
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
  const { key, token } = await ctx.keys.create(r.data);
  sendJson(res, 201, { ...describeKey(key), token });
};

export const listKeys = (ctx: AppContext): RequestHandler => (_req, res) => {
  sendJson(res, 200, { keys: ctx.keys.list().map(describeKey) });
};

export const revokeKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const key = await ctx.keys.revoke(parseId(req.params.id, 'id'));
  sendJson(res, 200, describeKey(key));
};

export const rotateKey = (ctx: AppContext): RequestHandler => async (req, res) => {
  const { key, token } = await ctx.keys.rotate(parseId(req.params.id, 'id'));
  sendJson(res, 200, { ...describeKey(key), token });
};
