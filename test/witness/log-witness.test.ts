/**
 * A real log with real witnesses on loopback: cosigned checkpoints and receipts,
 * a k-of-n policy, witnesses that are down or hang, a fork (two servers sharing
 * one key) and a rollback (a log restored from a backup).
 */

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/bytes/index.js';
import { cosignatureSigner, ed25519Signer, formatSignerKey, parseCheckpoint, parseNote } from '../../src/note/index.js';
import { verifyReceipt, verifyWitnesses } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, tempDir, type TestServer, errorCode } from '../helpers.js';
import { startTestWitness, type TestWitness } from './helpers.js';

const ORIGIN = 'witnessed.example/log';
const seedOf = (n: number) => new Uint8Array(32).fill(n);

/** A data folder whose log key is known before the server starts (witnesses must be told it). */
async function logDir(seed: Uint8Array): Promise<{ dir: string; vkey: string }> {
  const dir = await tempDir('tlog-wlog-');
  await writeFile(join(dir, 'log.key'), formatSignerKey(ORIGIN, seed) + '\n', { mode: 0o600 });
  return { dir, vkey: ed25519Signer(ORIGIN, seed).verifierKey };
}


const spec = (w: TestWitness) => `${w.w.verifierKey}@${w.url}`;
const cosignatureLines = (note: string) => note.split('\n').filter((l) => l.startsWith('— ') && !l.startsWith(`— ${ORIGIN} `));
const sizeOf = (note: string) => parseCheckpoint(parseNote(note).text).treeSize;
const checkpointOfProof = (tlogProof: string) => tlogProof.slice(tlogProof.indexOf('\n\n') + 2);
/**
 * The log's tree size now. The server logs its own actions (API keys made at
 * start-up are system events), so a test's first entry is not at index 0:
 * sizes are asserted relative to this.
 */
const treeSizeOf = async (t: TestServer): Promise<number> => (await get(`${t.url}/v1/log`)).json.tree_size as number;

describe('a log with a 2-of-3 witness policy', () => {
  let log: TestServer;
  let vkey: string;
  const witnesses: TestWitness[] = [];
  let policy: { keys: string[]; quorum: number };
  let lastCosigned = '';
  let firstEventId = '';
  /** Entries the log held before this block's own appends (its start-up system events). */
  let base = 0;

  beforeAll(async () => {
    const d = await logDir(seedOf(1));
    vkey = d.vkey;
    for (let i = 0; i < 3; i++) witnesses.push(await startTestWitness([vkey], { name: `witness.test/w${i}` }));
    policy = { keys: witnesses.map((w) => w.w.verifierKey), quorum: 2 };
    log = await startTestServer({ origin: ORIGIN, witnesses: witnesses.map(spec), witnessQuorum: 2, witnessTimeout: 2000 }, d.dir);
    base = await treeSizeOf(log);
  });
  afterAll(async () => {
    await log.close();
    for (const w of witnesses) await w.close({ wipe: true });
  });

  it('cosigns each checkpoint as the log grows; receipts carry the cosignatures', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(i));
      expect(r.status).toBe(201);
      expect(r.json.witnessed).toBe(true);
      if (i === 0) firstEventId = r.json.event_id;
      const v = verifyReceipt(r.json.tlog_proof, vkey, { witnesses: policy });
      expect(v.index).toBe(base + i);
      expect(v.checkpoint.treeSize).toBe(base + i + 1);
      expect(v.cosignatures!.length).toBeGreaterThanOrEqual(2);
    }
    const cp = new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body);
    expect(sizeOf(cp)).toBe(base + 4);
    expect(verifyWitnesses(cp, policy).length).toBeGreaterThanOrEqual(2);
    lastCosigned = cp;
    // Each witness that cosigned that size serves it from its monitoring endpoint.
    const hash = createHash('sha256').update(ORIGIN).digest('hex');
    const sizes = await Promise.all(
      witnesses.map(async (w) => {
        const res = await fetch(`${w.url}/${hash}/checkpoint`);
        return res.status === 200 ? sizeOf(await res.text()) : -1;
      }),
    );
    expect(sizes.filter((s) => s === base + 4).length).toBeGreaterThanOrEqual(2);
  });

  it('with one witness down: exactly the two others cosign; a 3-of-3 policy is refused', async () => {
    await witnesses[2]!.close();
    const r = await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(10));
    expect(r.json.witnessed).toBe(true);
    const v = verifyReceipt(r.json.tlog_proof, vkey, { witnesses: policy });
    expect(v.cosignatures!.map((c) => c.name).sort()).toEqual(['witness.test/w0', 'witness.test/w1']);
    expect(cosignatureLines(checkpointOfProof(r.json.tlog_proof))).toHaveLength(2);
    expect(errorCode(() => verifyReceipt(r.json.tlog_proof, vkey, { witnesses: { keys: policy.keys, quorum: 3 } }))).toBe('WITNESS_QUORUM');
    lastCosigned = checkpointOfProof(r.json.tlog_proof);
  });

  it('with two down: appends still succeed, signed by the log alone and marked witnessed: false', async () => {
    await witnesses[1]!.close();
    const r = await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(11));
    expect(r.status).toBe(201);
    expect(r.json.witnessed).toBe(false);
    expect(cosignatureLines(checkpointOfProof(r.json.tlog_proof))).toEqual([]);
    expect(verifyReceipt(r.json.tlog_proof, vkey).index).toBe(base + 5);
    expect(errorCode(() => verifyReceipt(r.json.tlog_proof, vkey, { witnesses: policy }))).toBe('WITNESS_QUORUM');
    // /checkpoint keeps serving the last cosigned checkpoint, behind the tree.
    const cp = new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body);
    expect(cp).toBe(lastCosigned);
    expect(await treeSizeOf(log)).toBe(base + 6);
    // A fresh receipt for an older entry uses the cosigned checkpoint, which covers it.
    const old = await get(`${log.url}/v1/events/${firstEventId}/receipt`, log.agentToken);
    expect(old.json.witnessed).toBe(true);
    expect(old.json.tree_size).toBe(base + 5);
    expect(verifyReceipt(old.json.tlog_proof, vkey, { witnesses: policy }).index).toBe(base);
  });

  it('when the witnesses come back, the next round cosigns the whole tree, earlier entries included', async () => {
    witnesses[1] = await startTestWitness([vkey], { name: 'witness.test/w1', dataDir: witnesses[1]!.dataDir, port: Number(new URL(witnesses[1]!.url).port) });
    // With no append at all, the log retries the head it could not get cosigned: /checkpoint catches up.
    let cp = '';
    for (let i = 0; i < 100 && sizeOf(cp || lastCosigned) < base + 6; i++) {
      await new Promise((r) => setTimeout(r, 200));
      cp = new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body);
    }
    expect(sizeOf(cp)).toBe(base + 6);
    expect(verifyWitnesses(cp, policy).length).toBeGreaterThanOrEqual(2);
    const r = await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(12));
    expect(r.json.witnessed).toBe(true);
    expect(verifyReceipt(r.json.tlog_proof, vkey, { witnesses: policy }).checkpoint.treeSize).toBe(base + 7);
    const eventId = (await post(`${log.url}/v1/events`, log.agentToken, { ...sampleEvent(13), event_id: '01234567-89ab-7def-8123-456789abcdef' })).json.event_id;
    const again = await get(`${log.url}/v1/events/${eventId}/receipt`, log.agentToken);
    expect(again.json.witnessed).toBe(true);
    verifyReceipt(again.json.tlog_proof, vkey, { witnesses: policy });
  });
});

