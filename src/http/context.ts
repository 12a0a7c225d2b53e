import type { Logger } from 'pino';
import type { KeyRing } from '../auth/keyring.js';
import type { Config } from '../config.js';
import type { ParseEventOptions } from '../events/index.js';
import type { BodyBudget } from '../limits/body-budget.js';
import type { FairTurns } from '../limits/fair-turns.js';
import type { RateLimits } from '../limits/rate-limits.js';
import type { Log } from '../log/log.js';
import type { Ingest } from '../ingest/pipeline.js';
import type { PrivacyService } from '../privacy/service.js';
import type { RetentionJobs } from '../privacy/retention-jobs.js';
import type { Vault } from '../vault/vault.js';
import type { PublishedLogKey } from '../log/log-keys.js';

/** What route handlers may use. Built once by the server. */
export interface AppContext {
  readonly log: Log;
  readonly keys: KeyRing;
  readonly config: Config;
  readonly logger: Logger;
  /** The log's signed-note verifier key string (the active key). */
  readonly verifierKey: string;
  /** Every verifier key the log has used, newest first (log-keys.ts); absent means just verifierKey. */
  readonly logKeys?: readonly PublishedLogKey[];
  /** Shared event_id generator (strictly increasing UUIDv7s) and limits for parseEvent. */
  readonly eventOptions: ParseEventOptions;
  /** Scrubbing and personal-data sealing between validation and the log. */
  readonly ingest: Ingest;
  readonly privacy: PrivacyService;
  readonly vault: Vault;
  /** Per-key and per-tenant token buckets (built from config by createApp unless given). */
  readonly rateLimits: RateLimits;
  /** Bytes of request bodies held at once, in all and per tenant (built from config by createApp unless given). */
  readonly bodyBudget: BodyBudget;
  /** Round-robin turns across tenants for requests' CPU work (built by createApp unless given). */
  readonly turns: FairTurns;
  /** Retention runs asked for over HTTP, readable while and after they run (built by the server, on its clock). */
  readonly retentionJobs: RetentionJobs;
}
