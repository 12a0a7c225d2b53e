/**
 * Every size limit of the event schema in one place, so the schema, the spec
 * (spec/events.md) and client documentation agree. Lengths of strings are in
 * UTF-16 code units (JavaScript `string.length`), which for ASCII equals
 * characters and bytes.
 */
export const EVENT_LIMITS = {
  /** Identifiers: run_id, session_id, parent_event_id, trace_id, actor.id, approver, … */
  id: 256,
  /** Short labels: action.type, tool, system, environment, model, classification, … */
  label: 128,
  /** target.resource, command.cwd: paths and URLs. */
  resource: 1024,
  /** policy.matched_rule and each risk factor. */
  rule: 256,
  /** policy.policy_snapshot: a digest, version or short policy text. */
  policySnapshot: 4096,
  /** reasoning.summary and result.detail. */
  text: 4096,
  /** approval.note. */
  note: 2048,
  /** command.text. */
  command: 16384,
  /** Entries in data_accessed. */
  dataAccessed: 128,
  /** Entries in data_accessed[].fields. */
  dataFields: 64,
  /** Entries in risk.factors. */
  riskFactors: 32,
  /** Entries in pii. */
  piiEntries: 32,
  /** Length of a pii entry name. */
  piiName: 64,
  /**
   * metadata, change.previous_value, change.proposed_value and each pii value:
   * at most this many UTF-16 code units of JSON text (JSON.stringify).
   */
  freeJson: 16384,
} as const;

/** Default container nesting allowed in an event (the event object itself is level 1). */
export const DEFAULT_MAX_DEPTH = 32;
/**
 * Highest `maxDepth` parseEvent accepts. It stays below MAX_CBOR_DEPTH so that
 * every record built from a valid event (one more level) is decodable.
 */
export const MAX_EVENT_DEPTH = 120;
/** Deepest nesting the CBOR encoder and decoders handle (records and request bodies). */
export const MAX_CBOR_DEPTH = 128;
