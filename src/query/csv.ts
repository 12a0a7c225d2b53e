/**
 * The CSV export format: one header row, then one row per entry, with the
 * stable column set below (new columns are only ever appended at the end).
 *
 * - RFC 4180: CRLF line ends; a cell holding `,`, `"`, CR or LF is quoted,
 *   with `"` doubled.
 * - Formula injection: a text cell starting with `=`, `+`, `-`, `@`, tab or
 *   CR gets a leading `'`, so spreadsheets show it as text instead of
 *   evaluating it. Number cells are written as numbers and never escaped.
 * - Objects and arrays (data_accessed, metadata, a vault pointer in place of
 *   a value, …) are written as their JSON text. A reference can sit in any
 *   column a configured personal-data path names, and in `pii`; the route
 *   hands csvRow the record with erased references already marked
 *   (`"erased":true,"erased_at"`), so a cell reads like the NDJSON.
 */

import type { LogRecord } from '../events/index.js';

type Obj = Record<string, unknown>;

/** Column name → path into the record (`event.` fields, or the record's own). */
export const CSV_COLUMNS: readonly (readonly [string, string])[] = [
  ['index', '@index'],
  ['leaf_hash', '@leaf_hash'],
  ['tenant', 'tenant'],
  ['logged_at', 'logged_at'],
  ['event_id', 'event.event_id'],
  ['ts', 'event.ts'],
  ['run_id', 'event.run_id'],
  ['session_id', 'event.session_id'],
  ['parent_event_id', 'event.parent_event_id'],
  ['trace_id', 'event.trace_id'],
  ['actor_type', 'event.actor.type'],
  ['actor_id', 'event.actor.id'],
  ['actor_version', 'event.actor.version'],
  ['actor_on_behalf_of', 'event.actor.on_behalf_of'],
  ['action_type', 'event.action.type'],
  ['action_name', 'event.action.name'],
  ['action_tool', 'event.action.tool'],
  ['target_system', 'event.target.system'],
  ['target_resource', 'event.target.resource'],
  ['target_environment', 'event.target.environment'],
  ['data_accessed', 'event.data_accessed'],
  ['reasoning_summary', 'event.reasoning.summary'],
  ['reasoning_model', 'event.reasoning.model'],
  ['reasoning_confidence', 'event.reasoning.confidence'],
  ['policy_decision', 'event.policy.decision'],
  ['policy_matched_rule', 'event.policy.matched_rule'],
  ['policy_snapshot', 'event.policy.policy_snapshot'],
  ['approval_required', 'event.approval.required'],
  ['approval_status', 'event.approval.status'],
  ['approval_approver', 'event.approval.approver'],
  ['approval_approved_at', 'event.approval.approved_at'],
  ['approval_note', 'event.approval.note'],
  ['dispatch_executor', 'event.dispatch.executor'],
  ['dispatch_dispatched_at', 'event.dispatch.dispatched_at'],
  ['risk_score', 'event.risk.score'],
  ['risk_factors', 'event.risk.factors'],
  ['command_text', 'event.command.text'],
  ['command_shell', 'event.command.shell'],
  ['command_cwd', 'event.command.cwd'],
  ['change_previous_value', 'event.change.previous_value'],
  ['change_proposed_value', 'event.change.proposed_value'],
  ['result_status', 'event.result.status'],
  ['result_detail', 'event.result.detail'],
  ['result_exit_code', 'event.result.exit_code'],
  ['result_duration_ms', 'event.result.duration_ms'],
  ['metadata', 'event.metadata'],
  ['pii', 'event.pii'],
  ['retention', 'event.retention'],
];

const PATHS = CSV_COLUMNS.map(([, p]) => (p.startsWith('@') ? p : p.split('.')));

/** Escapes a text cell against formula injection, then quotes it if needed. */
export function csvText(s: string): string {
  const c = s.length > 0 && '=+-@\t\r'.includes(s[0]!) ? `'${s}` : s;
  return /[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c;
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return csvText(v);
  return csvText(JSON.stringify(v));
}

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name).join(',') + '\r\n';

export function csvRow(index: number, leafHash: string, record: LogRecord): string {
  const out: string[] = [];
  for (const p of PATHS) {
    if (p === '@index') out.push(String(index));
    else if (p === '@leaf_hash') out.push(csvText(leafHash));
    else {
      let v: unknown = record;
      for (const k of p as string[]) {
        v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj)[k] : undefined;
        if (v === undefined) break;
      }
      out.push(cell(v));
    }
  }
  return out.join(',') + '\r\n';
}
