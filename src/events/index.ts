/**
 * Audit events: the schema and its validation, UUIDv7 ids, deterministic
 * CBOR, and the leaf record. Pure and browser-safe (no node:* imports, no
 * Buffer); the browser verifier imports decodeRecord from here.
 */
export { parseEvent, type ParseEventOptions } from './validate.js';
export {
  EventSchema,
  EVENT_FIELDS,
  jsonTextLength,
  type Action,
  type AgentSignature,
  type Actor,
  type Approval,
  type AuditEvent,
  type AuditEventInput,
  type Change,
  type Command,
  type DataAccessed,
  type Dispatch,
  type PiiEntry,
  type Policy,
  type Reasoning,
  type Result,
  type Risk,
  type Target,
} from './schema.js';
export { EVENT_LIMITS, DEFAULT_MAX_DEPTH, MAX_EVENT_DEPTH, MAX_CBOR_DEPTH } from './limits.js';
export { MAX_KEY_LENGTH, sanitizeJson } from './sanitize.js';
export { type SchemaIssue, MAX_ISSUES } from './issues.js';
export { type JsonValue, type JsonObject, type JsonPrimitive, isPlainObject, setOwn } from './json.js';
export {
  uuidv7,
  createUuidV7Generator,
  isUuidV7,
  uuidv7Timestamp,
  defaultRandom,
  type Clock,
  type RandomSource,
  type UuidV7Options,
} from './uuidv7.js';
export { encodeCanonical, decodeCanonical, decodeCborBody, type CborBodyOptions } from './cbor.js';
export { compareKeys, sortKeys, utf8Length } from './cbor-keys.js';
export { MAX_LEAF_BYTES, encodeRecord, encodeRecordFromEventBytes, decodeRecord, type LogRecord } from './record.js';
export { piiCommitment, isPiiRef, forEachPiiRef, type PiiRef, SALT_BYTES } from './pii.js';
export {
  AGENT_SIGNATURE_CONTEXT,
  agentSignedBytes,
  signEventAsAgent,
  verifyAgentSignature,
  assertSignedEventUnaltered,
  type VerifiedAgentSignature,
} from './agent-signature.js';
