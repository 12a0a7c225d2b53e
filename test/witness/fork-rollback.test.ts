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
const rootOf = (note: string) => toBase64(parseCheckpoint(parseNote(note).text).rootHash);
const witnessLines = (note: string) => note.split('\n').filter((l) => l.startsWith('— ') && !l.startsWith(`— ${ORIGIN} `));
const proofCheckpoint = (p: string) => p.slice(p.indexOf('\n\n') + 2);
/**
 * The log's tree size now. The server logs its own actions (the API keys made
 * at start-up are system events), so tests assert sizes relative to this.
 */
const treeSizeOf = async (t: TestServer): Promise<number> => (await get(`${t.url}/v1/log`)).json.tree_size as number;
const append = (t: TestServer, n: number, tag: string) =>
  (async () => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i, { run_id: `${tag}-${i}` })));
    return out;
  })();
async function consistency(t: TestServer, from: number, to: number): Promise<Uint8Array[]> {
  return ((await get(`${t.url}/v1/proofs/consistency?from=${from}&to=${to}`)).json.proof as string[]).map((h) => fromBase64(h)!);
}
type Evidence = { cosigned: string; refused: string; reason: string };
/**
 * Evidence files are written right after the refusal is answered (not
 * atomically): read them until `done` holds for the set, bounded; a file
 * caught half-written is read again on the next pass.
 */
