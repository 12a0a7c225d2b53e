/**
 * The auditor's commands with a witness policy (`--witness`, `--witness-quorum`) against a real
 * log cosigned by two real witnesses: verify-receipt, proof inclusion|consistency and monitor
 * accept what the policy backs, name the witnesses that cosigned, and fail (exit 1,
 * WITNESS_QUORUM) on what it does not; a policy that cannot be met is a usage error (exit 2).
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Signer, formatSignerKey } from '../../src/note/index.js';
import { get, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { addEvents, allTenantsAuditor, runCli } from '../audit/helpers.js';
import { startTestWitness, type TestWitness } from './helpers.js';

const ORIGIN = 'witnessed.example/cli';
const seed = new Uint8Array(32).fill(7);
let log: TestServer;
let vkey: string;
const witnesses: TestWitness[] = [];
/** A witness that follows the log but is not configured in it, so it never cosigns. */
let stranger: TestWitness;
let work: string;
let receiptFile: string;
let token: string;
const w = (i: number) => witnesses[i]!.w.verifierKey;

beforeAll(async () => {
  work = await tempDir('tlog-wcli-');
  const dir = await tempDir('tlog-wcli-log-');
  await writeFile(join(dir, 'log.key'), formatSignerKey(ORIGIN, seed) + '\n', { mode: 0o600 });
  vkey = ed25519Signer(ORIGIN, seed).verifierKey;
  for (let i = 0; i < 2; i++) witnesses.push(await startTestWitness([vkey], { name: `witness.test/c${i}` }));
  stranger = await startTestWitness([vkey], { name: 'witness.test/stranger' });
  log = await startTestServer({ origin: ORIGIN, witnesses: witnesses.map((x) => `${x.w.verifierKey}@${x.url}`), witnessQuorum: 2, witnessTimeout: 2000 }, dir);
  token = await allTenantsAuditor(log);
  const receipts = await addEvents(log, 20);
  expect(receipts.at(-1).witnessed).toBe(true);
  receiptFile = join(work, 'receipt.json');
  await writeFile(receiptFile, JSON.stringify(receipts.at(-1)));
}, 60_000);
afterAll(async () => {
  await log.close();
  for (const x of [...witnesses, stranger]) await x.close({ wipe: true });
});

describe('verify-receipt --witness', () => {
  it('verifies a cosigned receipt under a 2-of-2 policy (the default quorum is all) and names the witnesses', async () => {
    const r = await runCli(['verify-receipt', receiptFile, '--key', vkey, '--witness', w(0), '--witness', w(1)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).cosigned_by).toEqual(['witness.test/c0', 'witness.test/c1']);
  });

  it('fails with WITNESS_QUORUM when a required witness did not cosign; 1 of (stranger, c0) passes', async () => {
    const s = stranger.w.verifierKey;
    const bad = await runCli(['verify-receipt', receiptFile, '--key', vkey, '--witness', w(0), '--witness', s]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('WITNESS_QUORUM');
    const ok = await runCli(['verify-receipt', receiptFile, '--key', vkey, '--witness', s, '--witness', w(0), '--witness-quorum', '1']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).cosigned_by).toEqual(['witness.test/c0']);
  });

  it('takes a witness key from a file; a policy that cannot be met is a usage error (exit 2)', async () => {
    const f = join(work, 'w1.vkey');
    await writeFile(f, w(1) + '\n');
    const fromFile = await runCli(['verify-receipt', receiptFile, '--key', vkey, '--witness', f]);
    expect(fromFile.code).toBe(0);
    for (const args of [
      ['--witness-quorum', '1'],
      ['--witness', w(0), '--witness-quorum', '2'],
      ['--witness', w(0), '--witness-quorum', '0'],
      ['--witness', 'not-a-key'],
      ['--witness', vkey], // the log's own key: no independent party
      ['--witness', w(0), '--witness', w(0), '--witness-quorum', '2'], // one witness, given twice
    ]) {
      const r = await runCli(['verify-receipt', receiptFile, '--key', vkey, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^agent-tlog: --witness/);
    }
    // A key given twice counts once: the default quorum is then 1, and it is met.
    const twice = await runCli(['verify-receipt', receiptFile, '--key', vkey, '--witness', w(0), '--witness', w(0)]);
    expect(twice.code).toBe(0);
    expect(JSON.parse(twice.stdout).cosigned_by).toEqual(['witness.test/c0']);
    for (const cmd of [['verify-receipt', receiptFile], ['proof', 'inclusion', log.url, '--index', '1'], ['monitor', log.url, '--once']]) {
      const r = await runCli([...cmd, '--key', 'bogus']);
      expect(r.code, cmd[0]).toBe(2);
      expect(r.stderr).toContain('--key: not a key');
    }
  });
});

describe('proof and monitor --witness', () => {
  it('proof inclusion and consistency check the latest checkpoint against the policy', async () => {
    const inc = await runCli(['proof', 'inclusion', log.url, '--key', vkey, '--index', '3', '--witness', w(0), '--witness', w(1)]);
    expect(inc.stderr).toBe('');
    expect(JSON.parse(inc.stdout).cosigned_by).toEqual(['witness.test/c0', 'witness.test/c1']);
    const old = join(work, 'old.checkpoint');
    await writeFile(old, (await get(`${log.url}/checkpoint`)).body);
    await addEvents(log, 5, 100);
    const con = await runCli(['proof', 'consistency', log.url, '--key', vkey, '--old', old, '--witness', w(1)]);
    expect(con.stderr).toBe('');
    expect(JSON.parse(con.stdout)).toMatchObject({ verified: 'consistency', cosigned_by: ['witness.test/c1'] });
    const refused = await runCli(['proof', 'inclusion', log.url, '--key', vkey, '--index', '3', '--witness', stranger.w.verifierKey]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('WITNESS_QUORUM');
  });

  it('monitor --once takes checkpoints the policy backs, and refuses one it does not without saving it', async () => {
    const state = join(work, 'mon.json');
    const ok = await runCli(['monitor', log.url, '--once', '--key', vkey, '--token', token, '--state', state, '--witness', w(0), '--witness', w(1)]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const saved = JSON.parse(await (await import('node:fs/promises')).readFile(state, 'utf8'));
    await addEvents(log, 3, 200);
    const bad = await runCli(['monitor', log.url, '--once', '--key', vkey, '--token', token, '--state', state, '--witness', stranger.w.verifierKey]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('WITNESS_QUORUM');
    expect(JSON.parse(await (await import('node:fs/promises')).readFile(state, 'utf8'))).toEqual(saved);
  });
});
