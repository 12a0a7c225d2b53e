/**
 * The summary report over one tenant's events logged in [from, to]: one
 * streaming pass over the time range (search.ts), with bounded tallies.
 *
 * Definitions (spec/api.md, `GET /v1/reports/summary`):
 * - denial ratio: DENY decisions / events with a policy decision;
 * - approval latency: approvals.ts, nearest-rank p50 and p95;
 * - off-hours: event time (`ts`, else logged_at) outside Monday–Friday
 *   08:00–18:00 UTC;
 * - repeated commands: identical `command.text` seen at least twice.
 */

import type { LogRecord } from '../events/index.js';
import type { LogStore } from '../storage/store.js';
import { approvalOf, eventTime, noteRequest, type RequestTimes } from './approvals.js';
import { search } from './search.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Distinct keys a tally keeps at most (memory bound); `truncated` says when one overflowed. */
export const MAX_TALLY = 100_000;
const TOP = 10;
const TOP_GROUPS = 25;
const COMMAND_CHARS = 200;

export interface SummaryReport {
  tenant: string;
  from: number | null;
  to: number | null;
  tree_size: number;
  total_events: number;
  by_actor: { actor: string; events: number }[];
  by_action: { action: string; events: number }[];
  by_decision: { ALLOW: number; DENY: number; REQUIRE_APPROVAL: number; none: number };
  denial_ratio: number | null;
  approval_latency_ms: { count: number; p50: number | null; p95: number | null };
  riskiest_runs: { run_id: string; max_risk: number; events: number }[];
  top_rules: { rule: string; count: number }[];
  off_hours: { events: number; ratio: number | null; window: string };
  repeated_commands: { command: string; count: number }[];
  truncated: boolean;
}

class Tally {
  readonly counts = new Map<string, number>();
  truncated = false;
  add(k: string): void {
    const n = this.counts.get(k);
    if (n !== undefined) this.counts.set(k, n + 1);
    else if (this.counts.size < MAX_TALLY) this.counts.set(k, 1);
    else this.truncated = true;
  }
  top(n: number, min = 1): [string, number][] {
    return [...this.counts].filter(([, c]) => c >= min).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
  }
}

export function isOffHours(t: number): boolean {
  const d = new Date(t);
  const day = d.getUTCDay();
  const h = d.getUTCHours();
  return day === 0 || day === 6 || h < 8 || h >= 18;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function summaryReport(store: LogStore, tenant: string, range: { from?: number; to?: number }, treeSize: number): Promise<SummaryReport> {
  const actors = new Tally();
  const actions = new Tally();
  const rules = new Tally();
  const commands = new Tally();
  const decisions = { ALLOW: 0, DENY: 0, REQUIRE_APPROVAL: 0, none: 0 };
  const runs = new Map<string, { max: number; events: number }>();
  let runsTruncated = false;
  const requests: RequestTimes = new Map();
  const latencies: number[] = [];
  const withApproval: { index: number; record: LogRecord }[] = [];
  let total = 0;
  let offHours = 0;
  const filter = { ...(range.from !== undefined ? { from: range.from } : {}), ...(range.to !== undefined ? { to: range.to } : {}) };
  for await (const h of search(store, tenant, filter, { order: 'asc', treeSize })) {
    const e = h.record.event as unknown as Obj;
    total++;
    const actor = str(obj(e.actor)?.id);
    if (actor !== undefined) actors.add(actor);
    const action = str(obj(e.action)?.type);
    if (action !== undefined) actions.add(action);
    const policy = obj(e.policy);
    const d = str(policy?.decision);
    if (d === 'ALLOW' || d === 'DENY' || d === 'REQUIRE_APPROVAL') decisions[d]++;
    else decisions.none++;
    const rule = str(policy?.matched_rule);
    if (rule !== undefined) rules.add(rule);
    const cmd = str(obj(e.command)?.text);
    if (cmd !== undefined) commands.add(cmd);
    if (isOffHours(eventTime(h.record))) offHours++;
    const run = str(e.run_id);
    const score = obj(e.risk)?.score;
    if (run !== undefined) {
      const r = runs.get(run);
      if (r) {
        r.events++;
        if (typeof score === 'number' && score > r.max) r.max = score;
      } else if (runs.size < MAX_TALLY) runs.set(run, { max: typeof score === 'number' ? score : -1, events: 1 });
      else runsTruncated = true;
    }
    // Requests are kept only while the window is open, and only for events that asked.
    if (requests.size < MAX_TALLY) noteRequest(requests, h.record);
    // Decisions are measured after the scan: a decision's index may precede its
    // request's (a batch's indexes need not follow request order, spec/api.md).
    if (obj(e.approval) && withApproval.length < 10 * MAX_TALLY) withApproval.push({ index: h.index, record: h.record });
  }
  for (const d of withApproval) {
    const a = approvalOf(d.index, d.record, requests);
    if (a?.latency_ms != null) latencies.push(a.latency_ms);
  }
  latencies.sort((a, b) => a - b);
  const decided = decisions.ALLOW + decisions.DENY + decisions.REQUIRE_APPROVAL;
  return {
    tenant,
    from: range.from ?? null,
    to: range.to ?? null,
    tree_size: treeSize,
    total_events: total,
    by_actor: actors.top(TOP_GROUPS).map(([actor, events]) => ({ actor, events })),
    by_action: actions.top(TOP_GROUPS).map(([action, events]) => ({ action, events })),
    by_decision: decisions,
    denial_ratio: decided === 0 ? null : decisions.DENY / decided,
    approval_latency_ms: { count: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    riskiest_runs: [...runs]
      .filter(([, r]) => r.max >= 0)
      .sort((a, b) => b[1].max - a[1].max || b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP)
      .map(([run_id, r]) => ({ run_id, max_risk: r.max, events: r.events })),
    top_rules: rules.top(TOP).map(([rule, count]) => ({ rule, count })),
    off_hours: { events: offHours, ratio: total === 0 ? null : offHours / total, window: 'outside Monday–Friday 08:00–18:00 UTC' },
    repeated_commands: commands.top(TOP, 2).map(([command, count]) => ({ command: command.length > COMMAND_CHARS ? `${command.slice(0, COMMAND_CHARS)}…` : command, count })),
    truncated: actors.truncated || actions.truncated || rules.truncated || commands.truncated || runsTruncated || requests.size >= MAX_TALLY,
  };
}
