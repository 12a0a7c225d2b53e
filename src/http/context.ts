import type { Logger } from 'pino';
import type { KeyRing } from '../auth/keyring.js';
import type { Config } from '../config.js';
import type { ParseEventOptions } from '../events/index.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { Log } from '../log/log.js';

/** What route handlers may use. Built once by the server. */
export interface AppContext {
  readonly log: Log;
  readonly keys: KeyRing;
  readonly config: Config;
  readonly logger: Logger;
  /** The log's signed-note verifier key string. */
  readonly verifierKey: string;
  /** Shared event_id generator (strictly increasing UUIDv7s) and limits for parseEvent. */
  readonly eventOptions: ParseEventOptions;
  /** Per-key and per-tenant token buckets (built from config by createApp unless given). */
  readonly rateLimits: RateLimits;
}
