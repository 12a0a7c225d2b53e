/**
 * Events the server logs about itself: key changes, personal-data reads and
 * erasures, legal holds. They go through the same schema and the same
 * commit path as agents' events, so an auditor proves them the same way.
 *
 * Invariant: a system event names keys by id and subjects by pseudonym,
 * never by token or subject id — it lands in the permanent tree.
 */

import { parseEvent, type JsonObject, type ParseEventOptions } from '../events/index.js';
import type { Appended, Log, Receipt } from './log.js';

/** The actor id of work the server does on its own (retention sweeps). */
export const SERVER_ACTOR = 'agent-tlog';

export interface SystemEventInput {
  /** `action.type`, dotted: `key.create`, `pii.read`, `pii.erase`, `hold.set`, … */
  readonly action: string;
  /** The API key that caused the event; absent for the server's own jobs. */
  readonly keyId?: string;
  /** `target.resource`: what the action was about (a key id, a pseudonym). */
  readonly resource?: string;
  /** `reasoning.summary`: the caller's stated reason or purpose. */
  readonly reason?: string;
  readonly metadata?: JsonObject;
}

export interface LoggedSystemEvent {
  readonly appended: Appended;
  readonly receipt: Receipt;
}

/** Builds the event (validated like any other) without logging it. */
export function buildSystemEvent(input: SystemEventInput, ids: ParseEventOptions) {
  return parseEvent(
    {
      actor: { type: 'system', id: input.keyId !== undefined ? `key:${input.keyId}` : SERVER_ACTOR },
      action: { type: input.action, tool: SERVER_ACTOR },
      target: { system: SERVER_ACTOR, ...(input.resource !== undefined ? { resource: input.resource } : {}) },
      ...(input.reason !== undefined ? { reasoning: { summary: input.reason } } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
      result: { status: 'success' },
      // Evidence of what was done with keys and personal data (an erasure's receipt is
      // answered again on every repeated request): never pruned with operational events.
      retention: 'compliance',
    },
    ids,
  );
}

/** Appends a system event for `tenant`; resolves once it is durable, with its receipt. */
export async function logSystemEvent(log: Log, ids: ParseEventOptions, tenant: string, input: SystemEventInput): Promise<LoggedSystemEvent> {
  const event = buildSystemEvent(input, ids);
  const appended = await log.append(tenant, event, { assignedId: true });
  return { appended, receipt: await log.receipt(appended) };
}
