/**
 * The verifier bundle in real Chromium (Debian's `chromium`, driven by
 * playwright-core): a page served from loopback loads it, verifies a real
 * receipt from a running server, and rejects tampered ones with their codes.
 */

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64, toHex } from '../../src/bytes/index.js';
import { agentSignedBytes, signEventAsAgent } from '../../src/events/agent-signature.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { bundleVerifier } from './bundle.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8"><title>verifier</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'">
<script src="/verifier.js"></script>`;

describe('agent-tlog/verifier in Chromium', () => {
  let t: TestServer;
  let web: Server;
  let browser: Browser;
  let page: Page;
  let vkey: string;
  let proof: string;
  let eventId: string;
  let receipt: any;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    t = await startTestServer();
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    for (let i = 0; i < 4; i++) await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i));
    receipt = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(42))).json;
    proof = receipt.tlog_proof;
    eventId = receipt.event_id;

    const { code } = await bundleVerifier('browser', { globalName: 'tlogVerifier' });
    web = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else if (req.url === '/verifier.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(code);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(web.address() as AddressInfo).port}/`);
    expect(errors).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
    await t?.close();
  });

  /** Runs verifyReceipt in the page; returns what it proved, or the error's name and code. */
  const verifyInPage = (p: string, key: string) =>
    page.evaluate(
      ([p, key]) => {
        const v = (globalThis as any).tlogVerifier;
        try {
          const r = v.verifyReceipt(p, key);
          return { ok: true, index: r.index, treeSize: r.checkpoint.treeSize, eventId: r.record.event.event_id, tenant: r.record.tenant };
        } catch (e: any) {
          return { ok: false, name: e.name, code: e.code, isTlogError: e instanceof v.TlogError };
        }
      },
      [p, key] as const,
    );

  it('runs in a page with no Node globals, under a strict CSP', async () => {
    expect(await page.evaluate(() => [typeof (globalThis as any).process, typeof (globalThis as any).Buffer, typeof (globalThis as any).tlogVerifier.verifyReceipt])).toEqual([
      'undefined',
      'undefined',
      'function',
    ]);
  });

  it('verifies a real receipt from the running server', async () => {
    expect(await verifyInPage(proof, vkey)).toEqual({ ok: true, index: receipt.index, treeSize: receipt.tree_size, eventId, tenant: 'acme' });
  });

  it('verifyReceiptAsync uses the page\'s WebCrypto Ed25519 and agrees', async () => {
    const sig = proof.split('\n').find((l) => l.startsWith('\u2014 '))!;
    const raw = fromBase64(sig.split(' ').pop()!)!;
    raw[40]! ^= 1;
    const badSig = proof.replace(sig, `${sig.split(' ').slice(0, -1).join(' ')} ${toBase64(raw)}`);
    const r = await page.evaluate(
      async ([p, bad, key]) => {
        const v = (globalThis as any).tlogVerifier;
        const webCrypto = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']).then(
          () => true,
          () => false,
        );
        const ok = await v.verifyReceiptAsync(p, key);
        const refused = await v.verifyReceiptAsync(bad, key).then(
          () => 'accepted',
          (e: any) => e.code,
        );
        return { webCrypto, index: ok.index, refused };
      },
      [proof, badSig, vkey] as const,
    );
    expect(r).toEqual({ webCrypto: true, index: receipt.index, refused: 'BAD_SIGNATURE' });
  });

  it('rejects a tampered leaf (BAD_PROOF), a tampered signature (BAD_SIGNATURE) and garbage (MALFORMED)', async () => {
    const lines = proof.split('\n');
    const leaf = fromBase64(lines[1]!.slice('extra '.length))!;
    leaf[leaf.length - 3]! ^= 1;
    const badLeaf = [lines[0], `extra ${toBase64(leaf)}`, ...lines.slice(2)].join('\n');
    expect(await verifyInPage(badLeaf, vkey)).toEqual({ ok: false, name: 'TlogError', code: 'BAD_PROOF', isTlogError: true });

    const sig = lines.find((l) => l.startsWith('\u2014 '))!;
    const raw = fromBase64(sig.split(' ').pop()!)!;
    raw[30]! ^= 1;
    const badSig = proof.replace(sig, `${sig.split(' ').slice(0, -1).join(' ')} ${toBase64(raw)}`);
    expect(await verifyInPage(badSig, vkey)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    expect(await verifyInPage('c2sp.org/tlog-proof@v1\nnonsense', vkey)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it('agent signatures: the page signs the same bytes as Node (pure CBOR encoder), and verifies them', async () => {
    // Keys and numbers where a naive encoder would differ: integer-like keys, non-BMP vs U+E000,
    // 2^32 and 2^53 boundaries, floats, -0, a long multi-byte string.
    const event = {
      ...sampleEvent(7),
      event_id: '0192f0c4-1b2c-7d3e-8f40-123456789abc',
      metadata: { '10': 1, '9': [2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, 2 ** 53, 0.1, -0], '\uE000a': 'größe', '😀': 'é'.repeat(200) },
    };
    const seed = new Uint8Array(32).fill(7);
    const node = signEventAsAgent(event, seed);
    const r = await page.evaluate(
      ([ev, seedHex, nodeSigned]) => {
        const v = (globalThis as any).tlogVerifier;
        const seedBytes = new Uint8Array(seedHex.match(/../g)!.map((h: string) => parseInt(h, 16)));
        const signed = v.signEventAsAgent(ev, seedBytes);
        const hex = Array.from(v.agentSignedBytes(ev) as Uint8Array, (b) => b.toString(16).padStart(2, '0')).join('');
        const tampered = { ...nodeSigned, metadata: { ...nodeSigned.metadata, '10': 2 } };
        return {
          hex,
          signature: signed.agent_signature.signature,
          verifiesNode: v.verifyAgentSignature(nodeSigned).publicKey,
          refused: (() => {
            try {
              v.verifyAgentSignature(tampered);
              return 'accepted';
            } catch (e: any) {
              return e.code;
            }
          })(),
        };
      },
      [event, toHex(seed), node] as const,
    );
    expect(r.hex).toBe(toHex(agentSignedBytes(event)));
    expect(r.signature).toBe(node.agent_signature.signature); // Ed25519 is deterministic
    expect(r.verifiesNode).toBe(node.agent_signature.public_key);
    expect(r.refused).toBe('BAD_SIGNATURE');
  });
});
