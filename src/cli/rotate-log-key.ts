/** `agent-tlog rotate-log-key`: start (or --finish) a log signing-key rotation. Offline: the server must be stopped. */

import type { Command } from 'commander';
import { ENV_VARS, loadConfig } from '../config.js';
import { finishLogKeyRotation, rotateLogKey } from '../log/log-keys.js';

export function registerRotateLogKey(program: Command): void {
  program
    .command('rotate-log-key')
    .description('Start a new log signing key; the old one co-signs checkpoints during the overlap (spec/security.md §5). Stop the server first.')
    .option('--data <dir>', `data folder (${ENV_VARS.dataDir}, default ./data)`)
    .option('--origin <origin>', `checkpoint origin and key name (${ENV_VARS.origin})`)
    .option('--overlap-hours <n>', 'hours the old key keeps co-signing', '168')
    .option('--finish', 'end the overlap now: delete the previous private key (its verifier key stays published)')
    .action(async (o: { data?: string; origin?: string; overlapHours: string; finish?: boolean }) => {
      const config = loadConfig(process.env, { dataDir: o.data, origin: o.origin });
      if (o.finish) {
        const r = await finishLogKeyRotation(config.dataDir, config.origin);
        process.stdout.write(`retired: ${r.retired}\n`);
        return;
      }
      const hours = Number(o.overlapHours);
      if (!Number.isFinite(hours) || hours < 0 || hours > 24 * 365) throw new Error('--overlap-hours must be a number of hours from 0 to 8760');
      const r = await rotateLogKey(config.dataDir, config.origin, { overlapMs: hours * 3_600_000 });
      process.stdout.write(`active:   ${r.active}\nprevious: ${r.previous} (co-signs until ${r.cosignUntil})\n`);
    });
}
