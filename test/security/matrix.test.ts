/**
 * The authorization matrix, generated from the route table (src/http/routes.ts):
 * every route × every role × a key bound to the own tenant and a "*" key ×
 * an object of the own tenant and of another tenant × no, malformed,
 * unknown, expired and revoked tokens. Every expectation is derived from the
 * route's `access` and `tenant` declarations; the only per-route input is a
 * sample request (route-samples.ts), and a route without one fails here.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/auth/roles.js';
import { ROUTES, type RouteDef } from '../../src/http/routes.js';
import { sampleEvent } from '../helpers.js';
import { call, makeKey, startSecServer, type SecServer } from './fixtures.js';
import { SAMPLES, type SampleContext, type Tenant } from './route-samples.js';

const routeName = (r: Pick<RouteDef, 'method' | 'path'>) => `${r.method.toUpperCase()} ${r.path}`;
const KEY_TENANTS = ['acme', '*'] as const;
const TARGETS: readonly Tenant[] = ['acme', 'globex'];
const HOUR = 3_600_000;

/** What the table says a valid key of (role, keyTenant) gets when asking about `target`'s object. */
function expected(r: RouteDef, role: Role, keyTenant: string, target: Tenant, ok: number): number {
  if (r.access === 'public') return ok;
  if (!r.access.includes(role)) return 403;
  switch (r.tenant) {
    case 'none':
      return ok;
    case 'all-tenants':
      return keyTenant === '*' ? ok : 403;
    case 'own-tenant-write':
      return keyTenant === '*' ? 403 : ok;
    case 'own-tenant':
      return keyTenant === '*' || keyTenant === target ? ok : 404;
  }
}

interface Fixture {
  s: SecServer;
  valid: Map<string, string>;
  dead: { name: string; token: string | undefined; header?: string }[];
  objects: SampleContext['objects'];
}

/** Keys for every role × tenant (valid, expired, revoked) and one event per tenant. */
async function fixture(publicReadsNeedToken: boolean): Promise<Fixture> {
  // Rate limits off: the matrix sends hundreds of requests with one admin key back to back, and a
  // fast enough server ran it into the key's read burst (429). Throttling is tested in test/limits/.
  const s = await startSecServer({ publicReadsNeedToken, rateAppendKey: 'off', rateAppendTenant: 'off', rateReadKey: 'off', rateReadTenant: 'off' });
  const valid = new Map<string, string>();
  const dead: Fixture['dead'] = [
    { name: 'no token', token: undefined },
    { name: 'malformed header', token: undefined, header: 'Basic YWRtaW46YWRtaW4=' },
    { name: 'empty bearer', token: undefined, header: 'Bearer ' },
    { name: 'unknown token', token: `atlk_${'A'.repeat(43)}` },
  ];
  const expiresAt = new Date(s.clock.now() + HOUR).toISOString();
  for (const role of ROLES)
    for (const tenant of KEY_TENANTS) {
      valid.set(`${role}/${tenant}`, (await makeKey(s, { role, tenant })).token);
      dead.push({ name: `expired ${role}/${tenant}`, token: (await makeKey(s, { role, tenant, expires_at: expiresAt })).token });
      const revoked = await makeKey(s, { role, tenant });
      expect((await call(s.url, 'delete', `/v1/keys/${revoked.id}`, s.adminToken)).status).toBe(200);
      dead.push({ name: `revoked ${role}/${tenant}`, token: revoked.token });
    }
  const objects = {} as SampleContext['objects'];
  for (const t of TARGETS) {
    const writer = (await makeKey(s, { role: 'agent', tenant: t })).token;
    const r = await call(s.url, 'post', '/v1/events', writer, sampleEvent(7));
    expect(r.status).toBe(201);
    objects[t] = { eventId: r.json.event_id, index: r.json.index };
  }
  // Past every expires_at above; nothing else expires (rotation grace is unused here).
  s.clock.advance(2 * HOUR);
  return { s, valid, dead, objects };
}

async function request(f: Fixture, r: RouteDef, auth: string | { header: string } | undefined, target: Tenant, callerTenant: string) {
  const sample = SAMPLES[routeName(r)]!;
  const req = await sample.build({ url: f.s.url, adminToken: f.s.adminToken, target, callerTenant, objects: f.objects });
  return call(f.s.url, r.method, req.path, auth, req.body);
}

