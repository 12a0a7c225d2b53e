/**
 * Server configuration: environment variables, overridden by CLI flags,
 * validated with zod at this one boundary. Every setting has a default, so
 * `npm start` needs none of them.
 */

import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

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
  tileCache: 'TLOG_TILE_CACHE',
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
  return r.data;
}
