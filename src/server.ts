/**
 * Starts a log server: data folder, signing key, storage, keys, HTTP.
 * Used by `agent-tlog serve`, `npm start`, the tests and the benchmarks.
 */

import { hash, randomFillSync } from 'node:crypto';
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { KeyRing } from './auth/keyring.js';
import { ALL_TENANTS } from './auth/roles.js';
import type { Config } from './config.js';
import { createUuidV7Generator } from './events/index.js';
import { createApp } from './http/app.js';
import { Log } from './log/log.js';
import { loadOrCreateSigningKey } from './log/signing-key.js';
import { rfc6962Hasher } from './merkle/index.js';
import { indexEntry } from './query/indexer.js';
import { LogStore } from './storage/store.js';

/** node:crypto one-shot SHA-256 (2–4× faster than noble for our sizes). */
export const nodeSha256 = (data: Uint8Array): Uint8Array => hash('sha256', data, 'buffer');

/** CSPRNG bytes drawn from a refilled 64 KiB pool: one syscall per ~6,000 event ids instead of one each. */
function pooledRandom(): (n: number) => Uint8Array {
  const pool = new Uint8Array(65536);
  let at = pool.length;
  return (n) => {
    if (n > pool.length) return new Uint8Array(randomFillSync(new Uint8Array(n)));
    if (at + n > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const out = pool.slice(at, at + n);
    // Never hand the same bytes out twice.
    pool.fill(0, at, at + n);
    at += n;
    return out;
  };
}

export interface RunningServer {
  readonly url: string;
  readonly log: Log;
  readonly keys: KeyRing;
  readonly verifierKey: string;
  readonly logger: Logger;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: Logger; now?: () => number } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', 'token'] });
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const st = await stat(dataDir);
  if ((st.mode & 0o077) !== 0) {
    logger.warn({ dataDir, mode: (st.mode & 0o777).toString(8) }, 'data folder is readable by others; tightening to 0700');
    await chmod(dataDir, 0o700);
  }

  const { signer, created } = await loadOrCreateSigningKey(dataDir, config.origin);
  if (created) logger.info({ path: join(dataDir, 'log.key'), verifier_key: signer.verifierKey }, 'generated a new log signing key');

  const store = await LogStore.open(join(dataDir, 'log'));
  const hasher = rfc6962Hasher(nodeSha256);
  let log: Log;
  try {
    log = await Log.open(store, {
      origin: config.origin,
      hasher,
      signer,
      sha256: nodeSha256,
      maxPending: config.maxPending,
      maxBatch: config.maxBatch,
      tileCacheSize: config.tileCache,
      ...(config.queryIndex === 'on' ? { indexer: indexEntry } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const keys = await KeyRing.load(store, nodeSha256, opts.now);
  if (keys.size === 0) {
    // First start: an admin key whose token only the operator can read.
    const { token } = await keys.create({ role: 'admin', tenant: ALL_TENANTS, note: 'created on first start' });
    const path = join(dataDir, 'admin.token');
    const fh = await open(path, 'w', 0o600);
    try {
      await fh.writeFile(token + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(path, 0o600);
    logger.info({ path }, 'created the first admin key; its token is in this file (mode 0600)');
  }

  const generateId = createUuidV7Generator({ random: pooledRandom(), ...(opts.now ? { now: opts.now } : {}) });
  const app = createApp({ log, keys, config, logger, verifierKey: signer.verifierKey, eventOptions: { generateId } });
  const server: Server = await new Promise((ok, fail) => {
    const s = app.listen(config.port, config.host, () => ok(s));
    s.once('error', fail);
  });
  // Slow or stuck clients must not hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  if (!['127.0.0.1', '::1', 'localhost'].includes(config.host))
    logger.warn({ host: config.host }, 'listening on a non-loopback address: put TLS in front of this server');
  logger.info({ url, origin: config.origin, tree_size: log.head.treeSize, verifier_key: signer.verifierKey }, 'agent-tlog listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    log,
    keys,
    verifierKey: signer.verifierKey,
    logger,
    close() {
      closing ??= (async () => {
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await log.close();
      })();
      return closing;
    },
  };
}
