/**
 * The auditor's commands: verify-receipt (offline), proof inclusion|consistency
 * (online, against the signed checkpoint) and monitor (follow the whole log).
 *
 * Exit codes: 0 verified; 1 the log or the receipt failed verification (the
 * reason code is printed, and the monitor writes an evidence file); 2 an
 * operational problem (unreachable log, unreadable file, bad arguments).
 */

import { hash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { fromBase64, toBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { rfc6962Hasher, type Hasher } from '../merkle/index.js';
import { LogClient } from '../monitor/client.js';
import { catchUp, MonitorAlarm, type CheckpointCheck } from '../monitor/monitor.js';
import { progressBar } from '../monitor/progress.js';
import { loadState, saveState } from '../monitor/state.js';
import { parseCosignatureVerifierKey, parseVerifierKey } from '../note/index.js';
import {
  verifyCheckpoint,
  verifyCheckpointWithKeys,
  verifyConsistency,
  verifyInclusion,
  verifyReceiptAsync,
  verifyWitnesses,
  type VerifiedReceipt,
  type WitnessPolicy,
} from '../verifier/index.js';

/** node:crypto SHA-256: the monitor hashes every leaf, and this is 2–4× faster than noble. */
const nodeSha256 = (d: Uint8Array): Uint8Array => hash('sha256', d, 'buffer');
const rfc6962Node = rfc6962Hasher(nodeSha256);
/** Leaves are at most 65,535 bytes (entry bundles' u16 length): one scratch buffer, no allocation per leaf. */
const leafScratch = new Uint8Array(1 + 0xffff);
const nodeHasher: Hasher = {
  emptyRoot: rfc6962Node.emptyRoot,
  hashChildren: rfc6962Node.hashChildren,
  hashLeaf(leaf) {
    if (leaf.length > 0xffff) return rfc6962Node.hashLeaf(leaf);
    leafScratch[0] = 0x00;
    leafScratch.set(leaf, 1);
    return nodeSha256(leafScratch.subarray(0, 1 + leaf.length)); // hash() reads its input synchronously
  },
};

/**
 * Extensions of `monitor` (the seam for `--witness`): each adds its options
 * and turns the parsed options into checks every new checkpoint must pass.
 */
export interface MonitorPlugin {
  options(cmd: Command): void;
  checks(opts: Record<string, unknown>): CheckpointCheck[];
}
export const monitorPlugins: MonitorPlugin[] = [
  // Every checkpoint the monitor takes must carry the witness policy's cosignatures.
  {
    options: (cmd) => void witnessOption(cmd),
    checks(opts) {
      const policy = witnessPolicy(opts, verifierKey(opts));
      return policy ? [(note) => void verifyWitnesses(note, policy)] : [];
    },
  },
];

const print = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');

/** Exit status for a failure: 1 when verification failed, 2 when we could not even check. */
function fail(e: unknown): void {
  if (e instanceof TlogError) {
    process.stderr.write(`agent-tlog: ${e.code}: ${e.message}\n`);
    process.exitCode = e.code === 'LOG_UNREACHABLE' ? 2 : 1;
  } else {
    process.stderr.write(`agent-tlog: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}

/**
 * `--key` takes the verifier key itself or a file holding it. Whatever parses as a
 * verifier key IS the key, never a path: a key string is also a valid relative path
 * (`log.example.com/agents+ad6c29f7+AW…`), and a file planted under that name in the
 * working directory (an unpacked receipts archive, say) must not swap the trusted key.
 * Only an argument that is not a key is read as a file.
 */
function keyArgument(k: string, parse: (key: string) => unknown = parseVerifierKey, option = '--key'): string {
  // A bad key is a bad argument (exit 2), not a log or file that failed verification (exit 1).
  const usage = (e: unknown, what: string) => new Error(`${option}: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  try {
    parse(k);
    return k;
  } catch (e) {
    if (!existsSync(k)) throw usage(e, 'not a key, nor a file holding one'); // with the key's own message
  }
  const text = readFileSync(k, 'utf8').trim();
  try {
    parse(text);
  } catch (e) {
    throw usage(e, `${k} does not hold a key`);
  }
  return text;
}

function verifierKey(o: { key?: string }): string {
  const k = o.key ?? process.env.TLOG_VERIFIER_KEY;
  if (!k) throw new Error('--key <verifier key> (or TLOG_VERIFIER_KEY) is required');
  return keyArgument(k);
}

/**
 * `--key` and any `--previous-key`s: the log's keys from before a rotation (spec/security.md §5).
 * They verify only checkpoints the auditor already holds (a monitor's state, `--old`); every
 * checkpoint the log serves now must be signed by `--key`, since a retired key may have leaked.
 */
function verifierKeys(o: KeyOpts): { key: string; previous: string[] } {
  const key = verifierKey(o);
  const name = parseVerifierKey(key).name;
  const previous = (o.previousKey ?? []).map((k) => keyArgument(k, parseVerifierKey, '--previous-key'));
  for (const p of previous) {
    const other = parseVerifierKey(p).name;
    if (other !== name) throw new Error(`--previous-key names the log "${other}", --key the log "${name}": a log's keys all carry its name`);
  }
  return { key, previous };
}

/** A receipt as JSON: POST /v1/events's answer, or a line of an export --proofs file. Only `tlog_proof` is needed. */
interface ReceiptJson {
  tlog_proof: string;
  index?: unknown;
  leaf_hash?: unknown;
  event_id?: unknown;
  tree_size?: unknown;
  logged_at?: unknown;
}

/**
 * A receipt file: the tlog-proof text, or the JSON answer of POST /v1/events (its `tlog_proof`,
 * and its labels, which must then match the proof). Blank lines after a bare proof are dropped
 * (`jq -r .tlog_proof` adds one): the note's signatures end at its last line, so nothing signed changes.
 */
function receiptFile(text: string): { proof: string; labels?: ReceiptJson } {
  const t = text.trimStart();
  if (t.startsWith('{')) {
    const j = receiptJson(t);
    return { proof: j.tlog_proof, labels: j };
  }
  return { proof: text.replace(/\n{2,}$/, '\n') };
}

function receiptJson(t: string): ReceiptJson {
  let j: unknown;
  try {
    j = JSON.parse(t);
  } catch (e) {
    throw new TlogError('MALFORMED', 'the receipt file starts with "{" but is not JSON', { cause: e });
  }
  if (typeof (j as { tlog_proof?: unknown } | null)?.tlog_proof !== 'string') throw new TlogError('MALFORMED', 'the receipt JSON has no "tlog_proof" string');
  return j as ReceiptJson;
}

/**
 * A receipt's own labels (those present) must name what its proof proves, or a reader trusting
 * them is misled: the entry's index, leaf hash, event id, log time, and the size of the signed tree.
 */
function checkLabels(j: ReceiptJson, r: VerifiedReceipt, who: string): void {
  const bad = (what: string) => new TlogError('BAD_PROOF', `${who}'s ${what}`);
  if (j.index !== undefined && j.index !== r.index) throw bad(`index ${String(j.index)} is not its proof's entry ${r.index}`);
  if (j.leaf_hash !== undefined && j.leaf_hash !== toBase64(r.leafHash)) throw bad(`leaf_hash is not its proof's leaf hash`);
  if (j.event_id !== undefined && j.event_id !== r.record.event.event_id) throw bad(`event_id is not the event its proof holds`);
  if (j.logged_at !== undefined && j.logged_at !== r.record.logged_at) throw bad(`logged_at is not the one in the entry its proof holds`);
  if (j.tree_size !== undefined && j.tree_size !== r.checkpoint.treeSize) throw bad(`tree_size ${String(j.tree_size)} is not its proof's signed tree size ${r.checkpoint.treeSize}`);
}

/**
 * The first line of a file when it is a whole JSON object with a `tlog_proof`
 * and more lines follow: an NDJSON proofs file (`export --proofs`), verified
 * line by line. Else false (one receipt, read whole).
 */
async function ndjsonHead(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(256 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = new TextDecoder().decode(buf.subarray(0, bytesRead));
    const nl = text.indexOf('\n');
    if (nl < 0 || text.slice(nl + 1).trim() === '') return false;
    try {
      return typeof (JSON.parse(text.slice(0, nl)) as { tlog_proof?: unknown } | null)?.tlog_proof === 'string';
    } catch {
      return false;
    }
  } finally {
    await fh.close();
  }
}

/**
 * A receipt signed by `keys.key`, or else by one of `keys.previous` (the log's keys before a
 * rotation: a receipt's checkpoint is never re-signed, so one from before it carries only the old
 * key). Only a checkpoint none of them signed (UNKNOWN_KEY) moves on to the next key; any other
 * failure is the receipt's. `previous` says which previous key signed it, so the output shows it.
 */
async function verifyAnyKey(proof: string, keys: { key: string; previous: string[] }, o: KeyOpts, witnesses?: WitnessPolicy): Promise<{ r: VerifiedReceipt; previous?: string }> {
  const opts = { ...(o.origin ? { origin: o.origin } : {}), ...(witnesses ? { witnesses } : {}) };
  const all = [keys.key, ...keys.previous];
  for (let i = 0; ; i++) {
    try {
      const r = await verifyReceiptAsync(proof, all[i]!, opts);
      return i === 0 ? { r } : { r, previous: all[i]! };
    } catch (e) {
      if (!(e instanceof TlogError) || e.code !== 'UNKNOWN_KEY' || i === all.length - 1) throw e;
    }
  }
}

/** Verifies every line of an NDJSON proofs file; the first bad line fails it, with its line number. */
async function verifyProofLines(file: string, keys: { key: string; previous: string[] }, o: KeyOpts, witnesses?: WitnessPolicy): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let verified = 0;
  let first: number | undefined;
  let last: number | undefined;
  let treeSize = 0;
  let origin = '';
  let byPrevious = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let r;
    try {
      const j = receiptJson(line.trimStart());
      const v = await verifyAnyKey(j.tlog_proof, keys, o, witnesses);
      r = v.r;
      if (v.previous !== undefined) byPrevious++;
      checkLabels(j, r, 'the line');
    } catch (e) {
      if (e instanceof TlogError) throw new TlogError(e.code, `line ${n}: ${e.message}`, { cause: e });
      throw e;
    }
    verified++;
    first = Math.min(first ?? r.index, r.index);
    last = Math.max(last ?? r.index, r.index);
    treeSize = Math.max(treeSize, r.checkpoint.treeSize);
    origin = r.checkpoint.origin;
  }
  print({
    verified,
    origin,
    first_index: first ?? null,
    last_index: last ?? null,
    largest_tree_size: treeSize,
    ...(keys.previous.length > 0 ? { signed_by_previous_key: byPrevious } : {}),
  });
}

interface KeyOpts {
  key?: string;
  previousKey?: string[];
  origin?: string;
}
interface WitnessOpts {
  witness?: string[];
  witnessQuorum?: string;
}

const keyOption = (c: Command) =>
  c
    .option('--key <vkey>', "the log's verifier key, or a file holding it (a valid key is never read as a file name; TLOG_VERIFIER_KEY)")
    .option('--origin <origin>', "expected checkpoint origin (default: the key's name)");

const previousKeyOption = (c: Command) =>
  c.option(
    '--previous-key <vkey>',
    "a key the log signed with before a rotation, or a file holding it (repeatable): it verifies the checkpoint you kept, never the log's new ones",
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  );

const witnessOption = (c: Command) =>
  c
    .option(
      '--witness <vkey>',
      "a witness's verifier key, or a file holding it (repeatable): the checkpoint must carry its cosignature (spec/witness.md)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--witness-quorum <k>', 'how many of the --witness keys must have cosigned (default: all of them)');

/**
 * The k-of-n witness policy of `--witness` and `--witness-quorum`, or undefined without
 * `--witness`. Checked before anything is read, so a bad policy is a usage error (exit 2), never
 * taken for a log that failed it.
 */
function witnessPolicy(o: { witness?: unknown; witnessQuorum?: unknown }, logKey: string): WitnessPolicy | undefined {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const logPublic = hex(parseVerifierKey(logKey).publicKey);
  // One Ed25519 key is one witness, however often or under whatever names it is given (as
  // verifyWitnesses counts them): the default quorum and its range count distinct keys.
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const arg of (o.witness as string[] | undefined) ?? []) {
    const k = keyArgument(arg, parseCosignatureVerifierKey, '--witness');
    const pub = hex(parseCosignatureVerifierKey(k).publicKey);
    if (pub === logPublic) throw new Error(`--witness ${arg}: that is the log's own key; a witness must be an independent party`);
    if (seen.has(pub)) continue;
    seen.add(pub);
    keys.push(k);
  }
  if (keys.length === 0) {
    if (o.witnessQuorum !== undefined) throw new Error('--witness-quorum needs --witness keys');
    return undefined;
  }
  const quorum = o.witnessQuorum === undefined ? keys.length : Number(o.witnessQuorum);
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > keys.length)
    throw new Error(`--witness-quorum must be an integer from 1 to ${keys.length} (the distinct --witness keys given)`);
  return { keys, quorum };
}

/** The names of the witnesses whose cosignatures verified, for the output. */
const cosignedBy = (names: readonly { name: string }[] | undefined) => (names === undefined ? {} : { cosigned_by: names.map((c) => c.name) });

/** For a log whose public reads need a token (TLOG_PUBLIC_READS_NEED_TOKEN). */
const tokenOption = (c: Command) => c.option('--token <token>', 'token, if the log requires one for public reads (TLOG_TOKEN)');
const clientFor = (url: string, o: { token?: string }) => {
  const token = o.token ?? process.env.TLOG_TOKEN;
  return new LogClient(url, token ? { token } : {});
};

export function registerAudit(program: Command): void {
  witnessOption(previousKeyOption(keyOption(
    program
      .command('verify-receipt')
      .argument('<file>', 'a tlog-proof file, the receipt JSON returned by POST /v1/events, or an export --proofs NDJSON file')
      .description('Verify a receipt offline: checkpoint signature, inclusion proof, canonical leaf; prints the record (for an NDJSON proofs file: every line, then a summary)'),
  ))).action(async (file: string, o: KeyOpts & WitnessOpts) => {
    try {
      const keys = verifierKeys(o);
      const witnesses = witnessPolicy(o, keys.key);
      if (await ndjsonHead(file)) {
        await verifyProofLines(file, keys, o, witnesses);
        return;
      }
      const { proof, labels } = receiptFile(await readFile(file, 'utf8'));
      const { r, previous } = await verifyAnyKey(proof, keys, o, witnesses);
      if (labels) checkLabels(labels, r, 'the receipt');
      print({
        index: r.index,
        leaf_hash: toBase64(r.leafHash),
        origin: r.checkpoint.origin,
        tree_size: r.checkpoint.treeSize,
        root_hash: toBase64(r.checkpoint.rootHash),
        ...(previous !== undefined ? { signed_by_previous_key: previous } : {}),
        ...cosignedBy(r.cosignatures),
        record: r.record,
      });
    } catch (e) {
      fail(e);
    }
  });

  const proof = program.command('proof').description('Fetch a proof from a log and verify it against its signed checkpoint');
  witnessOption(keyOption(tokenOption(
    proof
      .command('inclusion')
      .argument('<url>', 'log server URL')
      .option('--index <n>', 'entry index')
      .option('--leaf-hash <b64>', 'leaf hash (base64), instead of --index')
      .description('Prove that an entry is in the latest signed tree'),
  ))).action(async (url: string, o: KeyOpts & WitnessOpts & { index?: string; leafHash?: string; token?: string }) => {
    try {
      const vkey = verifierKey(o);
      const witnesses = witnessPolicy(o, vkey);
      if ((o.index === undefined) === (o.leafHash === undefined)) throw new Error('give exactly one of --index and --leaf-hash');
      const client = clientFor(url, o);
      const note = await client.checkpoint();
      const cp = verifyCheckpoint(note, vkey, o.origin);
      const cosigned = witnesses ? verifyWitnesses(note, witnesses) : undefined;
      const q = o.index !== undefined ? { index: Number(o.index) } : { leafHash: o.leafHash! };
      if ('index' in q && !Number.isSafeInteger(q.index)) throw new Error('--index must be an integer');
      const got = await client.inclusionProof(q, cp.treeSize);
      // The leaf hash comes from the level-0 hash tile, not from the proof answer: we check it, not trust it.
      const leafHash = o.leafHash !== undefined ? fromBase64(o.leafHash) : await leafHashFromTile(client, got.index, cp.treeSize);
      if (!leafHash) throw new TlogError('MALFORMED', '--leaf-hash is not base64');
      verifyInclusion(got.index, cp.treeSize, leafHash, got.proof, cp.rootHash);
      print({ verified: 'inclusion', index: got.index, leaf_hash: toBase64(leafHash), tree_size: cp.treeSize, root_hash: toBase64(cp.rootHash), proof: got.proof.map(toBase64), ...cosignedBy(cosigned), checkpoint: note });
    } catch (e) {
      fail(e);
    }
  });
  witnessOption(previousKeyOption(keyOption(tokenOption(
    proof
      .command('consistency')
      .argument('<url>', 'log server URL')
      .requiredOption('--old <file>', 'an older signed checkpoint of this log (e.g. saved from GET /checkpoint)')
      .description('Prove that the latest signed tree extends an older signed checkpoint (signed by --key or a --previous-key)'),
  )))).action(async (url: string, o: KeyOpts & WitnessOpts & { old: string; token?: string }) => {
    try {
      const { key: vkey, previous } = verifierKeys(o);
      const witnesses = witnessPolicy(o, vkey);
      const oldNote = await readFile(o.old, 'utf8');
      // The old checkpoint may be from before a key rotation; the latest must be signed by the current key.
      const old = verifyCheckpointWithKeys(oldNote, [vkey, ...previous], o.origin);
      const client = clientFor(url, o);
      const note = await client.checkpoint();
      const cp = verifyCheckpoint(note, vkey, o.origin);
      // The policy vouches for the latest checkpoint (the one nobody held before); the old one was trusted already.
      const cosigned = witnesses ? verifyWitnesses(note, witnesses) : undefined;
      if (cp.treeSize < old.treeSize)
        throw new TlogError('LOG_ROLLBACK', `the log serves a signed tree of ${cp.treeSize} entries, smaller than the old checkpoint's ${old.treeSize}`);
      const p = cp.treeSize === old.treeSize ? [] : await client.consistencyProof(old.treeSize, cp.treeSize);
      try {
        verifyConsistency(old.treeSize, cp.treeSize, p, old.rootHash, cp.rootHash);
      } catch (e) {
        throw new TlogError('LOG_FORK', `the latest signed tree does not extend the old checkpoint: ${(e as Error).message}`, { cause: e });
      }
      print({ verified: 'consistency', from: old.treeSize, to: cp.treeSize, old_root: toBase64(old.rootHash), root_hash: toBase64(cp.rootHash), proof: p.map(toBase64), ...cosignedBy(cosigned), checkpoint: note });
    } catch (e) {
      fail(e);
    }
  });

  const monitor = previousKeyOption(keyOption(
    program
      .command('monitor')
      .argument('<url>', 'log server URL')
      .option('--once', 'catch up, verify, then exit (0: honest; 1: misbehaviour, with an evidence file)')
      .option('--state <file>', 'where the last trusted checkpoint and tree edge are kept', 'agent-tlog-monitor.json')
      .option('--evidence <file>', 'where to write the evidence on an alarm (default: agent-tlog-evidence-<time>.json)')
      .option('--token <token>', 'auditor token with tenant "*" for entry bundles, sent with every read (TLOG_TOKEN)')
      .option('--interval <seconds>', 'seconds between polls when following', '10')
      .option('--concurrency <n>', 'tiles fetched ahead', '8')
      .option('--check-leaves', 'also check that each leaf is a canonical v1 record (2-5x slower; hashes, tiles and roots are always checked)')
      .description('Follow a log: verify every checkpoint, its consistency, every tile and entry bundle; resumable (across a key rotation with --previous-key)'),
  ));
  for (const p of monitorPlugins) p.options(monitor);
  monitor.action(async (url: string, o: KeyOpts & Record<string, unknown>) => {
    try {
      await runMonitor(url, o);
    } catch (e) {
      fail(e);
    }
  });
}

async function leafHashFromTile(client: LogClient, index: number, treeSize: number): Promise<Uint8Array> {
  const k = Math.floor(index / 256);
  const width = Math.min(256, treeSize - k * 256);
  const tile = await client.tile({ level: 0, index: k, width });
  const i = index % 256;
  if (tile.length < (i + 1) * 32) throw new TlogError('BAD_TILE', `hash tile ${k} is too short to hold entry ${index}`);
  return tile.slice(i * 32, (i + 1) * 32);
}

async function runMonitor(url: string, o: KeyOpts & Record<string, unknown>): Promise<void> {
  const { key: vkey, previous } = verifierKeys(o);
  const origin = o.origin as string | undefined;
  const statePath = o.state as string;
  const token = (o.token as string | undefined) ?? process.env.TLOG_TOKEN;
  const client = new LogClient(url, token ? { token } : {});
  const interval = Number(o.interval);
  const concurrency = Number(o.concurrency);
  if (!(interval > 0) || !Number.isInteger(concurrency) || concurrency < 1) throw new Error('--interval and --concurrency must be positive');
  const checkpointChecks = monitorPlugins.flatMap((p) => p.checks(o));
  // Reading the state checks it: its checkpoint is re-verified and its edge must lead to its root.
  // A state saved before a key rotation loads with the previous key, and the consistency proof runs from its root.
  let state = await loadState(statePath, { current: vkey, previous, ...(origin ? { origin } : {}) }, nodeHasher);
  for (;;) {
    const bar = progressBar();
    const t0 = performance.now();
    try {
      const r = await catchUp(client, state, {
        verifierKey: vkey,
        previousVerifierKeys: previous,
        ...(origin ? { origin } : {}),
        hasher: nodeHasher,
        decodeLeaves: o.checkLeaves === true,
        concurrency,
        onProgress: (d, t) => bar.update(d, t),
        checkpointChecks,
      });
      bar.end();
      state = r.state;
      await saveState(statePath, vkey, state);
      const s = (performance.now() - t0) / 1000;
      process.stdout.write(
        `ok: tree size ${state.trusted.treeSize}, root ${toBase64(state.trusted.rootHash)}; ${r.entries} new entries verified${r.unchecked > 0 ? ` (${r.unchecked} more pruned, taken by their hashes only: ${r.uncheckedIndexes.join(', ')}${r.unchecked > r.uncheckedIndexes.length ? ', …' : ''})` : ''} in ${s.toFixed(1)} s\n`,
      );
    } catch (e) {
      bar.end();
      if (e instanceof MonitorAlarm) {
        const path = (o.evidence as string | undefined) ?? `agent-tlog-evidence-${e.evidence.detected_at.replace(/[:.]/g, '-')}.json`;
        await writeFile(path, JSON.stringify(e.evidence, null, 2) + '\n');
        process.stderr.write(`agent-tlog: ALARM ${e.code}: ${e.message}\nagent-tlog: evidence written to ${path}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
    if (o.once) return;
    await sleep(interval * 1000);
  }
}
