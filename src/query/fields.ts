/**
 * What the indexes and the filters read from a stored record. One module, so
 * the indexer (what is written) and the matcher (what a hit must satisfy)
 * can never disagree.
 *
 * Only plain strings (and the numeric risk score) are read. Where the vault
 * replaced a value with `{ "$pii": …, "subject": …, "commitment": … }`, the
 * field is an object and is neither indexed nor tokenised: a pointer is not
 * text, and a pseudonym must not become searchable through the back door.
 */

import type { LogRecord } from '../events/index.js';
import { tokenize } from './tokens.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export interface RecordFields {
  run?: string;
  session?: string;
  actor?: string;
  /** action.type and action.name (either matches `action=`). */
  action: string[];
  decision?: string;
  approval?: string;
  approver?: string;
  /** target.system and target.resource (either matches `target=`). */
  target: string[];
  risk?: number;
  /** Free-text tokens, deduplicated, in first-seen order. */
  words: string[];
}

/** The free-text fields `q` searches, in the order they are tokenised. */
export const TEXT_FIELDS = ['action.name', 'target.system', 'target.resource', 'command.text', 'reasoning.summary', 'result.detail'] as const;

/** `words: false` skips tokenising (the costliest part) when no `q` filter needs it; `words` is then empty. */
export function recordFields(r: LogRecord, words = true): RecordFields {
  const e = r.event as unknown as Obj;
  const actor = obj(e.actor);
  const action = obj(e.action);
  const target = obj(e.target);
  const policy = obj(e.policy);
  const approval = obj(e.approval);
  const risk = obj(e.risk);
  const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => x !== undefined))];
  const score = risk?.score;
  const texts = !words ? [] : [
    str(action?.name),
    str(target?.system),
    str(target?.resource),
    str(obj(e.command)?.text),
    str(obj(e.reasoning)?.summary),
    str(obj(e.result)?.detail),
  ];
  return {
    run: str(e.run_id),
    session: str(e.session_id),
    actor: str(actor?.id),
    action: uniq([str(action?.type), str(action?.name)]),
    decision: str(policy?.decision),
    approval: str(approval?.status),
    approver: str(approval?.approver),
    target: uniq([str(target?.system), str(target?.resource)]),
    risk: typeof score === 'number' && Number.isFinite(score) ? score : undefined,
    words: tokenize(texts),
  };
}
