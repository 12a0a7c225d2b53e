import type { Command } from 'commander';
import { ENV_VARS, loadConfig } from '../config.js';
import { startServer } from '../server.js';

export function registerServe(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('Serve the log (flags override the environment variables)')
    .option('--port <n>', `listen port (${ENV_VARS.port}, default 8080)`)
    .option('--host <addr>', `listen address (${ENV_VARS.host}, default 127.0.0.1)`)
    .option('--data <dir>', `data folder (${ENV_VARS.dataDir}, default ./data)`)
    .option('--origin <origin>', `checkpoint origin and key name (${ENV_VARS.origin}, default localhost/agent-tlog)`)
    .option('--log-level <level>', `${ENV_VARS.logLevel}, default info`)
    .option('--max-pending <n>', `appends waiting before 503 (${ENV_VARS.maxPending})`)
    .option('--max-batch <n>', `entries per commit (${ENV_VARS.maxBatch})`)
    .option('--max-body <bytes>', `body limit of POST /v1/events (${ENV_VARS.maxBody})`)
    .option('--max-batch-body <bytes>', `body limit of POST /v1/events/batch (${ENV_VARS.maxBatchBody})`)
    .option('--body-budget <bytes>', `bytes of request bodies held at once, one tenant at most half (${ENV_VARS.bodyBudget}, default 67108864)`)
    .option('--max-connections <n>', `open connections at most (${ENV_VARS.maxConnections}, default 4096)`)
    .option('--witness <vkey@url>', `a witness to collect cosignatures from; repeat for more (${ENV_VARS.witnesses}, comma-separated)`, (v: string, p?: string) => (p ? `${p},${v}` : v))
    .option('--witness-quorum <k>', `cosignatures each served checkpoint needs (${ENV_VARS.witnessQuorum}, default: every witness)`)
    .option('--witness-timeout <ms>', `longest wait for cosignatures per round (${ENV_VARS.witnessTimeout}, default 5000)`)
    .option('--tile-cache <n>', `full tiles cached in memory (${ENV_VARS.tileCache})`)
    .option('--vault-key-file <path>', `vault master key file (${ENV_VARS.vaultKeyFile}, default <data>/vault.key)`)
    .option('--scrub-rules <file>', `extra secret-scrubbing rules, JSON (${ENV_VARS.scrubRules})`)
    .option('--pii-paths <list>', `fields moved to the vault: path[@subjectPath],… (${ENV_VARS.piiPaths})`)
    .option('--pii-retention-days <n>', `days personal values are kept (${ENV_VARS.piiRetentionDays}, default 90)`)
    .option('--retention-operational-days <n>', `retention of operational events (${ENV_VARS.retentionOperationalDays}, default 30)`)
    .option('--retention-compliance-days <n>', `retention of compliance events (${ENV_VARS.retentionComplianceDays}, default 2557)`)
    .option('--retention-default <class>', `class of events naming none (${ENV_VARS.retentionDefault}, default compliance)`)
    .option('--prune-entries <bool>', `automatic sweeps also prune entries past retention (${ENV_VARS.pruneEntries}, default false)`)
    .option('--retention-sweep-seconds <n>', `seconds between vault retention sweeps, 0 = off (${ENV_VARS.retentionSweepSeconds}, default 3600)`)
    .option('--public-reads-need-token <bool>', `require a key for public reads (${ENV_VARS.publicReadsNeedToken}, default false)`)
    .option('--key-rotation-grace <seconds>', `old token lifetime after a rotation (${ENV_VARS.keyRotationGrace}, default 86400)`)
    .option('--rate-append-key <rate[,burst]>', `events/s per key, or "off" (${ENV_VARS.rateAppendKey}, default 200,1000)`)
    .option('--rate-append-tenant <rate[,burst]>', `events/s per tenant, or "off" (${ENV_VARS.rateAppendTenant}, default 1000,5000)`)
    .option('--rate-read-key <rate[,burst]>', `reads/s per key, or "off" (${ENV_VARS.rateReadKey}, default 100,200)`)
    .option('--rate-read-tenant <rate[,burst]>', `reads/s per tenant, or "off" (${ENV_VARS.rateReadTenant}, default 500,1000)`)
    .option('--headers-timeout <ms>', `time to send the headers (${ENV_VARS.headersTimeout}, default 10000)`)
    .option('--request-timeout <ms>', `time to send the whole request (${ENV_VARS.requestTimeout}, default 30000)`)
    .option('--idle-timeout <ms>', `idle keep-alive connections close after (${ENV_VARS.idleTimeout}, default 5000)`)
    .option('--query-index <on|off>', `query indexes on append (${ENV_VARS.queryIndex}, default on; off only for benchmarks)`)
    .action(async (o: Record<string, string | undefined>) => {
      const config = loadConfig(process.env, {
        port: o.port,
        host: o.host,
        dataDir: o.data,
        origin: o.origin,
        logLevel: o.logLevel,
        maxPending: o.maxPending,
        maxBatch: o.maxBatch,
        maxBody: o.maxBody,
        maxBatchBody: o.maxBatchBody,
        bodyBudget: o.bodyBudget,
        maxConnections: o.maxConnections,
        witnesses: o.witness,
        witnessQuorum: o.witnessQuorum,
        witnessTimeout: o.witnessTimeout,
        tileCache: o.tileCache,
        vaultKeyFile: o.vaultKeyFile,
        scrubRules: o.scrubRules,
        piiPaths: o.piiPaths,
        piiRetentionDays: o.piiRetentionDays,
        retentionOperationalDays: o.retentionOperationalDays,
        retentionComplianceDays: o.retentionComplianceDays,
        retentionDefault: o.retentionDefault,
        retentionSweepSeconds: o.retentionSweepSeconds,
        pruneEntries: o.pruneEntries,
        publicReadsNeedToken: o.publicReadsNeedToken,
        keyRotationGrace: o.keyRotationGrace,
        rateAppendKey: o.rateAppendKey,
        rateAppendTenant: o.rateAppendTenant,
        rateReadKey: o.rateReadKey,
        rateReadTenant: o.rateReadTenant,
        headersTimeout: o.headersTimeout,
        requestTimeout: o.requestTimeout,
        idleTimeout: o.idleTimeout,
        queryIndex: o.queryIndex,
      });
      const server = await startServer(config);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (e: unknown) => {
            server.logger.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
