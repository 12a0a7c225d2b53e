/**
 * Witness configuration: environment variables overridden by CLI flags,
 * validated with zod here. A followed log is written `<vkey>` (its origin is
 * the key name, as for agent-tlog logs) or `<vkey> <origin>` (origins may
 * contain spaces, e.g. "go.sum database tree"; vkeys never do).
 */

import { z } from 'zod';
import { parseVerifierKey, type Ed25519NoteVerifier } from '../note/index.js';

export const WitnessConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8081),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./witness-data'),
  /** Key name of the witness; needed to create its key, checked against it afterwards. */
  name: z
    .string()
    .regex(/^[^\s+]+$/, 'name must be non-empty with no whitespace and no "+"')
    .optional(),
  logs: z.array(z.string().min(1)).min(1, 'follow at least one log (--log <vkey> [origin])'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type WitnessConfig = z.infer<typeof WitnessConfigSchema>;

export const WITNESS_ENV_VARS: Record<keyof WitnessConfig, string> = {
  port: 'TLOG_WITNESS_PORT',
  host: 'TLOG_WITNESS_HOST',
  dataDir: 'TLOG_WITNESS_DATA_DIR',
  name: 'TLOG_WITNESS_NAME',
  logs: 'TLOG_WITNESS_LOGS',
  logLevel: 'TLOG_LOG_LEVEL',
};

export function loadWitnessConfig(env: NodeJS.ProcessEnv, overrides: Partial<Record<keyof WitnessConfig, unknown>> = {}): WitnessConfig {
  const raw: Record<string, unknown> = {};
  for (const [k, name] of Object.entries(WITNESS_ENV_VARS)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[k] = k === 'logs' ? v.split('\n').map((l) => l.trim()).filter((l) => l !== '') : v;
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) raw[k] = v;
  const r = WitnessConfigSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${WITNESS_ENV_VARS[i.path[0] as keyof WitnessConfig] ?? i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid witness configuration: ${msg}`);
  }
  for (const l of r.data.logs) parseFollowedLog(l);
  return r.data;
}

/**
 * `<vkey>` or `<vkey> <origin>` → the log's origin and verifier.
 * @throws Error naming the entry's position problem (never its key).
 */
export function parseFollowedLog(spec: string): { origin: string; verifiers: Ed25519NoteVerifier[] } {
  const s = spec.trim();
  const space = s.indexOf(' ');
  const vkey = space < 0 ? s : s.slice(0, space);
  let verifier;
  try {
    verifier = parseVerifierKey(vkey);
  } catch (e) {
    throw new Error(`invalid witness configuration: log "${s.slice(0, 80)}": ${(e as Error).message}`);
  }
  const origin = space < 0 ? verifier.name : s.slice(space + 1).trim();
  if (origin === '' || /[\x00-\x1f]/.test(origin)) throw new Error('invalid witness configuration: a log origin is empty or has control characters');
  return { origin, verifiers: [verifier] };
}
