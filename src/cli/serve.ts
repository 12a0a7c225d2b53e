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
        tileCache: o.tileCache,
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
