/**
 * Run timelines and run listings, built from the `run_id` posting lists.
 *
 * A run is every event of one tenant with the same `run_id`. Its status:
 * `failed` if any result is failure or error; else `denied` if any policy
 * decision is DENY, any result is blocked or any approval was denied; else
 * `pending` if its last event's result or approval is pending; else `ok`.
 */

import type { LogRecord } from '../events/index.js';
import type { LogStore } from '../storage/store.js';
import { approvalOf, noteRequest, type ApprovalInfo, type RequestTimes } from './approvals.js';
import { LIST, listPrefix, tenantPrefix } from './keys.js';
import { search } from './search.js';

/** Events read for one run at most; a longer run's timeline says `truncated`. */
export const MAX_RUN_EVENTS = 10_000;

export const RUN_STATUSES = ['ok', 'failed', 'denied', 'pending'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface RunHit {
  index: number;
  leaf: Uint8Array;
  record: LogRecord;
}

export interface RunSummary {
  run_id: string;
  events: number;
  truncated: boolean;
  /** logged_at of the first and last event, Unix ms. */
  start: number;
  end: number;
  duration_ms: number;
  status: RunStatus;
  actors: string[];
  decisions: Record<string, number>;
  results: Record<string, number>;
  highest_risk: { score: number; index: number; event_id: string } | null;
  approvals: ApprovalInfo[];
}

export async function readRun(store: LogStore, tenant: string, runId: string, treeSize: number): Promise<{ hits: RunHit[]; truncated: boolean }> {
  const hits: RunHit[] = [];
  const gen = search(store, tenant, { run_id: runId }, { order: 'asc', treeSize, limit: MAX_RUN_EVENTS });
  let n = await gen.next();
  for (; !n.done; n = await gen.next()) hits.push(n.value);
  return { hits, truncated: n.value.resumeAfter !== undefined };
}

/** Whether the tenant has logged at least one event of this run (one index probe). */
export async function runExists(store: LogStore, tenant: string, runId: string, treeSize: number): Promise<boolean> {
  const gen = search(store, tenant, { run_id: runId }, { order: 'asc', treeSize, limit: 1 });
  const n = await gen.next();
  await gen.return(undefined as never);
  return !n.done;
}

export function summarizeRun(runId: string, hits: readonly RunHit[], truncated: boolean): RunSummary {
  const decisions: Record<string, number> = {};
  const results: Record<string, number> = {};
  const actors = new Set<string>();
  let highest: RunSummary['highest_risk'] = null;
  let failed = false;
  let denied = false;
  const requests: RequestTimes = new Map();
  const parents = new Map<string, string | undefined>();
  const approvals: ApprovalInfo[] = [];
  for (const h of hits) {
    const e = h.record.event as unknown as Obj;
    const actor = str(obj(e.actor)?.id);
    if (actor !== undefined) actors.add(actor);
    const decision = str(obj(e.policy)?.decision);
    if (decision !== undefined) decisions[decision] = (decisions[decision] ?? 0) + 1;
    const result = str(obj(e.result)?.status);
    if (result !== undefined) results[result] = (results[result] ?? 0) + 1;
    const score = obj(e.risk)?.score;
    if (typeof score === 'number' && (highest === null || score > highest.score)) highest = { score, index: h.index, event_id: h.record.event.event_id };
    if (result === 'failure' || result === 'error') failed = true;
    if (decision === 'DENY' || result === 'blocked' || obj(e.approval)?.status === 'denied') denied = true;
    parents.set(h.record.event.event_id, str(e.parent_event_id));
    noteRequest(requests, h.record);
  }
  for (const h of hits) {
    const a = approvalOf(h.index, h.record, requests, parents);
    if (a) approvals.push(a);
  }
  const last = hits[hits.length - 1]?.record.event as unknown as Obj | undefined;
  const pending = last !== undefined && (obj(last.result)?.status === 'pending' || obj(last.approval)?.status === 'pending');
  const start = hits[0]?.record.logged_at ?? 0;
  const end = hits[hits.length - 1]?.record.logged_at ?? 0;
  return {
    run_id: runId,
    events: hits.length,
    truncated,
    start,
    end,
    duration_ms: end - start,
    status: failed ? 'failed' : denied ? 'denied' : pending ? 'pending' : 'ok',
    actors: [...actors].sort(),
    decisions,
    results,
    highest_risk: highest,
    approvals,
  };
}

export interface TreeNode {
  index: number;
  event_id: string;
  /** Index of the parent event in this run, or null for a root. */
  parent: number | null;
  depth: number;
  children: number[];
}

/**
 * The causal tree from `parent_event_id`, as a flat list in log order (no
 * nesting, so a 10,000-step chain is no deeper in JSON than a 1-step one).
 * A parent outside the run makes a root; so does a cycle's first member.
 */
export function causalTree(hits: readonly RunHit[]): { roots: number[]; nodes: TreeNode[] } {
  const byId = new Map<string, TreeNode>();
  const nodes: TreeNode[] = hits.map((h) => ({ index: h.index, event_id: h.record.event.event_id, parent: null, depth: 0, children: [] }));
  nodes.forEach((n) => {
    if (!byId.has(n.event_id)) byId.set(n.event_id, n);
  });
  hits.forEach((h, i) => {
    const p = str((h.record.event as unknown as Obj).parent_event_id);
    const parent = p === undefined ? undefined : byId.get(p);
    if (parent && parent !== nodes[i]) nodes[i]!.parent = parent.index;
  });
  // Break cycles: walk up from each node; a walk that returns to a visited node on its own path cuts there.
  const byIndex = new Map(nodes.map((n) => [n.index, n]));
  for (const n of nodes) {
    const path = new Set<number>([n.index]);
    for (let p = n.parent; p !== null; p = byIndex.get(p)!.parent) {
      if (path.has(p)) {
        byIndex.get(p)!.parent = null;
        break;
      }
      path.add(p);
    }
  }
  for (const n of nodes) if (n.parent !== null) byIndex.get(n.parent)!.children.push(n.index);
  // Depths top-down, iteratively.
  const roots = nodes.filter((n) => n.parent === null).map((n) => n.index);
  const stack = roots.map((r) => byIndex.get(r)!);
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const c of n.children) {
      const child = byIndex.get(c)!;
      child.depth = n.depth + 1;
      stack.push(child);
    }
  }
  return { roots, nodes };
}

