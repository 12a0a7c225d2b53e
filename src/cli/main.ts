#!/usr/bin/env node
/** The agent-tlog command line: serve, keys, verify-store, rotate-log-key, subjects, retention, witness, the auditor's verify-receipt, proof, monitor, and reindex, export. */

import { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerWitness } from './witness.js';
import { registerKeys } from './keys.js';
import { registerRotateLogKey } from './rotate-log-key.js';
import { registerExport } from './export.js';
import { registerReindex } from './reindex.js';
import { registerServe } from './serve.js';
import { registerSubjects } from './subjects.js';
import { registerVerifyStore } from './verify-store.js';

const program = new Command()
  .name('agent-tlog')
  .description('A transparency log for AI agents\u2019 actions (RFC 6962 Merkle tree, C2SP checkpoints, tiles and receipts).')
  .showHelpAfterError()
  .enablePositionalOptions();

registerServe(program);
registerWitness(program);
registerKeys(program);
registerVerifyStore(program);
registerSubjects(program);
registerRotateLogKey(program);
registerAudit(program);
registerReindex(program);
registerExport(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`agent-tlog: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
