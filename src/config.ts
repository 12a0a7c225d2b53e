/**
 * Server configuration: environment variables, overridden by CLI flags,
 * validated with zod at this one boundary. Every setting has a default, so
 * `npm start` needs none of them.
 */

import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
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
  /** Full tiles cached in memory with their internal nodes (~16 KiB each). */
  tileCache: int(16, 10_000_000).default(8192),
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
  tileCache: 'TLOG_TILE_CACHE',
  rateAppendKey: 'TLOG_RATE_APPEND_KEY',
  rateAppendTenant: 'TLOG_RATE_APPEND_TENANT',
  rateReadKey: 'TLOG_RATE_READ_KEY',
  rateReadTenant: 'TLOG_RATE_READ_TENANT',
  headersTimeout: 'TLOG_HEADERS_TIMEOUT_MS',
  requestTimeout: 'TLOG_REQUEST_TIMEOUT_MS',
  idleTimeout: 'TLOG_IDLE_TIMEOUT_MS',
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
  return r.data;
}
