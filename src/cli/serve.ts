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
    .option('--tile-cache <n>', `full tiles cached in memory (${ENV_VARS.tileCache})`)
    .option('--rate-append-key <rate[,burst]>', `events/s per key, or "off" (${ENV_VARS.rateAppendKey}, default 200,1000)`)
    .option('--rate-append-tenant <rate[,burst]>', `events/s per tenant, or "off" (${ENV_VARS.rateAppendTenant}, default 1000,5000)`)
    .option('--rate-read-key <rate[,burst]>', `reads/s per key, or "off" (${ENV_VARS.rateReadKey}, default 100,200)`)
    .option('--rate-read-tenant <rate[,burst]>', `reads/s per tenant, or "off" (${ENV_VARS.rateReadTenant}, default 500,1000)`)
    .option('--headers-timeout <ms>', `time to send the headers (${ENV_VARS.headersTimeout}, default 10000)`)
    .option('--request-timeout <ms>', `time to send the whole request (${ENV_VARS.requestTimeout}, default 30000)`)
    .option('--idle-timeout <ms>', `idle keep-alive connections close after (${ENV_VARS.idleTimeout}, default 5000)`)
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
        tileCache: o.tileCache,
        rateAppendKey: o.rateAppendKey,
        rateAppendTenant: o.rateAppendTenant,
        rateReadKey: o.rateReadKey,
        rateReadTenant: o.rateReadTenant,
        headersTimeout: o.headersTimeout,
        requestTimeout: o.requestTimeout,
        idleTimeout: o.idleTimeout,
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
