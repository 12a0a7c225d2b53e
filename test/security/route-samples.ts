/**
 * One sample request per route, for the authorization matrix
 * (matrix.test.ts). The matrix is generated from the route table: a route
 * without an entry here fails it, so adding a route means adding one line.
 *
 * `build` gets the tenant whose object the request is about (`target`) and
 * the calling key's tenant, and returns a request that succeeds with `ok`
 * for a key allowed to see that tenant. Routes without tenant objects ignore
 * `target`. Mutating samples create their own throwaway object each time.
 */

import { sampleEvent } from '../helpers.js';
import { makeKey } from './fixtures.js';

export type Tenant = 'acme' | 'globex';

export interface SampleContext {
  url: string;
  /** A "*" admin token for preparing objects. */
  adminToken: string;
  target: Tenant;
  /** The calling key's tenant ("acme" or "*"). */
  callerTenant: string;
  /** One logged event per tenant. */
  objects: Record<Tenant, { eventId: string; index: number }>;
}

export interface RouteSample {
  /** The success status. */
  ok: number;
  build(c: SampleContext): Promise<{ path: string; body?: unknown }>;
}

/** `?tenant=` for a cross-tenant caller, which must name the tenant it looks at. */
const forStar = (c: SampleContext, sep = '?') => (c.callerTenant === '*' ? `${sep}tenant=${c.target}` : '');

let unique = 0;
/** A subject with personal data in the target tenant (logged through an agent key of that tenant). */
async function subjectIn(c: SampleContext, opts: { hold?: boolean } = {}): Promise<string> {
  const subject = `matrix-subject-${process.pid}-${++unique}`;
  const agent = await makeKey(c, { role: 'agent', tenant: c.target });
  const r = await fetch(`${c.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(sampleEvent(3, { pii: { email: { subject, value: `${subject}@example.org` } } })),
  });
  if (r.status !== 201) throw new Error(`could not log a subject: ${r.status}`);
  if (opts.hold) {
    const privacy = await makeKey(c, { role: 'privacy', tenant: c.target });
    const h = await fetch(`${c.url}/v1/subjects/${subject}/hold`, { method: 'POST', headers: { authorization: `Bearer ${privacy.token}` } });
    if (h.status !== 201) throw new Error(`could not hold a subject: ${h.status}`);
  }
  return subject;
}

/** A run with one event in the target tenant. */
async function runIn(c: SampleContext): Promise<string> {
  const run = `matrix-run-${process.pid}-${++unique}`;
  const agent = await makeKey(c, { role: 'agent', tenant: c.target });
  const r = await fetch(`${c.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(sampleEvent(4, { run_id: run })),
  });
  if (r.status !== 201) throw new Error(`could not log a run: ${r.status}`);
  return run;
}

