/** The verifier rejects tampered receipts with the right code. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { ed25519Signer, formatVerifierKey } from '../../src/note/index.js';
import { verifyReceipt } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer, errorCode } from '../helpers.js';


describe('verifyReceipt on tampered receipts', () => {
  let t: TestServer;
  let vkey: string;
  let proof: string;
  /** Entries before the test's own: the key.create events of startTestServer's keys. */
  let base: number;
  beforeAll(async () => {
    t = await startTestServer();
    const info = (await get(`${t.url}/v1/log`)).json;
    vkey = info.verifier_key;
    base = info.tree_size;
    for (let i = 0; i < 5; i++) await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i));
    proof = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(9))).json.tlog_proof;
  });
  afterAll(() => t.close());

  it('accepts the genuine receipt', () => {
    expect(verifyReceipt(proof, vkey).index).toBe(base + 5);
  });

  it('a changed leaf byte fails the inclusion proof (BAD_PROOF)', () => {
    const lines = proof.split('\n');
    const leaf = fromBase64(lines[1]!.slice('extra '.length))!;
    leaf[leaf.length - 3]! ^= 1;
    lines[1] = `extra ${toBase64(leaf)}`;
    expect(errorCode(() => verifyReceipt(lines.join('\n'), vkey))).toBe('BAD_PROOF');
  });

  it('a changed proof hash fails (BAD_PROOF); a changed index fails', () => {
    const lines = proof.split('\n');
    const h = fromBase64(lines[3]!)!;
    h[0]! ^= 0x80;
    expect(errorCode(() => verifyReceipt([...lines.slice(0, 3), toBase64(h), ...lines.slice(4)].join('\n'), vkey))).toBe('BAD_PROOF');
    expect(errorCode(() => verifyReceipt(proof.replace(`\nindex ${base + 5}\n`, `\nindex ${base + 4}\n`), vkey))).toBe('BAD_PROOF');
  });

  it('a changed checkpoint root or signature fails (BAD_SIGNATURE)', () => {
    const sigLine = proof.split('\n').find((l) => l.startsWith('— '))!;
    const blob = sigLine.split(' ').pop()!;
    const raw = fromBase64(blob)!;
    raw[10]! ^= 1;
    expect(errorCode(() => verifyReceipt(proof.replace(blob, toBase64(raw)), vkey))).toBe('BAD_SIGNATURE');
  });

  it('another key (UNKNOWN_KEY), another origin (WRONG_ORIGIN), garbage (MALFORMED)', () => {
    const other = ed25519Signer('test.example/log', new Uint8Array(32).fill(7));
    expect(errorCode(() => verifyReceipt(proof, formatVerifierKey(other.name, other.publicKey)))).toBe('UNKNOWN_KEY');
    expect(errorCode(() => verifyReceipt(proof, vkey, { origin: 'elsewhere.example/log' }))).toBe('WRONG_ORIGIN');
    expect(errorCode(() => verifyReceipt('not a proof', vkey))).toBe('MALFORMED');
    expect(errorCode(() => verifyReceipt(proof.replace(/^extra .*\n/m, ''), vkey))).toBe('MALFORMED');
  });
});
