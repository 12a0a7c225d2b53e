/**
 * `agent-tlog export`: streams GET /v1/export from a running server into a
 * file (NDJSON or CSV), with a progress line (rows, rows/s). With
 * `--proofs FILE` it also writes, per entry, a C2SP tlog-proof whose extra
 * line holds the leaf, so the export verifies offline against the log's
 * verifier key (`--proofs` fetches NDJSON with proofs and writes CSV locally
 * with the server's own column set).
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CSV_HEADER, csvRow } from '../query/csv.js';
import { progressBar } from './progress.js';

const FILTERS: readonly [flag: string, param: string, help: string][] = [
  ['--run-id <id>', 'run_id', 'only this run'],
  ['--session-id <id>', 'session_id', 'only this session'],
  ['--actor <id>', 'actor', 'actor.id'],
  ['--action <name>', 'action', 'action.type or action.name'],
  ['--decision <d>', 'decision', 'ALLOW | DENY | REQUIRE_APPROVAL'],
  ['--approval <status>', 'approval', 'approval.status'],
  ['--approver <id>', 'approver', 'approval.approver'],
  ['--target <t>', 'target', 'target.system or target.resource'],
  ['--risk-min <n>', 'risk_min', 'risk.score at least'],
  ['--risk-max <n>', 'risk_max', 'risk.score at most'],
  ['--q <words>', 'q', 'all these words in the free text'],
  ['--from <time>', 'from', 'logged at or after (ISO 8601 or Unix ms)'],
  ['--to <time>', 'to', 'logged at or before (ISO 8601 or Unix ms)'],
  ['--tenant <t>', 'tenant', 'tenant (required with a * key)'],
];

const camel = (flag: string) => flag.replace(/^--/, '').split(' ')[0]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

async function write(out: WriteStream, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('Export matching events from a running server to a file (NDJSON or CSV), optionally with offline-verifiable proofs')
    .option('--url <url>', 'server URL', process.env.TLOG_URL ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'auditor or admin token (default: $TLOG_TOKEN)')
    .option('--format <format>', 'ndjson or csv', 'ndjson')
    .requiredOption('--out <file>', 'output file')
    .option('--proofs <file>', 'also write one {index, leaf_hash, event_id, tlog_proof} line per entry');
  for (const [flag, , help] of FILTERS) cmd.option(flag, help);
  cmd.action(async (o: Record<string, string | undefined>) => {
    const token = o.token ?? process.env.TLOG_TOKEN;
    if (!token) throw new Error('--token (or TLOG_TOKEN) is required');
    if (o.format !== 'ndjson' && o.format !== 'csv') throw new Error('--format must be ndjson or csv');
    const params = new URLSearchParams({ format: o.proofs ? 'ndjson' : o.format });
    if (o.proofs) params.set('proofs', 'true');
    for (const [flag, param] of FILTERS) {
      const v = o[camel(flag)];
      if (v !== undefined) params.set(param, v);
    }
    const base = o.url!.replace(/\/+$/, '');
    const res = await fetch(`${base}/v1/export?${params}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new Error(`export failed: HTTP ${res.status} ${text.slice(0, 500)}`);
    }
    const out = createWriteStream(o.out!, { mode: 0o600 });
    const proofs = o.proofs ? createWriteStream(o.proofs, { mode: 0o600 }) : undefined;
    const bar = progressBar(process.stderr);
    let rows = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    if (!o.proofs) {
      // The server already wrote the format: copy bytes, count lines.
      for await (const chunk of body as AsyncIterable<Buffer>) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
        await write(out, chunk as unknown as string);
        bar.update('exported', o.format === 'csv' ? Math.max(0, rows - 1) : rows, undefined, 'rows');
      }
      if (o.format === 'csv') rows = Math.max(0, rows - 1);
    } else {
      if (o.format === 'csv') await write(out, CSV_HEADER);
      for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
        if (line === '') continue;
        const h = JSON.parse(line) as { index: number; leaf_hash: string; record: Parameters<typeof csvRow>[2]; tlog_proof: string };
        await write(out, o.format === 'csv' ? csvRow(h.index, h.leaf_hash, h.record) : `${JSON.stringify({ index: h.index, leaf_hash: h.leaf_hash, record: h.record })}\n`);
        await write(proofs!, `${JSON.stringify({ index: h.index, leaf_hash: h.leaf_hash, event_id: h.record.event.event_id, tlog_proof: h.tlog_proof })}\n`);
        rows++;
        bar.update('exported', rows, undefined, 'rows');
      }
    }
    bar.update('exported', rows, rows, 'rows');
    bar.done();
    await close(out);
    if (proofs) await close(proofs);
    let vkey = '';
    if (proofs) {
      const info = (await (await fetch(`${base}/v1/log`)).json()) as { verifier_key?: string };
      vkey = info.verifier_key ? `; proofs verify against ${info.verifier_key}` : '';
    }
    process.stdout.write(`exported ${rows} ${rows === 1 ? 'row' : 'rows'} to ${o.out}${o.proofs ? ` and proofs to ${o.proofs}` : ''}${vkey}\n`);
  });
}
