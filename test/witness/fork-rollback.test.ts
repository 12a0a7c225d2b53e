/**
 * What witnesses are for: a log that forks (two servers, one key, two
 * histories) or rolls back (restored from a backup) cannot get both sides
 * cosigned. Also: a witness that hangs costs at most the round timeout.
 */

import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { ed25519Signer, formatSignerKey, openCheckpoint, parseCheckpoint, parseNote, parseVerifierKey } from '../../src/note/index.js';
import { verifyReceipt } from '../../src/verifier/index.js';
import { formatAddCheckpoint } from '../../src/witness/protocol.js';
import { get, post, sampleEvent, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { postText, startTestWitness, type TestWitness } from './helpers.js';

const ORIGIN = 'forked.example/log';
const SEED = new Uint8Array(32).fill(3);
const VKEY = ed25519Signer(ORIGIN, SEED).verifierKey;

async function keyedDir(): Promise<string> {
  const dir = await tempDir('tlog-fork-');
  await writeFile(join(dir, 'log.key'), formatSignerKey(ORIGIN, SEED) + '\n', { mode: 0o600 });
  return dir;
}

const checkpointOf = async (t: TestServer) => new TextDecoder().decode((await get(`${t.url}/checkpoint`)).body);
const sizeOf = (note: string) => parseCheckpoint(parseNote(note).text).treeSize;
const append = (t: TestServer, n: number, tag: string) =>
  (async () => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i, { run_id: `${tag}-${i}` })));
    return out;
  })();
async function consistency(t: TestServer, from: number, to: number): Promise<Uint8Array[]> {
  return ((await get(`${t.url}/v1/proofs/consistency?from=${from}&to=${to}`)).json.proof as string[]).map((h) => fromBase64(h)!);
}
/** Evidence files are written right after the refusal is answered: wait for them (bounded). */
async function evidenceFiles(dataDir: string): Promise<{ cosigned: string; refused: string; reason: string }[]> {
  const dir = join(dataDir, 'evidence');
  for (let i = 0; i < 100; i++) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.length > 0) return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as { cosigned: string; refused: string; reason: string }));
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}
const witnessCode = async (w: TestWitness, body: string) => {
  const r = await postText(`${w.url}/add-checkpoint`, body);
  return r.status === 409 ? `409 ${r.text}` : `${r.status} ${r.status === 200 ? 'cosigned' : (JSON.parse(r.text) as { error: { code: string } }).error.code}`;
};

describe('fork: two servers sharing one signing key', () => {
  let w: TestWitness;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    w = await startTestWitness([VKEY]);
    a = await startTestServer({ origin: ORIGIN, witnesses: [`${w.w.verifierKey}@${w.url}`], witnessTimeout: 2000 }, await keyedDir());
    b = await startTestServer({ origin: ORIGIN, witnesses: [`${w.w.verifierKey}@${w.url}`], witnessTimeout: 2000 }, await keyedDir());
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await w.close({ wipe: true });
  });

  it('the witness cosigns the first history and refuses the second, same size or larger (422)', async () => {
    // A grows to 3 and is cosigned.
    const ra = await append(a, 3, 'a');
    expect(ra.map((r) => r.json.witnessed)).toEqual([true, true, true]);
    // B has the same key but other entries. Below A's size, its client learns the
    // witness is ahead (409) and gets nothing; from 3 on, its proofs fail (422).
    const rb = await append(b, 5, 'b');
    expect(rb.map((r) => r.json.witnessed)).toEqual([false, false, false, false, false]);
    expect(verifyReceipt(rb[4]!.json.tlog_proof, VKEY).checkpoint.treeSize).toBe(5);
    // Replay by hand, with the spec's codes: B's size-3 head (same size, other root) and B's size-5 head with a proof from 3.
    const proofCheckpoint = (p: string) => p.slice(p.indexOf('\n\n') + 2);
    const b5 = proofCheckpoint(rb[4]!.json.tlog_proof);
    expect(sizeOf(b5)).toBe(5);
    // B's /checkpoint stays at its last cosigned one: the empty tree, which both histories share.
    expect(sizeOf(await checkpointOf(b))).toBe(0);
    const b3note = proofCheckpoint(rb[2]!.json.tlog_proof);
    expect(await witnessCode(w, formatAddCheckpoint({ old: 3, consistencyProof: [], checkpoint: b3note }))).toBe('422 INCONSISTENT_CHECKPOINT');
    expect(await witnessCode(w, formatAddCheckpoint({ old: 3, consistencyProof: await consistency(b, 3, 5), checkpoint: b5 }))).toBe('422 INCONSISTENT_CHECKPOINT');
    expect(await witnessCode(w, formatAddCheckpoint({ old: 0, consistencyProof: [], checkpoint: b5 }))).toBe('409 3\n');
    // The witness kept evidence: two checkpoints, both validly signed by the log's key, that conflict.
    const evidence = await evidenceFiles(w.dataDir);
    expect(evidence.length).toBeGreaterThan(0);
    for (const e of evidence) {
      const cosigned = openCheckpoint(e.cosigned, [parseVerifierKey(VKEY)], ORIGIN).checkpoint;
      const refused = openCheckpoint(e.refused, [parseVerifierKey(VKEY)], ORIGIN).checkpoint;
      expect(cosigned.treeSize).toBe(3);
      expect(refused.treeSize).toBeGreaterThanOrEqual(3);
      if (refused.treeSize === 3) expect(toBase64(refused.rootHash)).not.toBe(toBase64(cosigned.rootHash));
      else expect(e.reason).toMatch(/consistency proof/);
    }
    expect(evidence.some((e) => sizeOf(e.refused) === 3)).toBe(true);
    // A keeps going, cosigned.
    const more = await append(a, 2, 'a2');
    expect(more.map((r) => r.json.witnessed)).toEqual([true, true]);
    expect(sizeOf(await checkpointOf(a))).toBe(5);
  });
});

