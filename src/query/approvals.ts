/**
 * Approval latency, one definition for run timelines and reports.
 *
 * An event whose approval was decided (`approval.status` approved or
 * denied) with an `approval.approved_at` time has a latency: from the
 * request to that time. The request is the nearest ancestor (following
 * `parent_event_id`) that asked for approval — `approval.status` pending or
 * `policy.decision` REQUIRE_APPROVAL — at its `ts` (else its logged_at); with
 * no such ancestor, the event's own `ts` (else logged_at).
 */

import type { LogRecord } from '../events/index.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** When the event happened: its `ts` if it parses, else when it was logged. */
export function eventTime(r: LogRecord): number {
  const ts = str(r.event.ts);
  const t = ts === undefined ? NaN : Date.parse(ts);
  return Number.isFinite(t) ? t : r.logged_at;
}

export function asksApproval(r: LogRecord): boolean {
  const e = r.event as unknown as Obj;
  return obj(e.approval)?.status === 'pending' || obj(e.policy)?.decision === 'REQUIRE_APPROVAL';
}

export interface ApprovalInfo {
  index: number;
  event_id: string;
  status: string | null;
  approver: string | null;
  requested_at: number;
  decided_at: number | null;
  latency_ms: number | null;
}

/** Requests seen so far, by event_id (only events that asked for approval). */
export type RequestTimes = Map<string, { time: number; parent: string | undefined }>;

export function noteRequest(requests: RequestTimes, r: LogRecord): void {
  if (asksApproval(r)) requests.set(r.event.event_id, { time: eventTime(r), parent: str(r.event.parent_event_id) });
}

/**
 * Approval facts of one event, or undefined if it carries none. `parents`
 * maps event_id → parent_event_id for ancestors that did not ask (a run's
 * timeline knows them all; a report only follows requests).
 */
export function approvalOf(index: number, r: LogRecord, requests: RequestTimes, parents?: Map<string, string | undefined>): ApprovalInfo | undefined {
  const a = obj((r.event as unknown as Obj).approval);
  if (!a) return undefined;
  const status = str(a.status) ?? null;
  const at = str(a.approved_at);
  const decidedAt = at === undefined ? NaN : Date.parse(at);
  let requestedAt = eventTime(r);
  const seen = new Set<string>([r.event.event_id]);
  for (let p = str(r.event.parent_event_id); p !== undefined && !seen.has(p); ) {
    seen.add(p);
    const req = requests.get(p);
    if (req) {
      requestedAt = req.time;
      break;
    }
    p = parents?.get(p);
  }
  const decided = (status === 'approved' || status === 'denied') && Number.isFinite(decidedAt);
  const latency = decided ? decidedAt - requestedAt : NaN;
  return {
    index,
    event_id: r.event.event_id,
    status,
    approver: str(a.approver) ?? null,
    requested_at: requestedAt,
    decided_at: Number.isFinite(decidedAt) ? decidedAt : null,
    latency_ms: Number.isFinite(latency) && latency >= 0 ? latency : null,
  };
}
