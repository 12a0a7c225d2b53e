/**
 * The audit event schema (zod 4). One strict object per concept an agent
 * audit trail needs: who acted (actor), what they did (action, command,
 * change), to what (target, data_accessed), why (reasoning), under which
 * rules (policy, approval, risk), how it went (dispatch, result), plus free
 * metadata and the reserved pii/retention fields.
 *
 * Only actor.type, actor.id and action.type are required. Every object is
 * strict: an unknown key at any level is a violation with its path (unknown
 * top-level fields get their own error code, see validate.ts).
 *
 * This module only declares the shape; parseEvent() runs the structural
 * walk before it, so schemas here may assume shallow, finite, plain JSON.
 * Messages set here describe rules and never include the input value.
 */
import { z } from 'zod';
import { isPlainObject, type JsonObject, type JsonValue } from './json.js';
import { EVENT_LIMITS as L } from './limits.js';
import { printable, text, timestamp } from './strings.js';
import { PII_NAME } from './path.js';

/** Length of a value's JSON text, the measure for free-form JSON fields. */
export function jsonTextLength(v: unknown): number {
  return JSON.stringify(v)?.length ?? 0;
}

const freeJsonSize = {
  message: `must be at most ${L.freeJson} characters of JSON text`,
};

/** Any JSON value (already checked by the walk), bounded in size; present. */
const freeJson = z
  .custom<JsonValue>((v) => v !== undefined, { message: 'is required' })
  .refine((v) => jsonTextLength(v) <= L.freeJson, freeJsonSize);

const freeJsonObject = z
  .custom<JsonObject>((v) => isPlainObject(v), { message: 'must be a JSON object' })
  .refine((v) => jsonTextLength(v) <= L.freeJson, freeJsonSize);

const id = printable(L.id);
const label = printable(L.label);

const actor = z.strictObject({
  type: z.enum(['agent', 'human', 'system']),
  id,
  version: label.optional(),
  on_behalf_of: id.optional(),
});

const action = z.strictObject({
  type: label,
  name: label.optional(),
  tool: label.optional(),
});

const target = z.strictObject({
  system: label.optional(),
  resource: printable(L.resource).optional(),
  environment: label.optional(),
});

const dataAccessedItem = z.union([
  printable(L.resource),
  z
    .strictObject({
      type: label.optional(),
      id: id.optional(),
      fields: z.array(label).max(L.dataFields).optional(),
      classification: label.optional(),
    })
    .refine((o) => Object.keys(o).length > 0, { message: 'must name at least one of type, id, fields, classification' }),
]);

const reasoning = z.strictObject({
  summary: text(L.text).optional(),
  model: label.optional(),
  confidence: z.number().min(0).max(1).optional(),
});

const policy = z.strictObject({
  decision: z.enum(['ALLOW', 'DENY', 'REQUIRE_APPROVAL']),
  matched_rule: printable(L.rule).optional(),
  policy_snapshot: text(L.policySnapshot, 1).optional(),
});

const approval = z.strictObject({
  required: z.boolean().optional(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'not_required']).optional(),
  approver: id.optional(),
  approved_at: timestamp().optional(),
  note: text(L.note).optional(),
});

const dispatch = z.strictObject({
  executor: id.optional(),
  dispatched_at: timestamp().optional(),
});

const risk = z.strictObject({
  score: z.number().min(0).max(100),
  factors: z.array(printable(L.rule)).max(L.riskFactors).optional(),
});

const command = z.strictObject({
  text: text(L.command, 1),
  shell: label.optional(),
  cwd: printable(L.resource).optional(),
});

const change = z.strictObject({
  previous_value: freeJson.optional(),
  proposed_value: freeJson.optional(),
});

const result = z.strictObject({
  status: z.enum(['success', 'failure', 'error', 'blocked', 'pending']),
  detail: text(L.text).optional(),
  // int() also bounds to the safe integer range.
  exit_code: z.number().int().optional(),
  duration_ms: z.number().min(0).optional(),
});

const piiName = z.string().refine((s) => PII_NAME.test(s), {
  message: `pii names must be 1-${L.piiName} characters: a letter, then letters, digits, "_", "." or "-"`,
});
const piiEntry = z.strictObject({ subject: id, value: freeJson });
const pii = z
  .record(piiName, piiEntry)
  .refine((o) => Object.keys(o).length <= L.piiEntries, { message: `must have at most ${L.piiEntries} entries` });

/** Standard base64 of exactly `n` bytes (padding included), no whitespace. */
const base64Bytes = (n: number, what: string) =>
  z.string().refine((v) => v.length === 4 * Math.ceil(n / 3) && /^[A-Za-z0-9+/]+={0,2}$/.test(v) && base64Length(v) === n, {
    message: `must be ${what} (${n} bytes) in standard base64`,
  });

function base64Length(v: string): number {
  const pad = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  return (v.length / 4) * 3 - pad;
}

/**
 * An agent's detached Ed25519 signature over the rest of the event
 * (agent-signature.ts, spec/events.md §1.6). Stored as sent.
 */