describe('restarting a log with witnesses', () => {
  it('serves the saved cosigned checkpoint at once, unless the configured policy no longer backs it', async () => {
    const d = await logDir(seedOf(7));
    const w = await startTestWitness([d.vkey], { name: 'witness.test/r' });
    const opts = { origin: ORIGIN, witnesses: [spec(w)], witnessTimeout: 1000 };
    let log = await startTestServer(opts, d.dir);
    for (let i = 0; i < 2; i++) expect((await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(i))).json.witnessed).toBe(true);
    const cosigned = new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body);
    expect(cosignatureLines(cosigned)).toHaveLength(1);
    await log.close({ keepData: true });
    await w.close({ wipe: true });

    // Same policy, witness down: the saved checkpoint is served as it was.
    log = await startTestServer(opts, d.dir);
    expect(new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body)).toBe(cosigned);
    await log.close({ keepData: true });

    // Another witness configured (also down): the saved checkpoint does not meet it, so the log-signed head is served.
    // (The head is past the saved checkpoint: each start-up logged its API keys.)
    const other = `${cosignatureSigner('witness.test/other', seedOf(9), () => 0).verifierKey}@${w.url}`;
    log = await startTestServer({ ...opts, witnesses: [other] }, d.dir);
    try {
      const cp = new TextDecoder().decode((await get(`${log.url}/checkpoint`)).body);
      const head = (await get(`${log.url}/v1/log`)).json;
      expect(sizeOf(cp)).toBe(head.tree_size);
      expect(toBase64(parseCheckpoint(parseNote(cp).text).rootHash)).toBe(head.root_hash);
      expect(sizeOf(cp)).toBeGreaterThan(sizeOf(cosigned));
      expect(cosignatureLines(cp)).toEqual([]);
    } finally {
      await log.close();
    }
  });
});

describe('a witness configured with the wrong key', () => {
  it('its cosignatures are not accepted: the log checks every line against the configured key', async () => {
    const d = await logDir(seedOf(11));
    const w = await startTestWitness([d.vkey], { name: 'witness.test/k' });
    // Same name, another key: the answer's line has another key ID and does not count.
    const wrong = cosignatureSigner('witness.test/k', seedOf(12), () => 0).verifierKey;
    const log = await startTestServer({ origin: ORIGIN, witnesses: [`${wrong}@${w.url}`], witnessTimeout: 1000 }, d.dir);
    try {
      const r = await post(`${log.url}/v1/events`, log.agentToken, sampleEvent(1));
      expect(r.status).toBe(201);
      expect(r.json.witnessed).toBe(false);
      expect(r.json.tree_size).toBe(await treeSizeOf(log));
      // The witness did cosign (its state moved on to the log's head); the log just did not accept the line.
      const hash = createHash('sha256').update(ORIGIN).digest('hex');
      expect(sizeOf(await (await fetch(`${w.url}/${hash}/checkpoint`)).text())).toBe(r.json.tree_size);
    } finally {
      await log.close();
      await w.close({ wipe: true });
    }
  });
});