export const SAMPLES: Record<string, RouteSample> = {
  'GET /checkpoint': { ok: 200, build: async () => ({ path: '/checkpoint' }) },
  'GET /tile/entries/*rest': { ok: 200, build: async () => ({ path: '/tile/entries/000.p/1' }) },
  'GET /tile/*rest': { ok: 200, build: async () => ({ path: '/tile/0/000.p/1' }) },
  'GET /v1/log': { ok: 200, build: async () => ({ path: '/v1/log' }) },
  'GET /v1/proofs/inclusion': { ok: 200, build: async () => ({ path: '/v1/proofs/inclusion?index=0&tree_size=1' }) },
  'GET /v1/proofs/consistency': { ok: 200, build: async () => ({ path: '/v1/proofs/consistency?from=1&to=2' }) },
  'GET /healthz': { ok: 200, build: async () => ({ path: '/healthz' }) },
  'GET /v1/entries/:index': { ok: 200, build: async (c) => ({ path: `/v1/entries/${c.objects[c.target].index}` }) },
  'POST /v1/events': { ok: 201, build: async () => ({ path: '/v1/events', body: sampleEvent(1) }) },
  'POST /v1/events/batch': { ok: 200, build: async () => ({ path: '/v1/events/batch', body: { events: [sampleEvent(2)] } }) },
  'GET /v1/events/:event_id/receipt': {
    ok: 200,
    build: async (c) => ({ path: `/v1/events/${c.objects[c.target].eventId}/receipt${forStar(c)}` }),
  },
  'POST /v1/keys': { ok: 201, build: async (c) => ({ path: '/v1/keys', body: { role: 'auditor', tenant: c.target } }) },
  'GET /v1/keys': { ok: 200, build: async (c) => ({ path: `/v1/keys?tenant=${c.target}` }) },
  'DELETE /v1/keys/:id': {
    ok: 200,
    build: async (c) => ({ path: `/v1/keys/${(await makeKey(c, { role: 'auditor', tenant: c.target })).id}` }),
  },
  'POST /v1/keys/:id/rotate': {
    ok: 200,
    build: async (c) => ({ path: `/v1/keys/${(await makeKey(c, { role: 'auditor', tenant: c.target })).id}/rotate`, body: {} }),
  },
  'GET /v1/subjects/:id': { ok: 200, build: async (c) => ({ path: `/v1/subjects/${await subjectIn(c)}?purpose=matrix${forStar(c, '&')}` }) },
  'DELETE /v1/subjects/:id': { ok: 200, build: async (c) => ({ path: `/v1/subjects/${await subjectIn(c)}?reason=matrix${forStar(c, '&')}` }) },
  'POST /v1/subjects/:id/hold': { ok: 201, build: async (c) => ({ path: `/v1/subjects/${await subjectIn(c)}/hold${forStar(c)}`, body: {} }) },
  'DELETE /v1/subjects/:id/hold': { ok: 200, build: async (c) => ({ path: `/v1/subjects/${await subjectIn(c, { hold: true })}/hold${forStar(c)}` }) },
  'POST /v1/runs/:run_id/hold': { ok: 201, build: async (c) => ({ path: `/v1/runs/${await runIn(c)}/hold${forStar(c)}`, body: {} }) },
  'DELETE /v1/runs/:run_id/hold': {
    ok: 200,
    build: async (c) => {
      const run = await runIn(c);
      const privacy = await makeKey(c, { role: 'privacy', tenant: c.target });
      const h = await fetch(`${c.url}/v1/runs/${run}/hold`, { method: 'POST', headers: { authorization: `Bearer ${privacy.token}` } });
      if (h.status !== 201) throw new Error(`could not hold a run: ${h.status}`);
      return { path: `/v1/runs/${run}/hold${forStar(c)}` };
    },
  },
  'POST /v1/retention/run': { ok: 200, build: async () => ({ path: '/v1/retention/run' }) },
  'GET /v1/retention/runs/:id': {
    ok: 200,
    build: async (c) => {
      // A run that finished (waited for): the matrix asks many times, and unfinished runs are capped.
      const r = await fetch(`${c.url}/v1/retention/run`, { method: 'POST', headers: { authorization: `Bearer ${c.adminToken}` } });
      if (r.status !== 200) throw new Error(`could not run retention: ${r.status}`);
      return { path: `/v1/retention/runs/${((await r.json()) as { id: string }).id}` };
    },
  },
  // Collections name the tenant they read: a tenant-bound key naming another tenant gets 404.
  'GET /v1/events': { ok: 200, build: async (c) => ({ path: `/v1/events?limit=1&tenant=${c.target}` }) },
  'GET /v1/export': { ok: 200, build: async (c) => ({ path: `/v1/export?format=ndjson&limit=1&tenant=${c.target}` }) },
  'GET /v1/runs': { ok: 200, build: async (c) => ({ path: `/v1/runs?limit=1&tenant=${c.target}` }) },
  'GET /v1/runs/:run_id': { ok: 200, build: async (c) => ({ path: `/v1/runs/${await runIn(c)}${forStar(c)}` }) },
  'GET /v1/reports/summary': { ok: 200, build: async (c) => ({ path: `/v1/reports/summary?tenant=${c.target}` }) },
};