const agentSignature = z.strictObject({
  alg: z.literal('ed25519'),
  public_key: base64Bytes(32, 'an Ed25519 public key'),
  signature: base64Bytes(64, 'an Ed25519 signature'),
});

/**
 * The event schema. `event_id` is any RFC 9562 UUID and is stored in
 * lowercase; parseEvent assigns a UUIDv7 when it is absent.
 */
export const EventSchema = z.strictObject({
  event_id: z
    .uuid()
    .transform((s) => s.toLowerCase())
    .optional(),
  ts: timestamp().optional(),
  run_id: id.optional(),
  session_id: id.optional(),
  parent_event_id: id.optional(),
  trace_id: id.optional(),
  actor,
  action,
  target: target.optional(),
  data_accessed: z.array(dataAccessedItem).max(L.dataAccessed).optional(),
  reasoning: reasoning.optional(),
  policy: policy.optional(),
  approval: approval.optional(),
  dispatch: dispatch.optional(),
  risk: risk.optional(),
  command: command.optional(),
  change: change.optional(),
  result: result.optional(),
  metadata: freeJsonObject.optional(),
  pii: pii.optional(),
  retention: z.enum(['operational', 'compliance']).optional(),
  agent_signature: agentSignature.optional(),
});

/** The top-level field names the schema knows, for the UNKNOWN_FIELDS check. */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(Object.keys(EventSchema.shape));

// ---------------------------------------------------------------------------
// Named types, so other modules read interfaces rather than zod inference.
// The assertion at the end keeps them identical to the schema.

/** Who acted. `on_behalf_of` names the principal an agent acted for. */
export interface Actor {
  type: 'agent' | 'human' | 'system';
  id: string;
  version?: string;
  on_behalf_of?: string;
}
/** What was done: a category (`type`), an optional name and the tool used. */
export interface Action {
  type: string;
  name?: string;
  tool?: string;
}
/** What the action was aimed at. */
export interface Target {
  system?: string;
  resource?: string;
  environment?: string;
}
/** One piece of data the action read: a reference string or a description. */
export type DataAccessed =
  | string
  | { type?: string; id?: string; fields?: string[]; classification?: string };
/** Why the agent acted. `confidence` is in [0, 1]. */
export interface Reasoning {
  summary?: string;
  model?: string;
  confidence?: number;
}
/** The policy engine's verdict. */
export interface Policy {
  decision: 'ALLOW' | 'DENY' | 'REQUIRE_APPROVAL';
  matched_rule?: string;
  policy_snapshot?: string;
}
/** Human-in-the-loop approval state. */
export interface Approval {
  required?: boolean;
  status?: 'pending' | 'approved' | 'denied' | 'expired' | 'not_required';
  approver?: string;
  approved_at?: string;
  note?: string;
}
/** Who carried the action out, and when. */
export interface Dispatch {
  executor?: string;
  dispatched_at?: string;
}
/** Risk assessment: a score in [0, 100] and the factors behind it. */
export interface Risk {
  score: number;
  factors?: string[];
}
/** A shell command the action ran or proposed. */
export interface Command {
  text: string;
  shell?: string;
  cwd?: string;
}
/** A data change: the value before and the value proposed. */
export interface Change {
  previous_value?: JsonValue;
  proposed_value?: JsonValue;
}
/** Outcome of the action. */
export interface Result {
  status: 'success' | 'failure' | 'error' | 'blocked' | 'pending';
  detail?: string;
  exit_code?: number;
  duration_ms?: number;
}
/** Personal data for the vault: name → the data subject and the value. */
export interface PiiEntry {
  subject: string;
  value: JsonValue;
}

/** An agent's detached signature over the event's other fields (agent-signature.ts). */
export interface AgentSignature {
  alg: 'ed25519';
  /** base64, 32 bytes. */
  public_key: string;
  /** base64, 64 bytes. */
  signature: string;
}

/** An event as accepted from a client: `event_id` may be absent. */
export interface AuditEventInput {
  event_id?: string;
  ts?: string;
  run_id?: string;
  session_id?: string;
  parent_event_id?: string;
  trace_id?: string;
  actor: Actor;
  action: Action;
  target?: Target;
  data_accessed?: DataAccessed[];
  reasoning?: Reasoning;
  policy?: Policy;
  approval?: Approval;
  dispatch?: Dispatch;
  risk?: Risk;
  command?: Command;
  change?: Change;
  result?: Result;
  metadata?: JsonObject;
  pii?: Record<string, PiiEntry>;
  retention?: 'operational' | 'compliance';
  agent_signature?: AgentSignature;
}

/** An event after parseEvent: validated, copied, and with an `event_id`. */
export interface AuditEvent extends AuditEventInput {
  event_id: string;
  /**
   * Set by the server's scrubber, never accepted from a client (it is not
   * a schema field, so a client sending it gets UNKNOWN_FIELDS): where
   * secrets were replaced by `[REDACTED:<kind>]` (spec/scrubbing.md).
   */
  scrubbed?: { path: string; kind: string }[];
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time proof that the interfaces above are what the schema produces. */
const schemaMatchesTypes: Same<z.output<typeof EventSchema>, AuditEventInput> = true;
void schemaMatchesTypes;