describe('every route has a sample request for the matrix', () => {
  it.each(ROUTES.map((r) => [routeName(r)]))('%s', (name) => {
    expect(SAMPLES[name], `add a sample request for ${name} to test/security/route-samples.ts`).toBeDefined();
  });
  it('and no sample names a route that does not exist', () => {
    const names = new Set(ROUTES.map(routeName));
    expect(Object.keys(SAMPLES).filter((n) => !names.has(n))).toEqual([]);
  });
});

describe('authorization matrix (default config: public reads are public)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(false);
  }, 60_000);
  afterAll(() => f.s.close());

  it.each(ROUTES.map((r) => [routeName(r), r] as const))('%s', async (_name, r) => {
    const sample = SAMPLES[routeName(r)];
    expect(sample).toBeDefined();
    const wrong: string[] = [];
    for (const role of ROLES)
      for (const kt of KEY_TENANTS)
        for (const target of TARGETS) {
          const a = await request(f, r, f.valid.get(`${role}/${kt}`)!, target, kt);
          const want = expected(r, role, kt, target, sample!.ok);
          if (a.status !== want) wrong.push(`${role}/${kt} → ${target}'s object: got ${a.status} ${a.json?.error?.code ?? ''}, want ${want}`);
          // A 404 for another tenant must look exactly like a missing object: never FORBIDDEN.
          if (want === 404 && a.json?.error?.code !== 'NOT_FOUND') wrong.push(`${role}/${kt} → ${target}: 404 without NOT_FOUND`);
        }
    for (const d of f.dead) {
      const a = await request(f, r, d.header ? { header: d.header } : d.token, 'acme', 'acme');
      const want = r.access === 'public' ? sample!.ok : 401;
      if (a.status !== want) wrong.push(`${d.name}: got ${a.status}, want ${want}`);
      if (want === 401 && a.json?.error?.code !== 'UNAUTHENTICATED') wrong.push(`${d.name}: 401 without UNAUTHENTICATED`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('?tenant= on own-tenant routes', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(false);
  }, 60_000);
  afterAll(() => f.s.close());

  it('narrows a "*" key to that tenant, and is 404 for a tenant-bound key naming another', async () => {
    const star = f.valid.get('auditor/*')!;
    const acme = f.valid.get('auditor/acme')!;
    const globexEntry = `/v1/entries/${f.objects.globex.index}`;
    expect((await call(f.s.url, 'get', globexEntry, star)).status).toBe(200);
    expect((await call(f.s.url, 'get', `${globexEntry}?tenant=globex`, star)).status).toBe(200);
    expect((await call(f.s.url, 'get', `${globexEntry}?tenant=acme`, star)).status).toBe(404);
    expect((await call(f.s.url, 'get', `/v1/entries/${f.objects.acme.index}?tenant=globex`, acme)).json.error.code).toBe('NOT_FOUND');
    expect((await call(f.s.url, 'get', `/v1/entries/${f.objects.acme.index}?tenant=acme`, acme)).status).toBe(200);
    expect((await call(f.s.url, 'get', `/v1/entries/${f.objects.acme.index}?tenant=a&tenant=b`, star)).status).toBe(400);
    const keys = (await call(f.s.url, 'get', '/v1/keys?tenant=globex', f.valid.get('admin/*')!)).json.keys;
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k: any) => k.tenant === 'globex')).toBe(true);
  });
});

describe('authorization matrix with publicReadsNeedToken', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(true);
  }, 60_000);
  afterAll(() => f.s.close());

  const publicRoutes = ROUTES.filter((r) => r.access === 'public');
  it.each(publicRoutes.map((r) => [routeName(r), r] as const))('%s', async (_name, r) => {
    const ok = SAMPLES[routeName(r)]!.ok;
    const wrong: string[] = [];
    for (const role of ROLES)
      for (const kt of KEY_TENANTS) {
        const a = await request(f, r, f.valid.get(`${role}/${kt}`)!, 'acme', kt);
        if (a.status !== ok) wrong.push(`${role}/${kt}: got ${a.status}, want ${ok}`);
      }
    for (const d of f.dead) {
      const a = await request(f, r, d.header ? { header: d.header } : d.token, 'acme', 'acme');
      const want = r.alwaysOpen ? ok : 401;
      if (a.status !== want) wrong.push(`${d.name}: got ${a.status}, want ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it('still answers the non-public routes as in the table', async () => {
    const r = ROUTES.find((x) => x.path === '/v1/entries/:index')!;
    expect((await request(f, r, undefined, 'acme', 'acme')).status).toBe(401);
    expect((await request(f, r, f.valid.get('auditor/acme')!, 'globex', 'acme')).status).toBe(404);
  });
});
