/** The log's witness settings, from the validated config, for Log.open. */

import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { LogOptions } from '../log/log.js';
import { parseWitnessSpec } from './spec.js';

export function witnessOptions(config: Config, logger: Logger): NonNullable<LogOptions['witnesses']> {
  const list = config.witnesses.map((w) => {
    const r = parseWitnessSpec(w);
    if (r.problem !== undefined) throw new Error(`invalid configuration: TLOG_WITNESSES: ${r.problem}`);
    return r;
  });
  const quorum = config.witnessQuorum ?? list.length;
  logger.info({ witnesses: list.map((w) => w.url), witness_quorum: quorum, witness_timeout_ms: config.witnessTimeout }, 'witness cosigning on');
  return {
    list,
    quorum,
    timeoutMs: config.witnessTimeout,
    // Public data only: witness names, URLs, sizes, statuses. A witness that is
    // ahead of the log, or refuses consistency, is evidence of a fork or rollback.
    onProblem: (p) => {
      const bad = p.outcome?.ok === false && (p.outcome.reason === 'ahead' || p.outcome.status === 422);
      const reason = p.outcome?.ok === false ? p.outcome.reason : undefined;
      logger[bad ? 'error' : 'warn']({ witness: p.witness, url: p.url, tree_size: p.treeSize, reason, status: p.outcome?.ok === false ? p.outcome.status : undefined }, p.message);
    },
  };
}
