/**
 * Starts a log server: data folder, signing key, storage, keys, HTTP.
 * Used by `agent-tlog serve`, `npm start`, the tests and the benchmarks.
 */

import { writeSecretFile } from './secret-file.js';
import { hash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { keyEvent, logKeyEvent, relogKeyEvents } from './auth/key-events.js';
import { useNativeBase64 } from './bytes/index.js';
import { pooledRandom } from './random.js';
import { compileRules, loadRulesFile, withDefaults } from './scrub/index.js';
import { KeyRing } from './auth/keyring.js';
import { witnessOptions } from './witness/log-options.js';
import { ALL_TENANTS } from './auth/roles.js';
import type { Config } from './config.js';
import { TlogError } from './errors.js';
import { createUuidV7Generator } from './events/index.js';
import { createApp } from './http/app.js';
import { handleClientError, handleConnect } from './http/client-errors.js';
import { expectContinue } from './http/connection.js';
import { requestClasses } from './http/request-classes.js';
import { Log } from './log/log.js';
import { checkpointSigners, loadLogKeys } from './log/log-keys.js';
import { createLogger } from './log/logger.js';
import { rfc6962Hasher } from './merkle/index.js';
import { BlockIndexer } from './query/block-indexer.js';
import { markIndexesIncomplete, rebuildIndexes, reindexInterrupted } from './query/reindex.js';
import { runExists } from './query/runs.js';
import { LogStore } from './storage/store.js';
import { Ingest } from './ingest/pipeline.js';
import { parsePiiPaths } from './ingest/pii-paths.js';
import { PrivacyService } from './privacy/service.js';
import { RetentionJobs } from './privacy/retention-jobs.js';
import { loadOrCreateMasterKey } from './vault/master-key.js';
import { Vault } from './vault/vault.js';
import { closeHttpServer } from './http/close.js';

/** node:crypto one-shot SHA-256 (2–4× faster than noble for our sizes). */
export const nodeSha256 = (data: Uint8Array): Uint8Array => hash('sha256', data, 'buffer');

/** Buffer's base64 for the shared byte helpers: same output, native speed (test/bytes.test.ts). */
export const nodeBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
useNativeBase64(nodeBase64);

export interface RunningServer {
  readonly url: string;
  readonly log: Log;
  readonly vault: Vault;
  readonly privacy: PrivacyService;
  readonly keys: KeyRing;
  readonly verifierKey: string;
  readonly logger: Logger;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: Logger; now?: () => number } = {}): Promise<RunningServer> {
  const scrubRules = compileRules(withDefaults(config.scrubRules ? loadRulesFile(await readFile(config.scrubRules, 'utf8')) : undefined));
  // Settings that can be refused are read before anything is created or opened.
  const piiPaths = parsePiiPaths(config.piiPaths);
  const logger = opts.logger ?? createLogger(config.logLevel, undefined, scrubRules);
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const st = await stat(dataDir);
  if ((st.mode & 0o077) !== 0) {
    logger.warn({ dataDir, mode: (st.mode & 0o777).toString(8) }, 'data folder is readable by others; tightening to 0700');
    await chmod(dataDir, 0o700);
  }

  const logKeys = await loadLogKeys(dataDir, config.origin);
  const { active: signer, created } = logKeys;
  const clock = opts.now ?? Date.now;
  if (logKeys.previous) logger.info({ previous: logKeys.previous.signer.verifierKey, cosign_until: logKeys.published[1]?.cosign_until }, 'log key rotation in overlap: checkpoints are co-signed by the previous key');
  if (created) logger.info({ path: join(dataDir, 'log.key'), verifier_key: signer.verifierKey }, 'generated a new log signing key');

  const store = await LogStore.open(join(dataDir, 'log'));
  // A prune of entries cut off between its deletions and its compaction: compacted (and the
  // store reopened) before anything reads it (spec/privacy.md §6).
  try {
    if (await store.recoverPurge()) logger.warn('finished the compaction of a prune cut off by a crash or a stop');
    // A reindex cut off (kill -9, Ctrl-C) left the query indexes anywhere between cleared and
    // rebuilt, with its marker: redone from the start before the log opens, so queries never
    // answer from a partial index (BlockIndexer's checkFormat refuses one). It reads every leaf:
    // start-up then takes as long as `agent-tlog reindex` (spec/storage.md §Format version).
    // The same marker stands for appends made with query indexes off (they write no index keys):
    // set before any such append, so the next start with indexes on rebuilds them too.
    if (config.queryIndex === 'off') await markIndexesIncomplete(store);
    else if (await reindexInterrupted(store)) {
      logger.warn('the query indexes are incomplete (a reindex cut off, or a run with query indexes off): rebuilding them before serving');
      const t0 = Date.now();
      const entries = await rebuildIndexes(store);
      logger.warn({ entries, ms: Date.now() - t0 }, 'finished rebuilding the query indexes');
    }
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  if (created && (await store.readHead()) !== undefined) {
    // log.key went missing under an existing log: a fresh key would silently
    // change the log's identity. Keys change only through rotate-log-key.
    await store.close();
    await rm(join(dataDir, 'log.key'), { force: true });
    throw new TlogError('STORE_CORRUPT', `${join(dataDir, 'log.key')} is missing but the log has entries: restore it from a backup`);
  }
  const hasher = rfc6962Hasher(nodeSha256);
  let log: Log;
  try {
    log = await Log.open(store, {
      origin: config.origin,
      hasher,
      signer,
      // The previous key co-signs during a rotation's overlap (spec/security.md §5).
      cosigners: () => checkpointSigners(logKeys, clock()).slice(1),
      sha256: nodeSha256,
      maxPending: config.maxPending,
      maxBatch: config.maxBatch,
      tileCacheSize: config.tileCache,
      ...(config.queryIndex === 'on' ? { indexer: new BlockIndexer() } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(config.witnesses.length > 0 ? { witnesses: witnessOptions(config, logger) } : {}),
    });
  } catch (e) {
    await store.close().catch(() => {}); // the error to report is the one Log.open threw
    throw e;
  }
  // Everything opened or started from here on is undone, newest first, if a later step fails
  // (a vault that cannot open, a port in use): an embedding process keeps running, and must not
  // keep the LevelDB locks, a sweeper timer or the signer's witness loop of a server that never
  // started.
  const undo: (() => unknown)[] = [() => log.close()];
  try {
    const keys = await KeyRing.load(store, opts.now);
    const generateId = createUuidV7Generator({ random: pooledRandom(), ...(opts.now ? { now: opts.now } : {}) });
    // Key changes whose record a crash left without their event logged: logged now (key-events.ts).
    const keyEvents = await relogKeyEvents(log, keys);
    if (keyEvents > 0) logger.warn({ key_events: keyEvents }, 're-logged key change events cut off by a crash');
    if (keys.size === 0) {
      // First start: an admin key whose token only the operator can read.
      // The token file first, replacing one left by a start that crashed before storing its key;
      // the key and its key.create event's outbox entry then go in one batch (key-events.ts).
      const path = join(dataDir, 'admin.token');
      const { pending } = await keys.create(
        { role: 'admin', tenant: ALL_TENANTS, note: 'created on first start' },
        (k) => keyEvent({ generateId }, 'key.create', k, undefined),
        { beforeStore: (token) => writeSecretFile(path, token + '\n', { exclusive: false }) },
      );
      await logKeyEvent(log, keys, pending);
      logger.info({ path }, 'created the first admin key; its token is in this file (mode 0600)');
    }

    const eventOptions = { generateId };

    // The vault: its own database and key, so erasure never touches the log's files.
    const vaultKeyFile = resolve(config.vaultKeyFile ?? join(dataDir, 'vault.key'));
    const master = await loadOrCreateMasterKey(vaultKeyFile);
    if (master.created) logger.info({ path: vaultKeyFile }, 'generated a new vault master key');
    const vault = await Vault.open(join(dataDir, 'vault'), {
      masterKey: master.key,
      retentionMs: config.piiRetentionDays * 86_400_000,
      ...(opts.now ? { now: opts.now } : {}),
    });
    undo.push(() => vault.close());
    // Erasures a crash or a stop cut off between the shred and the purge: their bytes are
    // compacted away before anything is served (spec/privacy.md §5).
    const purged = await vault.finishPendingPurges();
    if (purged > 0) logger.warn({ subjects: purged }, 'finished the purge of erasures cut off by a crash or a stop');
    const entryRetention = {
      days: { operational: config.retentionOperationalDays, compliance: config.retentionComplianceDays },
      defaultClass: config.retentionDefault,
    };
    const privacy = new PrivacyService(
      log,
      vault,
      eventOptions,
      logger,
      entryRetention,
      opts.now,
      config.queryIndex === 'on' ? (tenant, runId) => runExists(store, tenant, runId, log.head.treeSize) : undefined,
    );
    const relogged = await privacy.recover();
    if (relogged > 0) logger.warn({ erasures: relogged }, 're-logged erasure events cut off by a crash');
    const ingest = new Ingest({ vault, piiPaths, scrub: scrubRules });
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweeper =
      config.retentionSweepSeconds > 0
        ? setInterval(() => {
            // A sweep still running (a large log) is not queued behind: the next tick comes soon enough.
            if (privacy.retentionRunning) return;
            sweeping = privacy.retention({ dryRun: false, entries: config.pruneEntries, scheduled: true }).catch((e: unknown) => logger.error({ err: e }, 'retention sweep failed'));
          }, config.retentionSweepSeconds * 1000).unref()
        : undefined;
    if (sweeper) undo.push(() => clearInterval(sweeper));

    // Retention runs asked for over HTTP, timed by the server's clock (a test's, in tests).
    const retentionJobs = new RetentionJobs((dryRun) => privacy.retention({ dryRun, entries: true }), logger, clock, (s) => ingest.text(s));
    const app = createApp({ log, keys, config, logger, verifierKey: signer.verifierKey, logKeys: logKeys.published, eventOptions, ingest, privacy, vault, retentionJobs });
    // Slow or stuck clients must not hold sockets forever (spec/limits.md). Node
    // checks the headers and request deadlines on an interval, so the interval
    // bounds how late a slowloris is cut off.
    const requestTimeout = config.requestTimeout;
    const headersTimeout = Math.min(config.headersTimeout, requestTimeout);
    const server: Server = createServer(
      {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout: config.idleTimeout,
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
        // Checked by the app instead, to answer with a JSON code (client-errors.ts).
        requireHostHeader: false,
        ...requestClasses(app),
      },
      app,
    );
    // A connection silent for this long (e.g. one that never reads its answer)
    // is destroyed. Twice the request deadline, so a stalled request is first
    // answered 408 by the deadline check rather than dropped without a word.
    server.timeout = 2 * requestTimeout;
    // Each open connection costs a socket and a parser, whatever it sends; past
    // this many node closes new ones as they are accepted (spec/limits.md §3).
    server.maxConnections = config.maxConnections;
    server.on('drop', () => logger.debug('connection limit reached: a new connection was closed'));
    server.on('clientError', handleClientError(logger));
    server.on('connect', (_req, socket) => handleConnect(socket));
    // An Expect other than 100-continue is ignored (RFC 9110 §10.1.1 allows
    // it) instead of Node's bare 417: the request is answered as usual.
    server.on('checkExpectation', app);
    // Expect: 100-continue gets 100 Continue only once the route is about to
    // read the body: after authentication, the rate limit, the size check and
    // the body budget (src/http/connection.ts).
    server.on('checkContinue', expectContinue(app));
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.port, config.host, () => {
        server.off('error', fail);
        ok();
      });
    });

    undo.push(() => closeHttpServer(server));
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host}:${addr.port}`;
    if (!['127.0.0.1', '::1', 'localhost'].includes(config.host))
      logger.warn({ host: config.host }, 'listening on a non-loopback address: put TLS in front of this server');
    logger.info({ url, origin: config.origin, tree_size: log.head.treeSize, verifier_key: signer.verifierKey }, 'agent-tlog listening');

    // last_used_at reaches storage once a minute per used key, never per request.
    const usageTimer = setInterval(() => {
      keys.flushUsage().catch((e: unknown) => logger.warn({ err: e }, 'could not persist key usage'));
    }, 60_000);
    usageTimer.unref();

    let closing: Promise<void> | undefined;
    return {
      url,
      log,
      vault,
      privacy,
      keys,
      verifierKey: signer.verifierKey,
      logger,
      close() {
        closing ??= (async () => {
          await closeHttpServer(server);
          if (sweeper) clearInterval(sweeper);
          // A retention run, scheduled or asked for over HTTP, ends at its next subject or batch,
          // before the databases close under it (PrivacyService.stop).
          await privacy.stop();
          await sweeping;
          clearInterval(usageTimer);
          await keys.flushUsage();
          await log.close();
          await vault.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => {});
    throw e;
  }
}
