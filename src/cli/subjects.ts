/** `agent-tlog subjects …` and `agent-tlog retention run`: personal data through the server's API. */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { addApiOptions, call, print, type ApiOpts } from './api-client.js';

/** Privacy-role commands: no fallback to admin.token (an admin key gets 403 on these routes). */
const PRIVACY = 'privacy';

function subjectPath(id: string, suffix = ''): string {
  return `/v1/subjects/${encodeURIComponent(id)}${suffix}`;
}

function withTenant(path: string, tenant: string | undefined, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...params, tenant })) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

type SubjectOpts = ApiOpts & { tenant?: string };
const asPrivacy = <T extends ApiOpts>(o: T): T => ({ ...o, role: PRIVACY });

export function registerSubjects(program: Command): void {
  const subjects = program.command('subjects').description("A data subject's personal data: access, erasure, legal hold (privacy token)");
  addApiOptions(subjects.command('show').argument('<subject>', 'subject id').description('Subject access; the read is logged'), PRIVACY)
    .requiredOption('--purpose <text>', 'why the data is read (logged)')
    .option('--tenant <tenant>', 'tenant, for a cross-tenant key')
    .action(async (id: string, o: SubjectOpts & { purpose: string }) => {
      print(await call(asPrivacy(o), 'GET', withTenant(subjectPath(id), o.tenant, { purpose: o.purpose })));
    });
  addApiOptions(subjects.command('erase').argument('<subject>', 'subject id').description('Erase; prints the erasure receipt'), PRIVACY)
    .requiredOption('--reason <text>', 'ticket or reason (logged; no personal data)')
    .option('--tenant <tenant>', 'tenant, for a cross-tenant key')
    .action(async (id: string, o: SubjectOpts & { reason: string }) => {
      print(await call(asPrivacy(o), 'DELETE', withTenant(subjectPath(id), o.tenant, { reason: o.reason })));
    });
  addApiOptions(subjects.command('hold').argument('<subject>', 'subject id').description('Set (or with --lift, lift) a legal hold'), PRIVACY)
    .option('--reason <text>', 'why (logged)')
    .option('--lift', 'lift the hold instead of setting it')
    .option('--tenant <tenant>', 'tenant, for a cross-tenant key')
    .action(async (id: string, o: SubjectOpts & { reason?: string; lift?: boolean }) => {
      if (o.lift) print(await call(asPrivacy(o), 'DELETE', withTenant(subjectPath(id, '/hold'), o.tenant, { reason: o.reason })));
      else print(await call(asPrivacy(o), 'POST', withTenant(subjectPath(id, '/hold'), o.tenant), o.reason ? { reason: o.reason } : {}));
    });

  const retention = program.command('retention').description('Retention of personal data');
  addApiOptions(retention.command('run').description('Run the retention sweep (a dry run unless --apply); admin token'))
    .option('--apply', 'erase for real (default: print what would be erased: subjects by pseudonym, entry ranges)')
    .option('--no-wait', 'print the started run at once (read it later with `retention status <id>`)')
    .action(async (o: ApiOpts & { apply?: boolean; wait: boolean }) => {
      // Started as a job and polled, so a run of many minutes outlives no request (api.md §9).
      let job = (await call(o, 'POST', `/v1/retention/run?wait=false${o.apply ? '&apply=true' : ''}`)) as RetentionJob;
      if (!o.wait) {
        print(job);
        return;
      }
      // The id first, so that whatever happens to this command, the run can still be looked up.
      process.stderr.write(`agent-tlog: retention run ${job.id} started; waiting for it (agent-tlog retention status ${job.id})\n`);
      let unreachableSince: number | undefined;
      for (let delay = 50; job.status === 'running'; delay = Math.min(1000, delay * 2)) {
        await sleep(delay);
        try {
          job = (await call(o, 'GET', `/v1/retention/runs/${encodeURIComponent(job.id)}`)) as RetentionJob;
          unreachableSince = undefined;
        } catch (e) {
          const m = e instanceof Error ? e.message : String(e);
          if (m.startsWith('404 '))
            throw new Error(`retention run ${job.id} is gone: the server restarted (a stop ends a run early; what it did stands). Run it again.`);
          // A server restarting, or a network blip: keep asking for a minute.
          if (!m.startsWith("couldn't reach")) throw e;
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince > 60_000) throw e;
        }
      }
      print(job);
      if (job.status === 'failed') process.exitCode = 1;
    });
  addApiOptions(retention.command('status').argument('<id>', 'a run id (`retention run` prints it)').description('How a retention run stands, and its outcome (exit 1 if it failed); admin token'))
    .action(async (id: string, o: ApiOpts) => {
      const job = (await call(o, 'GET', `/v1/retention/runs/${encodeURIComponent(id)}`)) as RetentionJob;
      print(job);
      if (job.status === 'failed') process.exitCode = 1;
    });
}

interface RetentionJob {
  id: string;
  status: 'running' | 'done' | 'failed';
}
