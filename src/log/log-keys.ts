/**
 * Log signing-key rotation (spec/security.md §5).
 *
 * Files in the data folder:
 *  - `log.key`           the active signing key (signing-key.ts; Go's private-key format, 0600);
 *  - `log.key.previous`  the key before the last rotation, only during the overlap (0600);
 *  - `log-keys.json`     the public history: every verifier key the log ever used, with its
 *                        status (`active`, `previous`, `retired`) and dates. Never a private key.
 *
 * During the overlap every checkpoint is signed by both keys (a signed note
 * carries several signatures; both have the log's origin as name, and
 * different key ids), so clients pinned to either key keep verifying. After
 * `cosign_until`, or once `rotate-log-key --finish` deleted the previous key,
 * only the active key signs. Old checkpoints keep their old signatures, and
 * retired keys stay published, so old receipts verify forever; a consistency
 * proof bridges an old checkpoint to one signed by the new key.
 *
 * Crash safety: every step leaves `log.key` a complete key (new files are
 * written, synced, then renamed over), and a `log.key.previous` equal to
 * `log.key` (a crash right after copying it) is ignored and may be rewritten.
 */

import { randomBytes } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TlogError } from '../errors.js';
import { decodeSignerKey, formatCheckpoint, formatSignerKey, parseCheckpoint, parseNote, signNote } from '../note/index.js';
import { LogStore } from '../storage/store.js';
import { loadOrCreateSigningKey, nodeEd25519Signer, type LogSigner } from './signing-key.js';
import { writeFileAtomic } from '../secret-file.js';

export type LogKeyStatus = 'active' | 'previous' | 'retired';

export interface PublishedLogKey {
  verifier_key: string;
  status: LogKeyStatus;
  /** When this key started signing (absent for the log's first key if it predates rotation). */
  added_at?: string;
  /** previous: the end of the overlap, after which it no longer co-signs. */
  cosign_until?: string;
  /** retired: when its private key was deleted. */
  retired_at?: string;
}

export interface LogKeys {
  active: LogSigner;
  /** The previous key and the end of its overlap (ms), while log.key.previous exists. */
  previous?: { signer: LogSigner; cosignUntil: number };
  /** Every verifier key, newest first. */
  published: PublishedLogKey[];
}

const ACTIVE = 'log.key';
const PREVIOUS = 'log.key.previous';
const HISTORY = 'log-keys.json';

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function signerFrom(text: string, path: string, origin: string): LogSigner {
  let parsed: ReturnType<typeof decodeSignerKey>;
  try {
    parsed = decodeSignerKey(text);
  } catch (e) {
    throw new TlogError('STORE_CORRUPT', `couldn't read ${path}: not a signed-note private key`, { cause: e });
  }
  if (parsed.name !== origin) throw new TlogError('STORE_CORRUPT', `the signing key in ${path} is for origin "${parsed.name}", not "${origin}"`);
  const signer = nodeEd25519Signer(origin, parsed.seed);
  parsed.seed.fill(0);
  if (signer.keyId !== parsed.keyId) throw new TlogError('STORE_CORRUPT', `the key id in ${path} does not match its key`);
  return signer;
}

async function readHistory(dir: string): Promise<PublishedLogKey[]> {
  const text = await readText(join(dir, HISTORY));
  if (text === undefined) return [];
  try {
    const j = JSON.parse(text) as { keys?: PublishedLogKey[] };
    if (!Array.isArray(j.keys) || j.keys.some((k) => typeof k?.verifier_key !== 'string')) throw new Error('no keys array');
    return j.keys;
  } catch (e) {
    throw new TlogError('STORE_CORRUPT', `couldn't read ${join(dir, HISTORY)}`, { cause: e });
  }
}

/**
 * The statuses follow the key files (they are the truth after a crash); the
 * history file adds dates and the retired keys.
 */
function publish(history: PublishedLogKey[], active: LogSigner, previous: LogKeys['previous']): PublishedLogKey[] {
  const byKey = new Map(history.map((k) => [k.verifier_key, k]));
  const out: PublishedLogKey[] = [{ ...byKey.get(active.verifierKey), verifier_key: active.verifierKey, status: 'active' }];
  delete out[0]!.cosign_until;
  delete out[0]!.retired_at;
  if (previous) {
    out.push({
      ...byKey.get(previous.signer.verifierKey),
      verifier_key: previous.signer.verifierKey,
      status: 'previous',
      ...(Number.isFinite(previous.cosignUntil) ? { cosign_until: new Date(previous.cosignUntil).toISOString() } : {}),
    });
  }
  for (const k of [...history].reverse()) {
    if (out.some((o) => o.verifier_key === k.verifier_key)) continue;
    out.push({ ...k, status: 'retired' });
  }
  return out;
}

/** Loads (or on first start creates) the active key, the previous key during an overlap, and the published list. */
export async function loadLogKeys(dir: string, origin: string): Promise<LogKeys & { created: boolean }> {
  const { signer: active, created } = await loadOrCreateSigningKey(dir, origin);
  const history = await readHistory(dir);
  const prevText = await readText(join(dir, PREVIOUS));
  let previous: LogKeys['previous'];
  if (prevText !== undefined) {
    const signer = signerFrom(prevText, join(dir, PREVIOUS), origin);
    if (signer.keyId !== active.keyId) {
      const until = history.find((k) => k.verifier_key === signer.verifierKey)?.cosign_until;
      previous = { signer, cosignUntil: until !== undefined ? Date.parse(until) : Infinity };
    }
  }
  return { active, previous, published: publish(history, active, previous), created };
}

