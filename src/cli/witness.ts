import type { Command } from 'commander';
import { loadWitnessConfig, WITNESS_ENV_VARS } from '../witness/config.js';
import { startWitness } from '../witness/server.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerWitness(program: Command): void {
  program
    .command('witness')
    .description('Run a witness (C2SP tlog-witness): cosign the checkpoints of the logs it follows, refusing rollbacks and forks')
    .option('--port <n>', `listen port (${WITNESS_ENV_VARS.port}, default 8081)`)
    .option('--host <addr>', `listen address (${WITNESS_ENV_VARS.host}, default 127.0.0.1)`)
    .option('--data <dir>', `data folder: witness.key and state (${WITNESS_ENV_VARS.dataDir}, default ./witness-data)`)
    .option('--name <name>', `witness key name, e.g. witness.example.com/w1 (${WITNESS_ENV_VARS.name}; needed on first start)`)
    .option(
      '--log <spec>',
      `a log to follow: "<vkey>" (origin = key name) or "<vkey> <origin>"; repeat for more (${WITNESS_ENV_VARS.logs}, one per line)`,
      collect,
      [],
    )
    .option('--log-level <level>', `${WITNESS_ENV_VARS.logLevel}, default info`)
    .action(async (o: { port?: string; host?: string; data?: string; name?: string; log: string[]; logLevel?: string }) => {
      const config = loadWitnessConfig(process.env, {
        port: o.port,
        host: o.host,
        dataDir: o.data,
        name: o.name,
        logs: o.log,
        logLevel: o.logLevel,
      });
      const w = await startWitness(config);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        w.logger.info({ signal }, 'shutting down');
        w.close().then(
          () => process.exit(0),
          (e: unknown) => {
            w.logger.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
