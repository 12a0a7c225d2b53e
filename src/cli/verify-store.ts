/** `agent-tlog verify-store`: offline fsck of a data folder. */

import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { verifyStore } from '../log/fsck.js';
import { rfc6962Hasher } from '../merkle/index.js';
import { ed25519Verifier, parseSignerKey, parseVerifierKey } from '../note/index.js';
import { nodeSha256 } from '../server.js';
import { LogStore } from '../storage/store.js';
import { readFile } from 'node:fs/promises';

export function registerVerifyStore(program: Command): void {
  program
    .command('verify-store')
    .description('Recompute the tree from the stored leaves and check tiles and the signed checkpoint (server must be stopped)')
    .option('--data <dir>', 'data folder', process.env.TLOG_DATA_DIR ?? './data')
    .option('--key <vkey>', 'verifier key to check the checkpoint with (default: the key in <data>/log.key)')
    .action(async (o: { data: string; key?: string }) => {
      const dir = resolve(o.data);
      // Read the existing key only; verify-store never creates one.
      const logKey = o.key ? undefined : parseSignerKey((await readFile(join(dir, 'log.key'), 'utf8')).trim());
      let verifier;
      try {
        verifier = o.key ? parseVerifierKey(o.key) : ed25519Verifier(logKey!.name, logKey!.publicKey);
      } catch (e) {
        // A bad argument (exit 2), as for the auditor's commands; 1 means the store failed its check.
        process.stderr.write(`agent-tlog: --key: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const store = await LogStore.open(join(dir, 'log'));
      try {
        const tty = process.stderr.isTTY;
        const r = await verifyStore(store, rfc6962Hasher(nodeSha256), verifier, (done, total) => {
          if (tty) process.stderr.write(`\rverified ${done}/${total} entries`);
        });
        if (tty) process.stderr.write('\n');
        if (r.problems.length === 0) {
          process.stdout.write(`ok: ${r.entriesChecked} entries, tree size ${r.treeSize}, root ${r.rootHash}\n`);
          return;
        }
        const first = r.problems[0]!;
        process.stdout.write(`FAILED: ${first.what}\n`);
        if (first.index !== undefined) process.stdout.write(`first bad index: ${first.index}\n`);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
