/**
 * Server configuration: environment variables, overridden by CLI flags,
 * validated with zod at this one boundary. Every setting has a default, so
 * `npm start` needs none of them.
 */

import { z } from 'zod';
import { checkWitnessSettings } from './witness/spec.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Booleans from env/flags: only the exact words, so a typo is an error rather than "true". */
const flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');
/** A rate limit: "<per second>[,<burst>]" (burst defaults to twice the rate), or "0"/"off" for none. */
const rate = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(0|off|(?=[\d.]*[1-9])\d{1,9}(\.\d{1,6})?(,[1-9]\d{0,9})?)$/, 'must be "<per second>[,<burst>]" with a rate > 0, or "0"/"off"');

export const ConfigSchema = z.object({
  port: int(0, 65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./data'),
  origin: z
    .string()
    .regex(/^[^\s+]+$/, 'origin must be non-empty with no whitespace and no "+"')
    .default('localhost/agent-tlog'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Appends waiting for a flush before 503. */
  maxPending: int(1, 1_000_000).default(32_768),
  /** Entries per flush (one synced batch, one signature). */
  maxBatch: int(1, 100_000).default(4096),
  /** Body limit for POST /v1/events, bytes. */
  maxBody: int(1024, 64 * 1024 * 1024).default(256 * 1024),
  /** Body limit for POST /v1/events/batch, bytes. */
  maxBatchBody: int(1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * Bytes of request bodies the server holds at once, over all requests in
   * progress; one tenant may hold half. Past it, 503 OVERLOADED before the
   * body is read (src/limits/body-budget.ts). At least twice the largest body limit.
   */
  bodyBudget: int(32 * 1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  /** Open connections at most; node closes a connection past it as soon as it is accepted. */
  maxConnections: int(1, 1_000_000).default(4096),
  /** Witnesses, each `<witness vkey>@<url>` (spec/witness.md). Empty: no cosigning. */
  witnesses: z
    .preprocess((v) => (typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : v), z.array(z.string()))
    .default([]),
  /** Cosignatures a checkpoint needs before it is served (k of the n witnesses); default: all of them. */
  witnessQuorum: int(1, 1000).optional(),
  /** How long a round of cosigning may hold appends' receipts back, ms. */
  witnessTimeout: int(10, 600_000).default(5000),
  /** Full tiles cached in memory with their internal nodes (~16 KiB each). */
  tileCache: int(16, 10_000_000).default(8192),
  /** The vault master key file; default `<dataDir>/vault.key`. Keep it off the data disk to separate the two. */
  vaultKeyFile: z.string().min(1).optional(),
  /** An operator rules file extending the default secret-scrubbing rules (spec/scrubbing.md). */
  scrubRules: z.string().min(1).optional(),
  /** Fields moved to the vault automatically: comma-separated `path` or `path@subjectPath` (src/ingest/pii-paths.ts). */
  piiPaths: z.string().default(''),
  /** Days a personal value stays in the vault before the retention sweep erases it. */
  piiRetentionDays: int(1, 36_500).default(90),
  /** Entry retention by class, days (pruning keeps hashes; see spec/privacy.md). */
  retentionOperationalDays: int(1, 36_500).default(30),
  retentionComplianceDays: int(1, 36_500).default(2557),
  /** Class of events that name none. */
  retentionDefault: z.enum(['operational', 'compliance']).default('compliance'),
  /** Seconds between automatic retention sweeps of the vault; 0 turns them off. */
  retentionSweepSeconds: int(0, 31_536_000).default(3600),
  /** Whether the automatic sweep also prunes entries past retention (`retention run --apply` always does). */
  pruneEntries: flag.default(false),
  /** Require a valid key (any role) for the public reads too (checkpoint, tiles, log info, proofs); /healthz stays open. */
  publicReadsNeedToken: flag.default(false),
  /** Seconds an old token keeps working after its key is rotated (spec/security.md). */
  keyRotationGrace: int(0, 30 * 24 * 3600).default(24 * 3600),
  /** Appended events per second per key (a batch counts its events); see spec/limits.md. */
  rateAppendKey: rate().default('200,1000'),
  /** Appended events per second per tenant, all its keys together. */
  rateAppendTenant: rate().default('1000,5000'),
  /** Authenticated read requests per second per key. */
  rateReadKey: rate().default('100,200'),
  /** Authenticated read requests per second per tenant. */
  rateReadTenant: rate().default('500,1000'),
  /** Milliseconds to receive a request's headers (slowloris guard). */
  headersTimeout: int(100, 600_000).default(10_000),
  /** Milliseconds to receive a whole request, headers and body. */
  requestTimeout: int(100, 3_600_000).default(30_000),
  /** Milliseconds an idle keep-alive connection stays open. */
  idleTimeout: int(100, 600_000).default(5_000),
  /**
   * Query indexes on the append path. `off` exists only to measure what
   * indexing costs (bench/query.mjs): the query routes then answer 503, and
   * entries appended meanwhile stay unindexed until `agent-tlog reindex`.
   */
  queryIndex: z.enum(['on', 'off']).default('on'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Environment variable for each setting (the CLI flags mirror them). */
export const ENV_VARS: Record<keyof Config, string> = {
  port: 'PORT',
  host: 'HOST',
  dataDir: 'TLOG_DATA_DIR',
  origin: 'TLOG_ORIGIN',
  logLevel: 'TLOG_LOG_LEVEL',
  maxPending: 'TLOG_MAX_PENDING',
  maxBatch: 'TLOG_MAX_BATCH',
  maxBody: 'TLOG_MAX_BODY',
  maxBatchBody: 'TLOG_MAX_BATCH_BODY',
  bodyBudget: 'TLOG_BODY_BUDGET',
  maxConnections: 'TLOG_MAX_CONNECTIONS',
  witnesses: 'TLOG_WITNESSES',
  witnessQuorum: 'TLOG_WITNESS_QUORUM',
  witnessTimeout: 'TLOG_WITNESS_TIMEOUT_MS',
  tileCache: 'TLOG_TILE_CACHE',
  vaultKeyFile: 'TLOG_VAULT_KEY_FILE',
  scrubRules: 'TLOG_SCRUB_RULES',
  piiPaths: 'TLOG_PII_PATHS',
  piiRetentionDays: 'TLOG_PII_RETENTION_DAYS',
  retentionOperationalDays: 'TLOG_RETENTION_OPERATIONAL_DAYS',
  retentionComplianceDays: 'TLOG_RETENTION_COMPLIANCE_DAYS',
  retentionDefault: 'TLOG_RETENTION_DEFAULT',
  retentionSweepSeconds: 'TLOG_RETENTION_SWEEP_SECONDS',
  pruneEntries: 'TLOG_PRUNE_ENTRIES',
  publicReadsNeedToken: 'TLOG_PUBLIC_READS_NEED_TOKEN',
  keyRotationGrace: 'TLOG_KEY_ROTATION_GRACE',
  rateAppendKey: 'TLOG_RATE_APPEND_KEY',
  rateAppendTenant: 'TLOG_RATE_APPEND_TENANT',
  rateReadKey: 'TLOG_RATE_READ_KEY',
  rateReadTenant: 'TLOG_RATE_READ_TENANT',
  headersTimeout: 'TLOG_HEADERS_TIMEOUT_MS',
  requestTimeout: 'TLOG_REQUEST_TIMEOUT_MS',
  idleTimeout: 'TLOG_IDLE_TIMEOUT_MS',
  queryIndex: 'TLOG_QUERY_INDEX',
};

export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(ENV_VARS)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) raw[k] = v;
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${ENV_VARS[i.path[0] as keyof Config] ?? i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${msg}`);
  }
  checkWitnessSettings(r.data.witnesses, r.data.witnessQuorum);
  checkBodyBudget(r.data);
  return r.data;
}

/** The largest fixed body limit of a route (keys routes: 16 KiB; src/http/routes.ts). */
const FIXED_BODY_LIMIT = 16 * 1024;

/**
 * A tenant may hold half of the body budget, so the budget must be at least
 * twice the largest body limit: a body that can never fit its tenant's half
 * would be refused with 503 forever.
 */
function checkBodyBudget(c: Pick<Config, 'bodyBudget' | 'maxBody' | 'maxBatchBody'>): void {
  const largest = Math.max(c.maxBody, c.maxBatchBody, FIXED_BODY_LIMIT);
  if (c.bodyBudget < 2 * largest)
    throw new Error(`invalid configuration: ${ENV_VARS.bodyBudget}: must be at least twice the largest body limit (2 × ${largest} = ${2 * largest} bytes): one tenant may hold half of it`);
}
