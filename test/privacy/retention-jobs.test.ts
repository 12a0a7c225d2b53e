/**
 * Retention runs as jobs: `POST /v1/retention/run?wait=false` answers 202 at once with a job,
 * `GET /v1/retention/runs/<id>` shows it running, then done with the same outcome a waited-for
 * run gives; failures keep a stable code and never a bug's words; unfinished runs are capped.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { MAX_UNFINISHED, RetentionJobs, type RetentionResult } from '../../src/privacy/retention-jobs.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const DAY = 86_400_000;
const silent = createLogger('silent');
const result = (values: number): RetentionResult => ({ pii: { subjects: 1, values, held: 0 } as RetentionResult['pii'] });

/** A run function whose runs finish when the test says so. */
function gatedRuns() {
  const gates: { resolve: (r: RetentionResult) => void; reject: (e: unknown) => void }[] = [];
  const run = () => new Promise<RetentionResult>((resolve, reject) => void gates.push({ resolve, reject }));
  return { run, gates };
}

describe('RetentionJobs', () => {
  it('caps unfinished runs (OVERLOADED), and frees a place when one finishes', async () => {
    const { run, gates } = gatedRuns();
    const jobs = new RetentionJobs(run, silent);
    const started = Array.from({ length: MAX_UNFINISHED }, () => jobs.start(true));
    // The refusal names the runs in the way, so the caller can read them.
    expect(() => jobs.start(true)).toThrow(expect.objectContaining({ code: 'OVERLOADED', retryAfter: 60, details: { running: started.map((x) => x.job.id) } }));
    gates[0]!.resolve(result(3));
    await started[0]!.done;
    expect(jobs.get(started[0]!.job.id)).toMatchObject({ status: 'done', pii: { values: 3 } });
    expect(jobs.start(false).job.status).toBe('running');
  });

  it('a failed run keeps its stable code; a bug is INTERNAL with a generic message, never its own words', async () => {
    const { run, gates } = gatedRuns();
    const jobs = new RetentionJobs(run, silent);
    const a = jobs.start(false);
    const b = jobs.start(false);
    gates[0]!.reject(new TlogError('LOG_UNAVAILABLE', 'storage failed'));
    gates[1]!.reject(new Error('secret-looking internals: /srv/data/vault'));
    await expect(a.done).rejects.toThrow('storage failed');
    await expect(b.done).rejects.toThrow();
    expect(jobs.get(a.job.id)).toMatchObject({ status: 'failed', error: { code: 'LOG_UNAVAILABLE', message: 'storage failed' } });
    expect(jobs.get(b.job.id)!.error).toEqual({ code: 'INTERNAL', message: 'the run failed; the server log has the details' });
  });

  it('keeps the 32 newest finished jobs, and every unfinished one', async () => {
    const { run, gates } = gatedRuns();
    const jobs = new RetentionJobs(run, silent);
    const waiting = jobs.start(true);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const s = jobs.start(true);
      ids.push(s.job.id);
      gates.at(-1)!.resolve(result(i));
      await s.done;
    }
    expect(ids.slice(0, 8).map((id) => jobs.get(id))).toEqual(Array(8).fill(undefined));
    expect(ids.slice(8).every((id) => jobs.get(id)?.status === 'done')).toBe(true);
    expect(jobs.get(waiting.job.id)?.status).toBe('running');
  });
});

describe('retention runs over HTTP', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    for (let i = 0; i < 5; i++) expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i, { retention: 'operational' }))).status).toBe(201);
    now += 31 * DAY;
  });
  afterAll(() => t.close());

  async function until(id: string): Promise<any> {
    for (;;) {
      const r = await get(`${t.url}/v1/retention/runs/${id}`, t.adminToken);
      expect(r.status).toBe(200);
      if (r.json.status !== 'running') return r.json;
      await new Promise((ok) => setTimeout(ok, 20));
    }
  }

  it('wait=false answers 202 with the job and its Location; the job ends with what a waited-for run answers', async () => {
    const waited = await post(`${t.url}/v1/retention/run`, t.adminToken, '');
    expect(waited.status).toBe(200);
    expect(waited.json).toMatchObject({ id: expect.stringMatching(/^ret_/), dry_run: true });
    const r = await fetch(`${t.url}/v1/retention/run?wait=false`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(r.status).toBe(202);
    const job = (await r.json()) as any;
    expect(r.headers.get('location')).toBe(`/v1/retention/runs/${job.id}`);
    expect(job).toMatchObject({ dry_run: true, status: 'running', requested_at: new Date(now).toISOString() });
    const done = await until(job.id);
    expect(done).toMatchObject({ status: 'done', finished_at: new Date(now).toISOString() });
    expect({ pii: done.pii, entries: done.entries }).toEqual({ pii: waited.json.pii, entries: waited.json.entries });
    expect(done.entries.pruned).toBeGreaterThanOrEqual(5);
    // The waited-for run is a job too.
    expect((await until(waited.json.id)).status).toBe('done');
  });

  it('applied with wait=false, the run prunes; unknown ids are 404, bad flags 400, other roles 403', async () => {
    const r = await fetch(`${t.url}/v1/retention/run?apply=true&wait=false`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(r.status).toBe(202);
    const done = await until(((await r.json()) as any).id);
    expect(done).toMatchObject({ dry_run: false, status: 'done', entries: { pruned: expect.any(Number) } });
    expect(done.entries.pruned).toBeGreaterThanOrEqual(5);
    expect((await get(`${t.url}/v1/retention/runs/ret_nope`, t.adminToken)).json.error.code).toBe('NOT_FOUND');
    const bad = await post(`${t.url}/v1/retention/run?wait=later`, t.adminToken, '');
    expect([bad.status, bad.json.error.code]).toEqual([400, 'INVALID_PARAMETER']);
    expect((await get(`${t.url}/v1/retention/runs/${done.id}`, t.auditorToken)).status).toBe(403);
  });
});
