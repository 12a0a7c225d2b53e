#!/usr/bin/env node
/** The agent-tlog command line: serve, keys, verify-store, reindex, export. */

import { Command } from 'commander';
import { registerExport } from './export.js';
import { registerKeys } from './keys.js';
import { registerReindex } from './reindex.js';
import { registerServe } from './serve.js';
import { registerVerifyStore } from './verify-store.js';

const program = new Command()
  .name('agent-tlog')
  .description('A transparency log for AI agents\u2019 actions (RFC 6962 Merkle tree, C2SP checkpoints, tiles and receipts).')
  .showHelpAfterError()
  .enablePositionalOptions();

registerServe(program);
registerKeys(program);
registerVerifyStore(program);
registerReindex(program);
registerExport(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`agent-tlog: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
