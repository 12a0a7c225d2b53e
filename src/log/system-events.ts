/**
 * Events the server logs about itself: key changes, personal-data reads and
 * erasures, legal holds. They go through the same schema and the same
 * commit path as agents' events, so an auditor proves them the same way.
 *
 * Invariant: a system event names keys by id and subjects by pseudonym,
 * never by token or subject id — it lands in the permanent tree.
 */

import { TlogError } from '../errors.js';
import { parseEvent, type JsonObject, type ParseEventOptions } from '../events/index.js';
import type { Appended, Log, Receipt } from './log.js';

/** The actor id of work the server does on its own (retention sweeps). */
export const SERVER_ACTOR = 'agent-tlog';

type Identity = { actor?: { type?: string; id?: string }; action?: { tool?: string }; target?: { system?: string } };

/**
 * The server's own event: system actor, and `agent-tlog` as both the tool and
 * the target system. Clients cannot log one (assertNotServerIdentity), so an
 * auditor (and retention, which never prunes erasure evidence) can tell them apart.
 */
export function isServerEvent(e: Identity): boolean {
  return e.actor?.type === 'system' && e.action?.tool === SERVER_ACTOR && e.target?.system === SERVER_ACTOR;
}

/**
 * Refuses a client event that claims the server's identity: `agent-tlog` as
 * its tool, its target system, or its system actor. Otherwise an agent could
 * log a `pii.erase` or `hold.set` that reads as the server's evidence, or
 * keep its own entries from ever being pruned.
 */
export function assertNotServerIdentity(e: Identity): void {
  const claim =
    e.action?.tool === SERVER_ACTOR ? 'action.tool' : e.target?.system === SERVER_ACTOR ? 'target.system' : e.actor?.type === 'system' && e.actor.id === SERVER_ACTOR ? 'actor.id' : undefined;
  if (claim === undefined) return;
  const message = `"${SERVER_ACTOR}" is reserved for the server's own events`;
  throw new TlogError('SCHEMA_VIOLATION', `${claim}: ${message}`, { details: { issues: [{ path: claim, message }] } });
}

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