export interface RunListFilter {
  from?: number;
  to?: number;
  actor?: string;
  status?: RunStatus;
}

/**
 * Runs of the tenant in run_id order, from after `afterRunId`, that pass the
 * filter. Examines at most `budget` runs; `resumeAfter` is the last run
 * examined when more may follow.
 */
export async function listRuns(
  store: LogStore,
  tenant: string,
  f: RunListFilter,
  o: { treeSize: number; limit: number; budget: number; afterRunId?: string },
): Promise<{ runs: RunSummary[]; resumeAfter: string | undefined }> {
  const prefix = listPrefix(tenantPrefix(tenant), LIST.run);
  const end = new Uint8Array([...prefix.subarray(0, prefix.length - 1), prefix[prefix.length - 1]! + 1]);
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { ignoreBOM: true });
  const start = o.afterRunId === undefined ? prefix : new Uint8Array([...prefix, ...enc.encode(o.afterRunId), 1]);
  const it = store.db.keys({ gte: start, lt: end });
  const runs: RunSummary[] = [];
  let examined = 0;
  let last: string | undefined;
  try {
    for (;;) {
      const k = await it.next();
      if (k === undefined) return { runs, resumeAfter: undefined };
      const value = k.subarray(prefix.length, k.length - 9);
      // Skip the rest of this run's keys: they all sort below value ‖ 0x01.
      it.seek(new Uint8Array([...prefix, ...value, 1]));
      const runId = dec.decode(value);
      last = runId;
      examined++;
      const { hits, truncated } = await readRun(store, tenant, runId, o.treeSize);
      if (hits.length > 0) {
        const s = summarizeRun(runId, hits, truncated);
        const actorOk = f.actor === undefined || hits.some((h) => str(obj(h.record.event.actor)?.id) === f.actor);
        const timeOk = (f.from === undefined || s.end >= f.from) && (f.to === undefined || s.start <= f.to);
        if (actorOk && timeOk && (f.status === undefined || s.status === f.status)) runs.push(s);
      }
      if (runs.length >= o.limit || examined >= o.budget) {
        const more = (await it.next()) !== undefined;
        return { runs, resumeAfter: more ? last : undefined };
      }
    }
  } finally {
    await it.close();
  }
}