/** The signers of a checkpoint made at `now`: the active key, plus the previous one during the overlap. */
export function checkpointSigners(keys: LogKeys, now: number): LogSigner[] {
  return keys.previous && now < keys.previous.cosignUntil ? [keys.active, keys.previous.signer] : [keys.active];
}

/** Opens the store: LevelDB's lock makes this fail while a server uses the folder ("in use": storage/open-db.ts). */
async function assertNotServing(dir: string): Promise<LogStore> {
  return LogStore.open(join(dir, 'log'));
}

/** Re-signs the stored head with `signers`, so the folder is consistent before the server starts again. */
async function resignHead(store: LogStore, signers: LogSigner[]): Promise<void> {
  const head = await store.readHead();
  if (!head) return;
  const checkpoint = signNote(formatCheckpoint(parseCheckpoint(parseNote(head.checkpoint).text)), signers);
  await store.commit({ entries: [], tiles: [], idem: [], head: { ...head, checkpoint } });
}

export interface RotationResult {
  previous: string;
  active: string;
  cosignUntil: string;
}

/**
 * `agent-tlog rotate-log-key`: makes a new active key; the old one becomes
 * `previous` and co-signs until now + overlapMs. The server must be stopped.
 */
export async function rotateLogKey(dir: string, origin: string, opts: { overlapMs: number; now?: () => number }): Promise<RotationResult> {
  const now = (opts.now ?? Date.now)();
  const activeText = await readText(join(dir, ACTIVE));
  if (activeText === undefined) throw new TlogError('STORE_CORRUPT', `no ${join(dir, ACTIVE)}: start the server once to create the log's first key`);
  const store = await assertNotServing(dir);
  try {
    const old = signerFrom(activeText, join(dir, ACTIVE), origin);
    const prevText = await readText(join(dir, PREVIOUS));
    if (prevText !== undefined && signerFrom(prevText, join(dir, PREVIOUS), origin).keyId !== old.keyId)
      throw new TlogError('LOG_UNAVAILABLE', 'the previous rotation is still in its overlap: run `agent-tlog rotate-log-key --finish` first');
    const history = await readHistory(dir);
    const seed = new Uint8Array(randomBytes(32));
    const next = nodeEd25519Signer(origin, seed);
    const cosignUntil = new Date(now + opts.overlapMs).toISOString();
    const kept = history.filter((k) => k.verifier_key !== old.verifierKey && k.verifier_key !== next.verifierKey);
    const oldEntry = history.find((k) => k.verifier_key === old.verifierKey);
    const before: PublishedLogKey[] = [
      ...kept.map((k) => ({ ...k, status: 'retired' as const })),
      { ...oldEntry, verifier_key: old.verifierKey, status: 'previous', cosign_until: cosignUntil },
    ];
    // Each step leaves a folder the server starts from (the key files decide the statuses, see publish):
    // 1. Keep the old key as the previous one (a crash here leaves previous == active: ignored).
    await writeFileAtomic(join(dir, PREVIOUS), activeText + '\n', { mode: 0o600 });
    // 2. The old key's overlap end, before a new key exists: a crash after step 3 must not leave
    //    a previous key without one (it would co-sign for ever).
    await writeFileAtomic(join(dir, HISTORY), JSON.stringify({ keys: before }, null, 2) + '\n', { mode: 0o644 });
    // 3. The new active key, whole or not at all.
    await writeFileAtomic(join(dir, ACTIVE), formatSignerKey(origin, seed) + '\n', { mode: 0o600 });
    seed.fill(0);
    // 4. The public history with the new key's date.
    const keys: PublishedLogKey[] = [...before, { verifier_key: next.verifierKey, status: 'active', added_at: new Date(now).toISOString() }];
    await writeFileAtomic(join(dir, HISTORY), JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o644 });
    // 5. The current checkpoint, co-signed, so clients with either key verify it at once.
    await resignHead(store, [next, old]);
    return { previous: old.verifierKey, active: next.verifierKey, cosignUntil };
  } finally {
    await store.close();
  }
}

/** `agent-tlog rotate-log-key --finish`: deletes the previous private key; its verifier key stays published as retired. */
export async function finishLogKeyRotation(dir: string, origin: string, opts: { now?: () => number } = {}): Promise<{ retired: string }> {
  const store = await assertNotServing(dir);
  try {
    const path = join(dir, PREVIOUS);
    const prevText = await readText(path);
    if (prevText === undefined) throw new TlogError('NOT_FOUND', 'no rotation to finish: there is no previous log key');
    const prev = signerFrom(prevText, path, origin);
    const history = await readHistory(dir);
    const retiredAt = new Date((opts.now ?? Date.now)()).toISOString();
    const keys = history.map((k) => (k.verifier_key === prev.verifierKey ? { ...k, status: 'retired' as const, retired_at: retiredAt } : k));
    if (!keys.some((k) => k.verifier_key === prev.verifierKey)) keys.unshift({ verifier_key: prev.verifierKey, status: 'retired', retired_at: retiredAt });
    // A retired key no longer co-signs: drop its overlap end.
    const clean = keys.map(({ cosign_until, ...k }) => (k.status === 'retired' ? k : { ...k, ...(cosign_until !== undefined ? { cosign_until } : {}) }));
    await writeFileAtomic(join(dir, HISTORY), JSON.stringify({ keys: clean }, null, 2) + '\n', { mode: 0o644 });
    // Overwrite before unlinking: the private key should not linger in free blocks of simple filesystems.
    const fh = await open(path, 'r+');
    try {
      await fh.writeFile('\0'.repeat(prevText.length + 1));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rm(path);
    return { retired: prev.verifierKey };
  } finally {
    await store.close();
  }
}
