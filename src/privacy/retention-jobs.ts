/**
 * Retention runs asked for over HTTP, as jobs: `POST /v1/retention/run?wait=false` answers at
 * once with a job, `GET /v1/retention/runs/<id>` shows how it stands. On a large log a run takes
 * minutes, longer than a proxy or a client keeps a silent request open; the run never depended on
 * the request (it goes on when the client leaves), and now its outcome can still be read.
 *
 * Jobs live in memory: a restart forgets them (an applied run's erasures are logged events, and
 * its prunes show as 410 entries, so nothing it did is lost with the job). Runs still go one at a
 * time (PrivacyService.retention queues them); a job waiting behind another is `running`.
 */

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { TlogError } from '../errors.js';
import type { PruneReport } from '../retention/prune.js';
import type { SweepReport } from './service.js';

export type RetentionResult = { pii: SweepReport; entries?: PruneReport };

export interface RetentionJob {
  readonly id: string;
  readonly dry_run: boolean;
  status: 'running' | 'done' | 'failed';
  readonly requested_at: string;
  finished_at?: string;
  pii?: SweepReport;
  entries?: PruneReport;
  /** A failed run's error: its stable code and message (INTERNAL's generic one for a bug). */
  error?: { code: string; message: string };
}

/** Unfinished jobs at most: each queues a whole run behind the others. */
export const MAX_UNFINISHED = 4;
/** Finished jobs kept for reading, newest last; older ones are forgotten. */
const KEEP_FINISHED = 32;

export class RetentionJobs {
  private readonly jobs = new Map<string, RetentionJob>();

  constructor(
    private readonly run: (dryRun: boolean) => Promise<RetentionResult>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** Scrubs a kept error message, as error answers are (errors.ts): it is shown later, to whoever reads the job. */
    private readonly clean: (s: string) => string = (s) => s,
  ) {}

  /**
   * Starts a run; `done` settles with its result (or its error) once it finished.
   * @throws TlogError OVERLOADED when MAX_UNFINISHED runs are already waiting or running.
   */
  start(dryRun: boolean): { job: RetentionJob; done: Promise<RetentionResult> } {
    const unfinished = [...this.jobs.values()].filter((j) => j.status === 'running').map((j) => j.id);
    if (unfinished.length >= MAX_UNFINISHED)
      throw new TlogError('OVERLOADED', `${unfinished.length} retention runs are already waiting or running (error.running); read them at /v1/retention/runs/<id>`, {
        retryAfter: 60,
        details: { running: unfinished },
      });
    const job: RetentionJob = { id: `ret_${randomBytes(12).toString('base64url')}`, dry_run: dryRun, status: 'running', requested_at: this.iso() };
    this.jobs.set(job.id, job);
    const done = this.run(dryRun).then(
      (r) => {
        job.status = 'done';
        job.finished_at = this.iso();
        job.pii = r.pii;
        if (r.entries) job.entries = r.entries;
        this.trim();
        return r;
      },
      (e: unknown) => {
        job.status = 'failed';
        job.finished_at = this.iso();
        // Only a TlogError's words are ours to show; anything else is a bug, told in the server log.
        job.error = e instanceof TlogError ? { code: e.code, message: this.clean(e.message) } : { code: 'INTERNAL', message: 'the run failed; the server log has the details' };
        this.logger.error({ err: e, job: job.id }, 'retention run failed');
        this.trim();
        throw e;
      },
    );
    // A job nobody waits on (wait=false) must not end as an unhandled rejection.
    done.catch(() => undefined);
    return { job, done };
  }

  get(id: string): RetentionJob | undefined {
    return this.jobs.get(id);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Forgets the oldest finished jobs past KEEP_FINISHED (a Map iterates in insertion order). */
  private trim(): void {
    let finished = 0;
    for (const j of this.jobs.values()) if (j.status !== 'running') finished++;
    for (const [id, j] of this.jobs) {
      if (finished <= KEEP_FINISHED) break;
      if (j.status === 'running') continue;
      this.jobs.delete(id);
      finished--;
    }
  }
}
