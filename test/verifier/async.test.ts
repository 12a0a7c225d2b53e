/** verifyReceiptAsync / verifyCheckpointAsync (WebCrypto Ed25519) agree with the pure-JS path, code for code. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import { ed25519Signer, formatVerifierKey, formatCheckpoint, signNote } from '../../src/note/index.js';
import { verifyCheckpoint, verifyCheckpointAsync, verifyReceipt, verifyReceiptAsync } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

async function outcome(f: () => unknown): Promise<string> {
  try {
    await f();
    return 'OK';
  } catch (e) {
    expect(e).toBeInstanceOf(TlogError);
    return (e as TlogError).code;
  }
}

describe('the WebCrypto path', () => {
  let t: TestServer;
  let vkey: string;
  let proofs: string[];
  beforeAll(async () => {
    t = await startTestServer();
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    proofs = [];
    for (let i = 0; i < 3; i++) proofs.push((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i))).json.tlog_proof);
  });
  afterAll(() => t.close());

  it('is available here (Node ≥ 20 has Ed25519 in WebCrypto)', async () => {
    const k = await globalThis.crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']).catch(() => undefined);
    expect(k).toBeDefined();
  });

  it('verifies real receipts exactly as the synchronous verifier does', async () => {
    for (const p of proofs) {
      const a = await verifyReceiptAsync(p, vkey);
      const b = verifyReceipt(p, vkey);
      expect(a).toEqual(b);
    }
  });

  it('gives the same codes on tampered input', async () => {
    const p = proofs[2]!;
    const sig = p.split('\n').find((l) => l.startsWith('\u2014 '))!;
    const raw = fromBase64(sig.split(' ').pop()!)!;
    const cases: string[] = [];
    for (const at of [4, 20, 40, 67]) {
      const r = raw.slice();
      r[at]! ^= 0x10;
      cases.push(p.replace(sig, `${sig.split(' ').slice(0, -1).join(' ')} ${toBase64(r)}`));
    }
    cases.push(p.replace(sig, `${sig.split(' ').slice(0, -1).join(' ')} ${toBase64(raw.slice(0, 40))}`)); // short signature
    cases.push(p.replace('\nindex 2\n', '\nindex 1\n'));
    cases.push(p.replace(/^extra .*\n/m, ''));
    cases.push('garbage');
    const other = ed25519Signer('test.example/log', new Uint8Array(32).fill(5));
    for (const c of cases) expect(await outcome(() => verifyReceiptAsync(c, vkey)), c.slice(0, 80)).toBe(await outcome(() => verifyReceipt(c, vkey)));
    expect(await outcome(() => verifyReceiptAsync(p, formatVerifierKey(other.name, other.publicKey)))).toBe('UNKNOWN_KEY');
    expect(await outcome(() => verifyReceiptAsync(p, vkey, { origin: 'x.example/log' }))).toBe('WRONG_ORIGIN');
    expect(await outcome(() => verifyReceiptAsync(cases[0]!, vkey))).toBe('BAD_SIGNATURE');
  });

  it('a note with a good and a bad line by the key is refused (every known line must verify)', async () => {
    const s = ed25519Signer('a.example/log', new Uint8Array(32).fill(3));
    const vk = formatVerifierKey(s.name, s.publicKey);
    const note = signNote(formatCheckpoint({ origin: 'a.example/log', treeSize: 3, rootHash: new Uint8Array(32).fill(9), extensions: [] }), [s]);
    expect((await verifyCheckpointAsync(note, vk)).treeSize).toBe(3);
    const line = note.split('\n').find((l) => l.startsWith('\u2014 '))!;
    const bytes = fromBase64(line.split(' ').pop()!)!;
    bytes[30]! ^= 1;
    const doubled = `${note}\u2014 a.example/log ${toBase64(bytes)}\n`;
    expect(await outcome(() => verifyCheckpointAsync(doubled, vk))).toBe('BAD_SIGNATURE');
    expect(await outcome(() => verifyCheckpoint(doubled, vk))).toBe('BAD_SIGNATURE');
  });
});
