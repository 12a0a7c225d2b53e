/** `agent-tlog reindex`: rebuild (or only check) the query indexes from the leaves. */

import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { agrees, compareIndexes, reindex, reindexInterrupted, type IndexComparison, type Progress } from '../query/reindex.js';
import { LogStore } from '../storage/store.js';
import { progressBar } from './progress.js';

const describe = (c: IndexComparison) =>
  `${c.entries} entries, ${c.expected} index keys expected, ${c.stored} stored, ${c.missing} missing or different, ${c.extra} extra`;

export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description('Rebuild every query index from the stored leaves and check the result (server must be stopped)')
    .option('--data <dir>', 'data folder', process.env.TLOG_DATA_DIR ?? './data')
    .option('--check', 'only compare the stored indexes with the leaves; change nothing')
    .action(async (o: { data: string; check?: boolean }) => {
      const store = await LogStore.open(join(resolve(o.data), 'log'));
      const bar = progressBar(process.stderr);
      const progress: Progress = (phase, done, total) => bar.update(`${phase.padEnd(7)}`, done, total, 'entries');
      try {
        if (o.check) {
          const c = await compareIndexes(store, 'check', progress);
          const cut = await reindexInterrupted(store);
          bar.done();
          process.stdout.write(`${agrees(c) && !cut ? 'ok' : 'MISMATCH'}: ${describe(c)}\n`);
          if (cut) process.stdout.write('marked incomplete (a reindex was cut off, or the server ran with query indexes off): run `agent-tlog reindex`, or start the server, which rebuilds them\n');
          if (!agrees(c) || cut) process.exitCode = 1;
          return;
        }
        const r = await reindex(store, progress);
        bar.done();
        process.stdout.write(`before: ${agrees(r.before) ? 'matched' : 'did not match'} (${describe(r.before)})\n`);
        process.stdout.write(`${agrees(r.after) ? 'ok' : 'FAILED'}: rebuilt, ${describe(r.after)}\n`);
        if (!agrees(r.after)) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