describe('rollback: a log restored from an old backup', () => {
  let w: TestWitness;
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    w = await startTestWitness([VKEY]);
    dir = await keyedDir();
  });
  afterAll(async () => {
    await t.close();
    await w.close({ wipe: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('the witness refuses an older checkpoint (409 / 400), and the restored log gets no cosignature', async () => {
    const opts = { origin: ORIGIN, witnesses: [`${w.w.verifierKey}@${w.url}`], witnessTimeout: 2000 };
    t = await startTestServer(opts, dir);
    const first = await append(t, 3, 'x');
    const cp3 = first[2]!.json.tlog_proof.slice(first[2]!.json.tlog_proof.indexOf('\n\n') + 2) as string;
    await t.close({ keepData: true });
    const backup = await tempDir('tlog-backup-');
    await cp(dir, backup, { recursive: true });
    t = await startTestServer(opts, dir);
    expect((await append(t, 3, 'y')).map((r) => r.json.witnessed)).toEqual([true, true, true]);

    // Replaying the old size-3 checkpoint is a rollback: refused.
    expect(await witnessCode(w, formatAddCheckpoint({ old: 6, consistencyProof: [], checkpoint: cp3 }))).toBe('400 MALFORMED');
    expect(await witnessCode(w, formatAddCheckpoint({ old: 3, consistencyProof: [], checkpoint: cp3 }))).toBe('409 6\n');

    // The operator restores the backup (size 3) and serves on: new entries at 3, 4, 5, 6…
    await t.close({ keepData: true });
    t = await startTestServer(opts, backup);
    const after = await append(t, 4, 'z');
    // Sizes 4 and 5 are below what the witness saw (409 → "ahead"); 6 and 7 do not extend its size-6 root (422).
    expect(after.map((r) => r.json.witnessed)).toEqual([false, false, false, false]);
    expect(sizeOf(await checkpointOf(t))).toBe(3); // the last cosigned checkpoint, from the backup
  });
});

describe('a witness that hangs', () => {
  let hang: Server;
  const sockets: Socket[] = [];
  let good: TestWitness;
  let dirs: string[];
  beforeAll(async () => {
    hang = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    good = await startTestWitness([VKEY]);
    dirs = [await keyedDir(), await keyedDir()];
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hang.close(() => r()));
    await good.close({ wipe: true });
  });

  const hangSpec = () => `${startVkey}@http://127.0.0.1:${(hang.address() as { port: number }).port}`;
  const startVkey = ed25519Signer('hang.test/w', new Uint8Array(32).fill(8)).verifierKey;

  it('with quorum 1 it does not hold receipts back: the other witness suffices', async () => {
    const t = await startTestServer({ origin: ORIGIN, witnesses: [hangSpec(), `${good.w.verifierKey}@${good.url}`], witnessQuorum: 1, witnessTimeout: 60_000 }, dirs[0]);
    try {
      const r = await append(t, 2, 'h');
      expect(r.map((x) => x.json.witnessed)).toEqual([true, true]);
    } finally {
      // close() waits for the running round, which ended at quorum.
      await t.close();
    }
  });

  it('with quorum 2 appends wait at most the timeout, then get log-only receipts', async () => {
    const t = await startTestServer({ origin: ORIGIN, witnesses: [hangSpec(), `${good.w.verifierKey}@${good.url}`], witnessQuorum: 2, witnessTimeout: 300 }, dirs[1]);
    try {
      const r = await append(t, 2, 'q');
      expect(r.map((x) => [x.status, x.json.witnessed])).toEqual([
        [201, false],
        [201, false],
      ]);
      expect(verifyReceipt(r[1]!.json.tlog_proof, VKEY).index).toBe(1);
    } finally {
      await t.close();
    }
  });
});