async function evidenceFiles(dataDir: string, done: (e: Evidence[]) => boolean): Promise<Evidence[]> {
  const dir = join(dataDir, 'evidence');
  let out: Evidence[] = [];
  for (let i = 0; i < 100; i++) {
    const names = await readdir(dir).catch(() => [] as string[]);
    try {
      out = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as Evidence));
      if (done(out)) return out;
    } catch {
      /* a file being written */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
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
    // Both logs hold their own start-up system events (API keys): already two
    // histories. A started first, so the witness follows A.
    const baseA = await treeSizeOf(a);
    const baseB = await treeSizeOf(b);
    // A's cosigned checkpoints, by size: what the witness may hold as "cosigned".
    const aRoots = new Map<number, string>();
    const cpA0 = await checkpointOf(a);
    expect(sizeOf(cpA0)).toBe(baseA);
    expect(witnessLines(cpA0)).toHaveLength(1);
    aRoots.set(baseA, rootOf(cpA0));
    // A grows by 3 and is cosigned.
    const ra = await append(a, 3, 'a');
    expect(ra.map((r) => r.json.witnessed)).toEqual([true, true, true]);
    for (const r of ra) aRoots.set(sizeOf(proofCheckpoint(r.json.tlog_proof)), rootOf(proofCheckpoint(r.json.tlog_proof)));
    const sizeA = baseA + 3;
    expect(sizeOf(await checkpointOf(a))).toBe(sizeA);
    // B has the same key but other entries; it grows to 2 past A's size. Below
    // A's size, its client learns the witness is ahead (409) and gets nothing;
    // from A's size on, its proofs fail (422).
    expect(baseB).toBeLessThan(sizeA);
    const nB = sizeA + 2 - baseB;
    const rb = await append(b, nB, 'b');
    expect(rb.map((r) => r.json.witnessed)).toEqual(new Array(nB).fill(false));
    expect(verifyReceipt(rb[nB - 1]!.json.tlog_proof, VKEY).checkpoint.treeSize).toBe(sizeA + 2);
    // Replay by hand, with the spec's codes: B's head at A's size (same size, other root) and B's newest head with a proof from A's size.
    const bLast = proofCheckpoint(rb[nB - 1]!.json.tlog_proof);
    expect(sizeOf(bLast)).toBe(sizeA + 2);
    // B's /checkpoint never carries a cosignature on B's history (the empty tree, which both histories share, excepted).
    const cpB = await checkpointOf(b);
    expect(sizeOf(cpB) === 0 || witnessLines(cpB).length === 0).toBe(true);
    const bAtA = proofCheckpoint(rb[sizeA - baseB - 1]!.json.tlog_proof);
    expect(sizeOf(bAtA)).toBe(sizeA);
    expect(rootOf(bAtA)).not.toBe(aRoots.get(sizeA));
    expect(await witnessCode(w, formatAddCheckpoint({ old: sizeA, consistencyProof: [], checkpoint: bAtA }))).toBe('422 INCONSISTENT_CHECKPOINT');
    expect(await witnessCode(w, formatAddCheckpoint({ old: sizeA, consistencyProof: await consistency(b, sizeA, sizeA + 2), checkpoint: bLast }))).toBe('422 INCONSISTENT_CHECKPOINT');
    expect(await witnessCode(w, formatAddCheckpoint({ old: 0, consistencyProof: [], checkpoint: bLast }))).toBe(`409 ${sizeA}\n`);
    // The witness kept evidence: two checkpoints, both validly signed by the log's key, that conflict,
    // among them B's head at A's size against A's.
    const evidence = await evidenceFiles(w.dataDir, (es) => es.some((e) => sizeOf(e.refused) === sizeA && sizeOf(e.cosigned) === sizeA));
    expect(evidence.some((e) => sizeOf(e.refused) === sizeA && sizeOf(e.cosigned) === sizeA)).toBe(true);
    for (const e of evidence) {
      const cosigned = openCheckpoint(e.cosigned, [parseVerifierKey(VKEY)], ORIGIN).checkpoint;
      const refused = openCheckpoint(e.refused, [parseVerifierKey(VKEY)], ORIGIN).checkpoint;
      // What the witness had cosigned is A's history; what it refused is not.
      expect(toBase64(cosigned.rootHash)).toBe(aRoots.get(cosigned.treeSize));
      expect(refused.treeSize).toBeGreaterThanOrEqual(cosigned.treeSize);
      if (refused.treeSize === cosigned.treeSize) expect(toBase64(refused.rootHash)).not.toBe(toBase64(cosigned.rootHash));
      else expect(e.reason).toMatch(/consistency proof/);
    }
    // A keeps going, cosigned.
    const more = await append(a, 2, 'a2');
    expect(more.map((r) => r.json.witnessed)).toEqual([true, true]);
    expect(sizeOf(await checkpointOf(a))).toBe(sizeA + 2);
    expect(witnessLines(await checkpointOf(a))).toHaveLength(1);
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
    expect(first.map((r) => r.json.witnessed)).toEqual([true, true, true]);
    const cpOld = proofCheckpoint(first[2]!.json.tlog_proof);
    const sizeOld = sizeOf(cpOld);
    expect(sizeOld).toBe(await treeSizeOf(t));
    await t.close({ keepData: true });
    const backup = await tempDir('tlog-backup-');
    await cp(dir, backup, { recursive: true });
    t = await startTestServer(opts, dir);
    expect((await append(t, 3, 'y')).map((r) => r.json.witnessed)).toEqual([true, true, true]);
    // The witness's size: the head, past the backup's (the restart logged its API keys too).
    const sizeNew = await treeSizeOf(t);
    expect(sizeNew).toBeGreaterThanOrEqual(sizeOld + 3);
    expect(sizeOf(await checkpointOf(t))).toBe(sizeNew);

    // Replaying the old checkpoint is a rollback: refused.
    expect(await witnessCode(w, formatAddCheckpoint({ old: sizeNew, consistencyProof: [], checkpoint: cpOld }))).toBe('400 MALFORMED');
    expect(await witnessCode(w, formatAddCheckpoint({ old: sizeOld, consistencyProof: [], checkpoint: cpOld }))).toBe(`409 ${sizeNew}\n`);

    // The operator restores the backup and serves on: new entries from the backup's size on.
    await t.close({ keepData: true });
    t = await startTestServer(opts, backup);
    const restored = await treeSizeOf(t);
    expect(restored).toBeLessThan(sizeNew);
    const after = await append(t, sizeNew + 2 - restored, 'z');
    // Heads below what the witness saw get 409 ("ahead"); from its size on they do not extend its root (422).
    expect(after.map((r) => r.json.witnessed)).toEqual(new Array(sizeNew + 2 - restored).fill(false));
    expect(await treeSizeOf(t)).toBe(sizeNew + 2);
    // /checkpoint is the last cosigned checkpoint, from the backup.
    const served = await checkpointOf(t);
    expect(sizeOf(served)).toBe(sizeOld);
    expect(rootOf(served)).toBe(rootOf(cpOld));
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
      const base = await treeSizeOf(t);
      const r = await append(t, 2, 'q');
      expect(r.map((x) => [x.status, x.json.witnessed])).toEqual([
        [201, false],
        [201, false],
      ]);
      expect(verifyReceipt(r[1]!.json.tlog_proof, VKEY).index).toBe(base + 1);
    } finally {
      await t.close();
    }
  });
});
