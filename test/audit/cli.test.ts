/** `agent-tlog verify-receipt` and `agent-tlog proof …` as an auditor runs them, against a real server. */

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { get, post, sampleEvent, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { addEvents, runCli } from './helpers.js';

let t: TestServer;
let vkey: string;
let work: string;
let receipt: any;
beforeAll(async () => {
  t = await startTestServer();
  work = await tempDir('tlog-cli-');
  vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
  await addEvents(t, 20);
  receipt = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(77))).json;
});
afterAll(async () => {
  await t.close();
  await rm(work, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const p = join(work, name);
  await writeFile(p, content);
  return p;
}

describe('verify-receipt', () => {
  it('accepts the receipt JSON and the bare tlog-proof, exit 0, and prints the record', async () => {
    for (const f of [await file('r.json', JSON.stringify(receipt)), await file('r.proof', receipt.tlog_proof)]) {
      const r = await runCli(['verify-receipt', f, '--key', vkey]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ index: receipt.index, leaf_hash: receipt.leaf_hash, tree_size: receipt.tree_size, origin: 'test.example/log' });
      expect(out.record).toMatchObject({ v: 1, tenant: 'acme', event: { event_id: receipt.event_id, target: { resource: 'invoice/77' } } });
    }
  });

  it('takes the key from a file or TLOG_VERIFIER_KEY', async () => {
    const f = await file('r2.json', JSON.stringify(receipt));
    expect((await runCli(['verify-receipt', f, '--key', await file('vkey', vkey + '\n')])).code).toBe(0);
    expect((await runCli(['verify-receipt', f], { TLOG_VERIFIER_KEY: vkey })).code).toBe(0);
  });

  it('fails with the reason code: a tampered proof hash, leaf, signature; another origin; garbage', async () => {
    const lines = receipt.tlog_proof.split('\n') as string[];
    const proofLine = lines.findIndex((l, i) => i > 2 && l.length === 44);
    const h = fromBase64(lines[proofLine]!)!;
    h[3]! ^= 1;
    const badProof = [...lines.slice(0, proofLine), toBase64(h), ...lines.slice(proofLine + 1)].join('\n');
    const leaf = fromBase64(lines[1]!.slice('extra '.length))!;
    leaf[leaf.length - 2]! ^= 1;
    const badLeaf = [lines[0], `extra ${toBase64(leaf)}`, ...lines.slice(2)].join('\n');
    const sig = lines.find((l) => l.startsWith('\u2014 '))!;
    const raw = fromBase64(sig.split(' ').pop()!)!;
    raw[20]! ^= 1;
    const badSig = receipt.tlog_proof.replace(sig, `${sig.split(' ').slice(0, -1).join(' ')} ${toBase64(raw)}`);
    const cases: Array<[string, string, string[]]> = [
      ['bad-proof', badProof, []],
      ['bad-leaf', badLeaf, []],
      ['bad-sig', badSig, []],
      ['origin', receipt.tlog_proof, ['--origin', 'other.example/log']],
      ['garbage', '{"tlog_proof": 5}', []],
      ['garbage2', 'hello\n', []],
    ];
    const want = { 'bad-proof': 'BAD_PROOF', 'bad-leaf': 'BAD_PROOF', 'bad-sig': 'BAD_SIGNATURE', origin: 'WRONG_ORIGIN', garbage: 'MALFORMED', garbage2: 'MALFORMED' };
    for (const [name, content, extra] of cases) {
      const r = await runCli(['verify-receipt', await file(name, content), '--key', vkey, ...extra]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toContain(`agent-tlog: ${want[name as keyof typeof want]}:`);
      expect(r.stdout, name).toBe('');
    }
  });

  it('a missing file or key is an operational error (exit 2), not a verification failure', async () => {
    expect((await runCli(['verify-receipt', join(work, 'nope.json'), '--key', vkey])).code).toBe(2);
    expect((await runCli(['verify-receipt', await file('r3.json', JSON.stringify(receipt))], { TLOG_VERIFIER_KEY: '' })).code).toBe(2);
  });
});

describe('proof inclusion | consistency', () => {
  it('inclusion by index and by leaf hash verifies against the signed checkpoint', async () => {
    const byIndex = await runCli(['proof', 'inclusion', t.url, '--key', vkey, '--index', String(receipt.index)]);
    expect(byIndex.stderr).toBe('');
    expect(byIndex.code).toBe(0);
    expect(JSON.parse(byIndex.stdout)).toMatchObject({ verified: 'inclusion', index: receipt.index, leaf_hash: receipt.leaf_hash });
    const byHash = await runCli(['proof', 'inclusion', t.url, '--key', vkey, '--leaf-hash', receipt.leaf_hash]);
    expect(byHash.code).toBe(0);
    expect(JSON.parse(byHash.stdout).index).toBe(receipt.index);
  });

  it('consistency from a saved checkpoint to the latest one', async () => {
    const old = await file('old.checkpoint', new TextDecoder().decode((await get(`${t.url}/checkpoint`)).body));
    await addEvents(t, 30, 200);
    const r = await runCli(['proof', 'consistency', t.url, '--key', vkey, '--old', old]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.to - out.from).toBe(30);
    expect(out.proof.length).toBeGreaterThan(0);
  });

  it('an old checkpoint signed by another key is refused; an unreachable log exits 2', async () => {
    const other = await startTestServer();
    try {
      // Same origin, other key: the old checkpoint does not even verify with this key.
      const foreign = await file('foreign.checkpoint', new TextDecoder().decode((await get(`${other.url}/checkpoint`)).body));
      const r = await runCli(['proof', 'consistency', t.url, '--key', vkey, '--old', foreign]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/UNKNOWN_KEY|BAD_SIGNATURE/);
    } finally {
      await other.close();
    }
    const down = await runCli(['proof', 'inclusion', 'http://127.0.0.1:1', '--key', vkey, '--index', '0']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('LOG_UNREACHABLE');
    expect(await readFile(join(work, 'old.checkpoint'), 'utf8')).toContain('test.example/log\n');
  });
});
