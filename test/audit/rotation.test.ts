/**
 * The auditor's commands across a real log signing-key rotation (spec/security.md §5): a
 * monitor state and a saved checkpoint from before it keep their trust with --previous-key, the
 * consistency across the rotation is checked from the stored root, and every checkpoint the log
 * serves afterwards must be signed by the current key (a retired key may leak).
 */

import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishLogKeyRotation, rotateLogKey } from '../../src/log/log-keys.js';
import { ed25519Signer, formatCheckpoint, parseNote, parseSignerKey, signNote, type Ed25519NoteSigner } from '../../src/note/index.js';
import { verifyCheckpoint } from '../../src/verifier/index.js';
import { get, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { testClock } from '../security/fixtures.js';
import { addEvents, allTenantsAuditor, evilProxy, runCli } from './helpers.js';

const DAY = 86_400_000;
const ORIGIN = 'test.example/log';
const clock = testClock();
let t: TestServer;
let work: string;
let oldKey: string;
let newKey: string;
let oldSigner: Ed25519NoteSigner;
let newSigner: Ed25519NoteSigner;
/** An auditor key with tenant "*" on the restarted server. */
let token: string;
let size1: number;
let size2: number;
/** The monitor's state and a checkpoint, both saved before the rotation (signed by the old key only). */
let preState: string;
let preCheckpoint: string;
/** Batch answers from before the rotation (signed by the old key only) and after it (the new key only). */
let preReceipts: any[];
let postReceipts: any[];

beforeAll(async () => {
  work = await tempDir('tlog-rotation-audit-');
  t = await startTestServer({}, undefined, { now: clock.now });
  oldKey = (await get(`${t.url}/v1/log`)).json.verifier_key;
  oldSigner = parseSignerKey((await readFile(join(t.dataDir, 'log.key'), 'utf8')).trim());
  preReceipts = await addEvents(t, 40);
  preState = join(work, 'pre.state.json');
  const first = await runCli(['monitor', t.url, '--once', '--key', oldKey, '--state', preState, '--token', await allTenantsAuditor(t)]);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  size1 = (await get(`${t.url}/v1/log`)).json.tree_size;
  preCheckpoint = join(work, 'pre.checkpoint');
  await writeFile(preCheckpoint, (await get(`${t.url}/checkpoint`)).body);
  expect(parseNote(await readFile(preCheckpoint, 'utf8')).signatures).toHaveLength(1);

  // The rotation, as an operator runs it: server stopped, new key, restart; past the overlap, finish.
  const dataDir = t.dataDir;
  await t.close({ keepData: true });
  const rot = await rotateLogKey(dataDir, ORIGIN, { overlapMs: DAY, now: clock.now });
  expect(rot.previous).toBe(oldKey);
  newKey = rot.active;
  newSigner = parseSignerKey((await readFile(join(dataDir, 'log.key'), 'utf8')).trim());
  clock.advance(2 * DAY);
  await finishLogKeyRotation(dataDir, ORIGIN, { now: clock.now });
  t = await startTestServer({}, dataDir, { now: clock.now });
  postReceipts = await addEvents(t, 30, 1000);
  token = await allTenantsAuditor(t); // before size2: creating a key appends its system event
  size2 = (await get(`${t.url}/v1/log`)).json.tree_size;
  const cp = new TextDecoder().decode((await get(`${t.url}/checkpoint`)).body);
  // Past the overlap the log signs with the new key alone.
  expect(parseNote(cp).signatures).toHaveLength(1);
  expect(verifyCheckpoint(cp, newKey).treeSize).toBe(size2);
}, 60_000);
afterAll(async () => {
  await t.close();
  await rm(work, { recursive: true, force: true });
});

/** A fresh copy of the pre-rotation monitor state. */
async function stateCopy(name: string): Promise<string> {
  const p = join(work, `${name}.state.json`);
  await copyFile(preState, p);
  return p;
}

const forged = (signer: Ed25519NoteSigner, treeSize: number, fill: number) =>
  signNote(formatCheckpoint({ origin: ORIGIN, treeSize, rootHash: new Uint8Array(32).fill(fill), extensions: [] }), [signer]);

describe('monitor across a log-key rotation', () => {
  it('resumes a state saved under the old key with --previous-key: only the new entries, the consistency proved from the stored root', async () => {
    const state = await stateCopy('resume');
    // Without the previous key the state is foreign: the auditor is told how to carry it over.
    const bare = await runCli(['monitor', t.url, '--once', '--key', newKey, '--state', state, '--token', token]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('belongs to another log key');
    expect(bare.stderr).toContain('--previous-key');
    // With the old key alone, the log's new checkpoints do not verify.
    const stale = await runCli(['monitor', t.url, '--once', '--key', oldKey, '--state', state, '--token', token]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('UNKNOWN_KEY');

    const r = await runCli(['monitor', t.url, '--once', '--key', newKey, '--previous-key', oldKey, '--state', state, '--token', token]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tree size ${size2},`);
    expect(r.stdout).toContain(`${size2 - size1} new entries verified`);
    // Saved under the new key, its checkpoint signed by it: the previous key is no longer needed.
    const saved = JSON.parse(await readFile(state, 'utf8'));
    expect(saved.verifier_key).toBe(newKey);
    expect(verifyCheckpoint(saved.checkpoint, newKey).treeSize).toBe(size2);
    const again = await runCli(['monitor', t.url, '--once', '--key', newKey, '--state', state, '--token', token]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 new entries verified');
  });

  it('a checkpoint signed by the previous key alone is never trusted as new (a retired key may leak): UNKNOWN_KEY, no evidence', async () => {
    const state = await stateCopy('leaked');
    const proxy = await evilProxy(t.url, (p) => p, (p, b) => (p === '/checkpoint' ? Buffer.from(forged(oldSigner, size2 + 10, 7)) : b));
    try {
      const evidence = join(work, 'leaked.evidence.json');
      const r = await runCli(['monitor', proxy.url, '--once', '--key', newKey, '--previous-key', oldKey, '--state', state, '--evidence', evidence, '--token', token]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('UNKNOWN_KEY');
      expect(JSON.parse(await readFile(state, 'utf8')).verifier_key).toBe(oldKey); // not advanced
    } finally {
      await proxy.close();
    }
  });

  it('a fork across the rotation is caught, and the evidence names the previous key, so a third party can re-check both checkpoints', async () => {
    const state = await stateCopy('fork');
    // The new key signs another tree of the size the old key signed.
    const proxy = await evilProxy(t.url, (p) => p, (p, b) => (p === '/checkpoint' ? Buffer.from(forged(newSigner, size1, 9)) : b));
    try {
      const evidence = join(work, 'fork.evidence.json');
      const r = await runCli(['monitor', proxy.url, '--once', '--key', newKey, '--previous-key', oldKey, '--state', state, '--evidence', evidence, '--token', token]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ALARM LOG_FORK');
      const ev = JSON.parse(await readFile(evidence, 'utf8'));
      expect(ev.log).toMatchObject({ verifier_key: newKey, previous_verifier_keys: [oldKey] });
      const [a, b] = ev.checkpoints as string[];
      expect(verifyCheckpoint(a!, oldKey).treeSize).toBe(verifyCheckpoint(b!, newKey).treeSize);
    } finally {
      await proxy.close();
    }
  });
});

describe('proof consistency across a log-key rotation', () => {
  it('--old signed by the old key verifies with --previous-key, and the latest tree must extend it', async () => {
    const without = await runCli(['proof', 'consistency', t.url, '--key', newKey, '--old', preCheckpoint]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('UNKNOWN_KEY');
    const r = await runCli(['proof', 'consistency', t.url, '--key', newKey, '--previous-key', oldKey, '--old', preCheckpoint]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: 'consistency', from: size1, to: size2 });
  });

  it('the latest checkpoint must be signed by --key, not by a --previous-key; an old tree the log did not extend is LOG_FORK', async () => {
    const swapped = await runCli(['proof', 'consistency', t.url, '--key', oldKey, '--previous-key', newKey, '--old', preCheckpoint]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toContain('UNKNOWN_KEY');
    const other = join(work, 'other.checkpoint');
    await writeFile(other, forged(oldSigner, size1, 5));
    const fork = await runCli(['proof', 'consistency', t.url, '--key', newKey, '--previous-key', oldKey, '--old', other]);
    expect(fork.code).toBe(1);
    expect(fork.stderr).toContain('LOG_FORK');
  });

  it('a --previous-key of another log is a usage error (exit 2)', async () => {
    const foreign = ed25519Signer('other.example/log', new Uint8Array(32).fill(4)).verifierKey;
    const r = await runCli(['proof', 'consistency', t.url, '--key', newKey, '--previous-key', foreign, '--old', preCheckpoint]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a log\'s keys all carry its name');
  });
});

describe('verify-receipt across a log-key rotation', () => {
  it('a receipt from before it verifies with --previous-key, and says so; with the new key alone it is UNKNOWN_KEY', async () => {
    const file = join(work, 'pre.receipt.json');
    await writeFile(file, JSON.stringify(preReceipts[3]));
    const without = await runCli(['verify-receipt', file, '--key', newKey]);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('UNKNOWN_KEY');
    const r = await runCli(['verify-receipt', file, '--key', newKey, '--previous-key', oldKey]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ index: preReceipts[3].index, signed_by_previous_key: oldKey });
    // A receipt the current key signed does not name a previous key.
    await writeFile(file, JSON.stringify(postReceipts[0]));
    const now = await runCli(['verify-receipt', file, '--key', newKey, '--previous-key', oldKey]);
    expect(now.code).toBe(0);
    expect(JSON.parse(now.stdout).signed_by_previous_key).toBeUndefined();
  });

  it('an export spanning the rotation verifies line by line and counts the lines the previous key signed; a bad line still fails', async () => {
    const file = join(work, 'span.ndjson');
    const lines = [...preReceipts.slice(0, 5), ...postReceipts.slice(0, 4)].map((x) => JSON.stringify(x));
    await writeFile(file, lines.join('\n') + '\n');
    const r = await runCli(['verify-receipt', file, '--key', newKey, '--previous-key', oldKey]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ verified: 9, signed_by_previous_key: 5 });
    // A previous key is no licence: a checkpoint it forged still fails its inclusion proof.
    const bad = { ...preReceipts[1], tlog_proof: preReceipts[1].tlog_proof.replace(/\n\n[\s\S]*$/, '\n\n' + forged(oldSigner, preReceipts[1].tree_size, 9)) };
    await writeFile(file, [lines[0], JSON.stringify(bad), lines[6]].join('\n') + '\n');
    const f = await runCli(['verify-receipt', file, '--key', newKey, '--previous-key', oldKey]);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/line 2: .*BAD_PROOF|BAD_PROOF.*line 2/);
  });
});
