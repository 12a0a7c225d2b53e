/**
 * Log signing-key rotation end to end: receipts from before, during and after
 * the overlap, verified offline with the verifier library, and the CLI.
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { finishLogKeyRotation, rotateLogKey } from '../../src/log/log-keys.js';
import { parseNote } from '../../src/note/index.js';
import { verifyCheckpoint, verifyCheckpointWithKeys, verifyReceipt, verifyReceiptWithKeys } from '../../src/verifier/index.js';
import { CLI } from '../child.js';
import { sampleEvent } from '../helpers.js';
import { call, makeKey, startSecServer, testClock, type SecServer } from './fixtures.js';

const DAY = 86_400_000;
const ORIGIN = 'sec.example/log';
const run = promisify(execFile);

describe('log signing-key rotation', () => {
  const clock = testClock();
  let s: SecServer | undefined;
  let dataDir: string;
  afterAll(async () => {
    await s?.close();
  });

  const append = async (token: string, i: number) => {
    const r = await call(s!.url, 'post', '/v1/events', token, sampleEvent(i));
    expect(r.status).toBe(201);
    return r.json as { tlog_proof: string; tree_size: number; index: number };
  };
  const checkpoint = async () => (await call(s!.url, 'get', '/checkpoint')).text;
  const bridge = async (from: number) => {
    const cp = await checkpoint();
    const size = verifyCheckpointWithKeys(cp, [newKey]).treeSize;
    const proof = (await call(s!.url, 'get', `/v1/proofs/consistency?from=${from}&to=${size}`)).json.proof.map((b: string) => fromBase64(b)!);
    return { checkpoint: cp, consistencyProof: proof };
  };
  let oldKey: string;
  let newKey: string;

  it('rotates, co-signs during the overlap, and keeps every receipt verifiable', async () => {
    s = await startSecServer({}, { clock });
    dataDir = s.dataDir;
    let agent = (await makeKey(s, { role: 'agent', tenant: 'acme' })).token;
    oldKey = (await call(s.url, 'get', '/v1/log')).json.verifier_key;
    const before = await append(agent, 1);

    // The key cannot be rotated under a running server (LevelDB's lock).
    await expect(rotateLogKey(dataDir, ORIGIN, { overlapMs: 7 * DAY, now: clock.now })).rejects.toMatchObject({ code: 'LOG_UNAVAILABLE' });
    await s.close({ keepData: true });
    const rot = await rotateLogKey(dataDir, ORIGIN, { overlapMs: 7 * DAY, now: clock.now });
    expect(rot.previous).toBe(oldKey);
    newKey = rot.active;
    expect(newKey).not.toBe(oldKey);
    expect(newKey.split('+')[0]).toBe(ORIGIN);
    s = await startSecServer({}, { dataDir, clock });

    // Both keys are published; the active one is the new one.
    const info = (await call(s.url, 'get', '/v1/log')).json;
    expect(info.verifier_key).toBe(newKey);
    expect(info.verifier_keys.map((k: any) => [k.verifier_key, k.status])).toEqual([
      [newKey, 'active'],
      [oldKey, 'previous'],
    ]);
    expect(info.verifier_keys[1].cosign_until).toBe(rot.cosignUntil);

    // The current checkpoint (same tree) is already signed by both keys; so is every new one.
    let cp = await checkpoint();
    expect(parseNote(cp).signatures).toHaveLength(2);
    expect(verifyCheckpoint(cp, oldKey).treeSize).toBe(verifyCheckpoint(cp, newKey).treeSize);
    agent = (await makeKey(s, { role: 'agent', tenant: 'acme' })).token;
    const during = await append(agent, 2);
    expect(verifyReceipt(during.tlog_proof, oldKey).index).toBe(during.index);
    expect(verifyReceipt(during.tlog_proof, newKey).index).toBe(during.index);

    // The receipt from before the rotation: the old key verifies it as it always did …
    expect(verifyReceipt(before.tlog_proof, oldKey).index).toBe(before.index);
    // … the new key alone cannot, but a consistency proof to a new-key checkpoint bridges it.
    expect(() => verifyReceipt(before.tlog_proof, newKey)).toThrow(expect.objectContaining({ code: 'UNKNOWN_KEY' }));
    expect(() => verifyReceiptWithKeys(before.tlog_proof, [newKey])).toThrow(expect.objectContaining({ code: 'UNKNOWN_KEY' }));
    const bridged = verifyReceiptWithKeys(before.tlog_proof, [newKey], { bridge: await bridge(before.tree_size) });
    expect(bridged.index).toBe(before.index);
    expect(bridged.bridgedFrom?.treeSize).toBe(before.tree_size);
    // A bridge with a wrong proof fails.
    const bad = await bridge(before.tree_size);
    bad.consistencyProof[0] = new Uint8Array(32);
    expect(() => verifyReceiptWithKeys(before.tlog_proof, [newKey], { bridge: bad })).toThrow(expect.objectContaining({ code: 'BAD_PROOF' }));

    // A second rotation must wait for the first to finish.
    await s.close({ keepData: true });
    await expect(rotateLogKey(dataDir, ORIGIN, { overlapMs: DAY, now: clock.now })).rejects.toThrow(/--finish/);
    s = await startSecServer({}, { dataDir, clock });

    // After the overlap only the new key signs; earlier checkpoints keep their signatures.
    clock.advance(8 * DAY);
    const after = await append(agent, 3);
    cp = await checkpoint();
    expect(parseNote(cp).signatures).toHaveLength(1);
    expect(() => verifyCheckpoint(cp, oldKey)).toThrow(expect.objectContaining({ code: 'UNKNOWN_KEY' }));
    expect(verifyReceipt(after.tlog_proof, newKey).index).toBe(after.index);
    expect(verifyReceipt(during.tlog_proof, oldKey).index).toBe(during.index);
    expect(verifyReceipt(before.tlog_proof, oldKey).index).toBe(before.index);

    // Finishing deletes the old private key; its verifier key stays published as retired.
    await s.close({ keepData: true });
    await finishLogKeyRotation(dataDir, ORIGIN, { now: clock.now });
    expect(existsSync(join(dataDir, 'log.key.previous'))).toBe(false);
    s = await startSecServer({}, { dataDir, clock });
    const later = (await call(s.url, 'get', '/v1/log')).json;
    expect(later.verifier_keys.map((k: any) => [k.verifier_key, k.status])).toEqual([
      [newKey, 'active'],
      [oldKey, 'retired'],
    ]);
    expect(later.verifier_keys[1].retired_at).toMatch(/^\d{4}-/);
    // Old receipts: still verifiable with the old key offline, and bridged with only the new one.
    expect(verifyReceipt(before.tlog_proof, oldKey).index).toBe(before.index);
    expect(verifyReceiptWithKeys(before.tlog_proof, [newKey], { bridge: await bridge(before.tree_size) }).index).toBe(before.index);
    // A verifier holding both keys needs no bridge.
    expect(verifyReceiptWithKeys(before.tlog_proof, [newKey, oldKey]).index).toBe(before.index);
  });

  it('the CLI rotates and finishes (server stopped), and verify-store accepts the re-signed head', async () => {
    await s!.close({ keepData: true });
    s = undefined;
    const env = { ...process.env, TLOG_ORIGIN: ORIGIN };
    const r = await run(process.execPath, [CLI, 'rotate-log-key', '--data', dataDir, '--overlap-hours', '1'], { env });
    expect(r.stdout).toMatch(/^active: +sec\.example\/log\+[0-9a-f]{8}\+/m);
    expect(r.stdout).toContain(`previous: ${newKey}`);
    const v = await run(process.execPath, [CLI, 'verify-store', '--data', dataDir], { env });
    expect(v.stdout).toContain('ok:');
    const f = await run(process.execPath, [CLI, 'rotate-log-key', '--data', dataDir, '--finish'], { env });
    expect(f.stdout).toContain(`retired: ${newKey}`);
    await expect(run(process.execPath, [CLI, 'rotate-log-key', '--data', dataDir, '--finish'], { env })).rejects.toMatchObject({
      stderr: expect.stringContaining('no rotation to finish'),
    });
    s = await startSecServer({}, { dataDir, clock });
    const keys = (await call(s.url, 'get', '/v1/log')).json.verifier_keys.map((k: any) => k.status);
    expect(keys).toEqual(['active', 'retired', 'retired']);
  });
});

describe('the log key cannot change by accident', () => {
  it('refuses to start when log.key is missing under an existing log (a new key would change its identity)', async () => {
    const s = await startSecServer();
    await s.close({ keepData: true });
    const { rm } = await import('node:fs/promises');
    await rm(join(s.dataDir, 'log.key'));
    await expect(startSecServer({}, { dataDir: s.dataDir })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    // And it does not leave a fresh key behind for the next start to accept.
    expect(existsSync(join(s.dataDir, 'log.key'))).toBe(false);
    await expect(startSecServer({}, { dataDir: s.dataDir })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await rm(s.dataDir, { recursive: true, force: true });
  });
});
