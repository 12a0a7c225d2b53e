/**
 * The one error module. Every failure the project reports carries a stable
 * `code` from this registry; the HTTP status for each code lives here too, so
 * the code-to-status mapping has exactly one home (the HTTP layer only reads it).
 *
 * Pure and browser-safe: the verifier library throws the same class.
 *
 * Caller bugs (a wrong type, an impossible size) are `TypeError`/`RangeError`,
 * as in noble; anything an attacker or a broken peer can cause is a `TlogError`.
 */

export const ERRORS = {
  // 400: the request could not be understood.
  MALFORMED_JSON: { status: 400, doc: 'The body is not valid JSON.' },
  MALFORMED_CBOR: { status: 400, doc: 'The body is not valid CBOR.' },
  INVALID_PARAMETER: { status: 400, doc: 'A path or query parameter is missing, malformed or out of range.' },
  MISSING_PARAMETER: { status: 400, doc: 'A required query parameter is absent.' },
  MALFORMED_REQUEST: { status: 400, doc: 'The request is not valid HTTP/1.1 (e.g. both Content-Length and Transfer-Encoding).' },
  INVALID_CURSOR: { status: 400, doc: 'A paging cursor that this server did not hand out, or one from a query with other filters, order or tenant.' },
  // 401 / 403: credentials.
  UNAUTHENTICATED: { status: 401, doc: 'No token, or an unknown, expired or revoked token.' },
  FORBIDDEN: { status: 403, doc: "The key's role may not call this route." },
  // 404 / 405 / 409 / 410.
  NOT_FOUND: { status: 404, doc: 'No such route, entry, event, tile or key (or it belongs to another tenant).' },
  METHOD_NOT_ALLOWED: { status: 405, doc: 'The route exists but not with this method.' },
  EVENT_CONFLICT: { status: 409, doc: 'The event_id was already logged for this tenant with different content.' },
  LEGAL_HOLD: { status: 409, doc: 'A legal hold covers this subject: erasure (and pruning) must wait until the hold is lifted.' },
  PRUNED: { status: 410, doc: 'The entry contents were pruned after their retention period; the hashes remain, so proofs still verify.' },
  REQUEST_TIMEOUT: { status: 408, doc: 'The headers or the body arrived too slowly; the connection is closed.' },
  // 413: size and shape limits.
  BODY_TOO_LARGE: { status: 413, doc: 'The request body exceeds the configured limit.' },
  LEAF_TOO_LARGE: { status: 413, doc: 'The stored record would exceed 65,535 bytes (the tlog-tiles entry limit).' },
  NESTING_TOO_DEEP: { status: 413, doc: 'The JSON nests deeper than the configured limit.' },
  BATCH_TOO_LARGE: { status: 413, doc: "A batch holds more events than the limit (1,000, or one tenant's share of the sequencer pool, half of TLOG_MAX_PENDING); `error.max` is the limit." },
  // 415 / 422 / 431.
  HEADERS_TOO_LARGE: { status: 431, doc: 'The request headers exceed the server limit (16 KiB).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'The Content-Type is not application/json or application/cbor.' },
  SCHEMA_VIOLATION: { status: 422, doc: 'Valid JSON that breaks the event schema; `error.issues` lists the field paths.' },
  UNKNOWN_FIELDS: { status: 422, doc: 'The event has top-level fields the schema does not know; `error.fields` names them.' },
  AGENT_SIGNATURE_REQUIRED: { status: 422, doc: 'The API key has a registered agent public key, and the event carries no agent_signature.' },
  SIGNED_EVENT_ALTERED: { status: 422, doc: 'An agent-signed event would be stored differently from what the agent signed (e.g. personal data moved to the vault); it is refused.' },
  // 429 / 503: pushback. Both carry Retry-After.
  RATE_LIMITED: { status: 429, doc: 'Too many requests for this key or tenant.' },
  OVERLOADED: { status: 503, doc: 'The server is at a capacity limit (the sequencer pool, the turn queue, the memory budget of request bodies, or retention runs waiting); retry after Retry-After seconds.' },
  LOG_UNAVAILABLE: { status: 503, doc: 'The log cannot accept writes (storage failure); reads still work.' },
  QUERY_INDEX_STALE: { status: 503, doc: 'At start-up: the query indexes on disk are in an older format, missing under a log with entries, or marked incomplete; stop the server and run `agent-tlog reindex` (or start with query indexes off).' },
  QUERY_DISABLED: { status: 503, doc: 'The server runs with query indexes off (TLOG_QUERY_INDEX=off, a benchmarking mode): query, run, export and report routes are unavailable.' },
  // Verification failures (verifier library, CLI, monitor).
  MALFORMED: { status: 400, doc: 'A note, checkpoint, proof, key or leaf does not parse.' },
  BAD_SIGNATURE: { status: 422, doc: 'A signature by a known key does not verify, or no known key signed.' },
  UNKNOWN_KEY: { status: 422, doc: 'No signature line is by a trusted key.' },
  WRONG_ORIGIN: { status: 422, doc: 'The checkpoint origin is not the expected one.' },
  WITNESS_QUORUM: { status: 422, doc: 'Fewer witnesses than the policy requires cosigned the checkpoint.' },
  // The witness server (agent-tlog witness, C2SP tlog-witness add-checkpoint).
  UNKNOWN_LOG: { status: 404, doc: 'The witness does not follow the checkpoint\'s origin.' },
  UNTRUSTED_CHECKPOINT: { status: 403, doc: "The checkpoint has no valid signature by the log's trusted key." },
  WITNESS_CONFLICT: { status: 409, doc: 'The old size is not the size the witness last cosigned (body: that size).' },
  INCONSISTENT_CHECKPOINT: { status: 422, doc: 'The checkpoint is not consistent with the one the witness last cosigned.' },
  BAD_PROOF: { status: 422, doc: 'An inclusion or consistency proof does not verify.' },
  NOT_CANONICAL: { status: 422, doc: 'The leaf bytes are not the deterministic CBOR encoding of their content.' },
  VAULT_CORRUPT: { status: 500, doc: 'A vault record failed authentication or does not parse (altered, or the vault key is wrong).' },
  // The monitor's alarms: the log itself misbehaved, and the evidence file shows it.
  LOG_FORK: { status: 422, doc: 'Two checkpoints signed by the log key that no append-only history can both extend (a split view).' },
  LOG_ROLLBACK: { status: 422, doc: 'The log serves a signed checkpoint smaller than one it signed before (restored from an old copy).' },
  BAD_TILE: { status: 422, doc: 'A hash tile or entry bundle served by the log does not match the leaves or the signed root.' },
  LOG_UNREACHABLE: { status: 502, doc: 'An auditing tool could not reach the log, or the log answered an unexpected status.' },
  STORE_CORRUPT: { status: 500, doc: 'verify-store found stored data that does not match the signed tree.' },
  // 500: never on purpose. Logged with a request id; the message never echoes input.
  INTERNAL: { status: 500, doc: 'A bug. The message is generic; the server log has the method, path and stack.' },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class TlogError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds, for 429/503 answers. */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {}) {
    // A client error (status < 500) is an answer, not a fault: its stack is
    // never logged, and capturing one costs more than the rest of a 429. A
    // flood of refusals must stay cheap, so such errors carry no stack.
    const limit = Error.stackTraceLimit;
    if (ERRORS[code].status < 500) Error.stackTraceLimit = 0;
    try {
      super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'TlogError';
    this.code = code;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

/** Wraps a lower-level failure as "couldn't X: cause" while keeping its code. */
export function wrap(e: unknown, what: string, fallback: ErrorCode = 'INTERNAL'): TlogError {
  if (e instanceof TlogError) return new TlogError(e.code, `${what}: ${e.message}`, { details: e.details, cause: e });
  const msg = e instanceof Error ? e.message : String(e);
  return new TlogError(fallback, `${what}: ${msg}`, { cause: e });
}
