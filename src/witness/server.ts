/**
 * The witness's HTTP server (c2sp.org/tlog-witness v1), on plain node:http:
 * it has two routes and must not share the log's API table or keys.
 *
 *   POST /add-checkpoint             cosign a checkpoint (submission prefix "")
 *   GET  /<sha256(origin) hex>/checkpoint   latest cosigned checkpoint (monitoring)
 *
 * Requests are not authenticated (the spec's only check is the log signature).
 * Errors are the project's JSON error shape with a stable code, except 409,
 * whose body the spec fixes: `"<size>\n"`, `Content-Type: text/x.tlog.size`.
 */

import { createHash } from 'node:crypto';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { TlogError } from '../errors.js';
import { decodeNoteBytes, type NoteVerifier } from '../note/index.js';
import { parseFollowedLog, type WitnessConfig } from './config.js';
import { loadOrCreateWitnessKey } from './key.js';
import { nodeNoteVerifier } from './node-ed25519.js';
import { SIZE_CONTENT_TYPE } from './protocol.js';
import { WitnessStore } from './state.js';
import { Witness, type Evidence, type FollowedLog } from './witness.js';
import { closeHttpServer } from '../http/close.js';

/** A checkpoint note is at most a few KiB; 63 proof lines add 2.9 KiB. */
export const MAX_ADD_CHECKPOINT_BODY = 64 * 1024;

export interface RunningWitness {
  readonly url: string;
  readonly name: string;
  readonly verifierKey: string;
  readonly witness: Witness;
  readonly logger: Logger;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

function sendError(res: ServerResponse, e: TlogError): void {
  if (e.code === 'WITNESS_CONFLICT') return send(res, 409, SIZE_CONTENT_TYPE, `${e.details!.size as number}\n`);
  send(res, e.status, 'application/json; charset=utf-8', JSON.stringify({ error: { code: e.code, message: e.message } }));
}

/** Reads the body up to `limit` bytes; rejects with BODY_TOO_LARGE beyond. */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((ok, fail) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return fail(new TlogError('BODY_TOO_LARGE', `the body exceeds ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        fail(new TlogError('BODY_TOO_LARGE', `the body exceeds ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', () => fail(new TlogError('INVALID_PARAMETER', 'the request body could not be read')));
  });
}

const CHECKPOINT_PATH = /^\/([0-9a-f]{64})\/checkpoint$/;

/** Groups `<vkey> [origin]` entries by origin: a log may have several trusted keys (rotation). */
export function followedLogs(specs: readonly string[]): FollowedLog[] {
  const byOrigin = new Map<string, NoteVerifier[]>();
  for (const s of specs) {
    const l = parseFollowedLog(s);
    byOrigin.set(l.origin, [...(byOrigin.get(l.origin) ?? []), ...l.verifiers.map(nodeNoteVerifier)]);
  }
  return [...byOrigin].map(([origin, verifiers]) => ({ origin, verifiers }));
}

/**
 * Writes `<data>/evidence/<sha256(refused note)>.json`: the checkpoint the witness
 * had cosigned and the conflicting one the log also signed. Named by the refused
 * note, so a log retrying the same checkpoint every round writes one file, and
 * only the holder of a log key can make a new one.
 */
async function saveEvidence(dir: string, e: Evidence, at: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = createHash('sha256').update(e.refused).digest('hex');
  const body = JSON.stringify({ origin: e.origin, reason: e.reason, refused_at: at, cosigned: e.cosigned, refused: e.refused }, null, 2) + '\n';
  await writeFile(join(dir, `${name}.json`), body, { mode: 0o600 });
}

export async function startWitness(config: WitnessConfig, opts: { logger?: Logger; nowSeconds?: () => number } = {}): Promise<RunningWitness> {
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (((await stat(dataDir)).mode & 0o077) !== 0) await chmod(dataDir, 0o700);
  const logs = followedLogs(config.logs);
  const evidenceDir = resolve(dataDir, 'evidence');

  const { signer, created } = await loadOrCreateWitnessKey(dataDir, config.name, nowSeconds);
  if (created) logger.info({ verifier_key: signer.verifierKey }, 'generated a new witness key');
  const store = await WitnessStore.open(resolve(dataDir, 'state'));
  const witness = new Witness({
    store,
    signer,
    logs,
    // Public data only (two signed checkpoints): keep it as evidence.
    onEvidence: (e) => {
      logger.warn({ evidence: e }, 'refused a validly signed checkpoint that conflicts with the one this witness cosigned');
      void saveEvidence(evidenceDir, e, nowSeconds()).catch((err: unknown) => logger.error({ err }, "couldn't save evidence"));
    },
  });
  const originByHash = new Map(logs.map((l) => [createHash('sha256').update(l.origin).digest('hex'), l.origin]));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'POST' && path === '/add-checkpoint') {
      const body = decodeNoteBytes(await readBody(req, MAX_ADD_CHECKPOINT_BODY));
      const line = await witness.addCheckpoint(body);
      return send(res, 200, 'text/plain; charset=utf-8', line);
    }
    const m = CHECKPOINT_PATH.exec(path);
    if ((req.method === 'GET' || req.method === 'HEAD') && m) {
      const origin = originByHash.get(m[1]!);
      const note = origin === undefined ? undefined : await witness.latest(origin);
      if (note === undefined) throw new TlogError('NOT_FOUND', 'this witness has not cosigned a checkpoint for that origin');
      return send(res, 200, 'text/plain; charset=utf-8', note);
    }
    throw new TlogError('NOT_FOUND', `no route for ${req.method ?? '?'} on this path`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof TlogError) {
        if (e.status >= 500) logger.error({ err: e }, 'witness request failed');
        return sendError(res, e);
      }
      logger.error({ err: e, method: req.method }, 'unexpected error');
      sendError(res, new TlogError('INTERNAL', 'internal error'));
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.port, config.host, () => ok());
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.info({ url, name: signer.name, verifier_key: signer.verifierKey, origins: witness.origins }, 'agent-tlog witness listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    name: signer.name,
    verifierKey: signer.verifierKey,
    witness,
    logger,
    close() {
      closing ??= (async () => {
        await closeHttpServer(server);
        await store.close();
      })();
      return closing;
    },
  };
}
