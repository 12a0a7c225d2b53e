/** `agent-tlog verify-receipt` and `agent-tlog proof …` as an auditor runs them, against a real server. */

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { ed25519Signer, formatCheckpoint, formatTlogProof, parseTlogProof, signNote } from '../../src/note/index.js';
import { hasher } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { addEvents, evilProxy, runCli } from './helpers.js';

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

  it("a receipt JSON's own labels must match its proof, as on an NDJSON line (exit 1, BAD_PROOF)", async () => {
    const other = (await addEvents(t, 1, 900))[0];
    const lies: Array<[string, unknown]> = [
      ['index', other.index],
      ['leaf_hash', other.leaf_hash],
      ['event_id', other.event_id],
      ['logged_at', receipt.logged_at + 1],
      ['tree_size', receipt.tree_size + 1],
    ];
    for (const [k, v] of lies) {
      const r = await runCli(['verify-receipt', await file(`lie-${k}.json`, JSON.stringify({ ...receipt, [k]: v })), '--key', vkey]);
      expect(r.stdout, k).toBe('');
      expect(r.code, k).toBe(1);
      expect(r.stderr, k).toContain(`BAD_PROOF: the receipt's ${k}`);
    }
  });

  it('a --key that is a verifier key is never read as a file, even when a file of that name exists (a planted key)', async () => {
    // An unpacked archive puts, at the relative path spelled by the real key, a file holding the attacker's key,
    // and a receipt the attacker signed. Run from that folder, the real key must stay the key.
    const dir = join(work, 'archive');
    const attacker = ed25519Signer('test.example/log', new Uint8Array(32).fill(13));
    // The trusted key is a fixed one here: the server's own is random, and one ending in "/" names a folder, not a file.
    const vkey = ed25519Signer('test.example/log', new Uint8Array(32).fill(12)).verifierKey;
    expect(vkey.endsWith('/')).toBe(false);
    await mkdir(dirname(join(dir, vkey)), { recursive: true });
    await writeFile(join(dir, vkey), attacker.verifierKey + '\n');
    const leaf = parseTlogProof(receipt.tlog_proof).extra!;
    const cp = signNote(formatCheckpoint({ origin: 'test.example/log', treeSize: 1, rootHash: hasher.hashLeaf(leaf), extensions: [] }), [attacker]);
    await writeFile(join(dir, 'forged.proof'), formatTlogProof({ extra: leaf, index: 0, inclusionProof: [], checkpoint: cp }));
    const r = await runCli(['verify-receipt', 'forged.proof', '--key', vkey], {}, { cwd: dir });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UNKNOWN_KEY');
    // The same for TLOG_VERIFIER_KEY. A path that is not a key string is still read as a file (here: the attacker's key, named on purpose).
    expect((await runCli(['verify-receipt', 'forged.proof'], { TLOG_VERIFIER_KEY: vkey }, { cwd: dir })).code).toBe(1);
    expect((await runCli(['verify-receipt', 'forged.proof', '--key', join(dir, vkey)], {}, { cwd: dir })).code).toBe(0);
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

describe('a log that answers another question', () => {
  it('proof inclusion --index N fails (BAD_PROOF, exit 1) when the log proves another entry', async () => {
    const proxy = await evilProxy(t.url, (p) => (p.startsWith('/v1/proofs/inclusion') ? p.replace(/index=\d+/, 'index=3') : p));
    try {
      const r = await runCli(['proof', 'inclusion', proxy.url, '--key', vkey, '--index', String(receipt.index)]);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`BAD_PROOF: inclusion proof: asked for entry ${receipt.index}, the log answered for entry 3`);
      // Asked for entry 3 itself, the same answer is right.
      expect((await runCli(['proof', 'inclusion', proxy.url, '--key', vkey, '--index', '3'])).code).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});

describe('a log that serves a mended checkpoint', () => {
  it('a checkpoint with a byte-order mark, or invalid UTF-8, is refused (strict note decoding), not mended into a note', async () => {
    for (const [name, mend, want] of [
      // Kept, the mark is part of the origin line.
      ['bom', (b: Buffer) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]), /WRONG_ORIGIN/],
      ['bad utf-8', (b: Buffer) => Buffer.concat([b.subarray(0, 5), Buffer.from([0xff]), b.subarray(5)]), /MALFORMED: malformed note: not valid UTF-8/],
    ] as const) {
      const proxy = await evilProxy(t.url, (p) => p, (p, b) => (p === '/checkpoint' ? mend(b) : b));
      try {
        const r = await runCli(['proof', 'inclusion', proxy.url, '--key', vkey, '--index', '0']);
        expect(r.code, name).toBe(1);
        expect(r.stderr, name).toMatch(want);
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('what auditors trip over', () => {
  it('a bare proof saved with a trailing blank line (jq -r) still verifies; nothing signed changes', async () => {
    const r = await runCli(['verify-receipt', await file('nl.proof', receipt.tlog_proof + '\n'), '--key', vkey]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).index).toBe(receipt.index);
  });

  it('verifies an export --proofs NDJSON file line by line; a line whose labels lie, or whose proof is bad, fails with its line number', async () => {
    const rs = await addEvents(t, 3, 500);
    const lines = rs.map((x: any) => JSON.stringify({ index: x.index, leaf_hash: x.leaf_hash, event_id: x.event_id, tlog_proof: x.tlog_proof }));
    const ok = await runCli(['verify-receipt', await file('p.ndjson', lines.join('\n') + '\n'), '--key', vkey]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ verified: 3, first_index: rs[0].index, last_index: rs[2].index });
    // The second line claims another entry's index: its proof is fine, its label is not.
    const lying = [lines[0], lines[1]!.replace(`"index":${rs[1].index}`, `"index":${rs[0].index}`), lines[2]].join('\n');
    const bad = await runCli(['verify-receipt', await file('lie.ndjson', lying), '--key', vkey]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/BAD_PROOF: line 2: /);
    const other = JSON.parse(lines[2]!);
    other.event_id = rs[0].event_id;
    const wrongId = await runCli(['verify-receipt', await file('id.ndjson', [lines[0], lines[1], JSON.stringify(other)].join('\n')), '--key', vkey]);
    expect(wrongId.code).toBe(1);
    expect(wrongId.stderr).toMatch(/BAD_PROOF: line 3: /);
    const tampered = JSON.parse(lines[0]!);
    tampered.tlog_proof = tampered.tlog_proof.replace(/\n([A-Za-z0-9+/]{10})/, (_m: string, h: string) => `\n${h.startsWith('A') ? 'B' : 'A'}${h.slice(1)}`);
    const broken = await runCli(['verify-receipt', await file('bad.ndjson', [JSON.stringify(tampered), lines[1]].join('\n')), '--key', vkey]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/line 1: /);
  });

  it("an error answer is reported with the log's own code and message, not only its status", async () => {
    const r = await runCli(['proof', 'inclusion', t.url, '--key', vkey, '--index', '999999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HTTP 400 INVALID_PARAMETER: index 999999 is not below tree_size \d+/);
  });

  it('proof commands take --token (TLOG_TOKEN) for a log whose public reads need one', async () => {
    const closed = await startTestServer({ publicReadsNeedToken: true });
    try {
      const key = (await get(`${closed.url}/v1/log`, closed.auditorToken)).json.verifier_key;
      const without = await runCli(['proof', 'inclusion', closed.url, '--key', key, '--index', '0']);
      expect(without.code).toBe(2);
      expect(without.stderr).toMatch(/HTTP 401 UNAUTHENTICATED/);
      const flag = await runCli(['proof', 'inclusion', closed.url, '--key', key, '--index', '0', '--token', closed.auditorToken]);
      expect(flag.stderr).toBe('');
      expect(JSON.parse(flag.stdout).verified).toBe('inclusion');
      const env = await runCli(['proof', 'inclusion', closed.url, '--key', key, '--index', '0'], { TLOG_TOKEN: closed.auditorToken });
      expect(env.code).toBe(0);
    } finally {
      await closed.close();
    }
  });

  it('verify-store on a folder a running server holds says so', async () => {
    const r = await runCli(['verify-store', '--data', t.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is in use by another process (a running server?): stop it first');
  });
});
