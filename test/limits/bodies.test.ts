/**
 * Request bodies against their limits, over raw sockets (spec/limits.md §3,
 * spec/api.md §1.4): a body too large is refused from its Content-Length
 * before any of it is sent, and a chunked or compressed one as soon as it
 * passes the limit; `100 Continue` only after the checks; the memory budget
 * of bodies being held answers 503 OVERLOADED without reading the body, per
 * tenant and in all, and frees up when the bodies go; the connection limit.
 *
 * "At once" is asserted by what was sent, never by a clock: each answer
 * below arrives while the client still holds back (part of) the body, and
 * the servers' request timeout is far above the test timeout, so a server
 * that waited for the body would fail the test rather than answer late.
 */

import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { postHead, RawConn, type RawAnswer } from '../raw-http.js';

/** No request deadline within a test's lifetime: an answer that waits for the body never comes. */
const PATIENT = { requestTimeout: 3_600_000, headersTimeout: 600_000 };

const EVENT = JSON.stringify(sampleEvent(1));

/** A valid event body of exactly `n` bytes (JSON allows trailing whitespace). */
function eventOfSize(n: number): Buffer {
  const text = JSON.stringify(sampleEvent(n));
  if (text.length > n) throw new Error('too small');
  return Buffer.from(text + ' '.repeat(n - text.length));
}

function expectRefusal(a: RawAnswer, status: number, code: string): void {
  expect(a.status, a.body.toString()).toBe(status);
  expect(a.json.error.code).toBe(code);
  expect(a.headers['connection']).toBe('close');
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  expect(a.headers['x-content-type-options']).toBe('nosniff');
}

const head = (token: string, headers: Record<string, string | number>, path = '/v1/events') =>
  postHead(path, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers });

describe('body size: answered before the body is read', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(PATIENT);
  });
  afterAll(() => t.close());

  it('a Content-Length past the limit, with nothing sent after the headers: 413 and the connection is closed', async () => {
    const c = await RawConn.open(t.url);
    const headBytes = head(t.agentToken, { 'Content-Length': 99_999_999 });
    await c.write(headBytes);
    const a = await c.answer();
    expectRefusal(a, 413, 'BODY_TOO_LARGE');
    await c.closed;
    expect(c.sent).toBe(headBytes.length); // not one byte of the body
  });

  it('the same on the batch route, with its own limit', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { 'Content-Length': 4 * 1024 * 1024 + 1 }, '/v1/events/batch'));
    expectRefusal(await c.answer(), 413, 'BODY_TOO_LARGE');
    await c.closed;
  });

  it('a chunked body is refused as soon as it passes the limit, before its last chunk', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { 'Transfer-Encoding': 'chunked' }));
    // 64 KiB chunks past the 256 KiB limit; the terminating chunk is never sent.
    const chunk = `10000\r\n${' '.repeat(0x10000)}\r\n`;
    for (let i = 0; i < 5; i++) await c.write(chunk);
    expectRefusal(await c.answer(), 413, 'BODY_TOO_LARGE');
    await c.closed;
  });

  it('a compressed body is refused as soon as it inflates past the limit, before its end', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { 'Content-Encoding': 'gzip', 'Content-Length': bomb.length }));
    await c.write(bomb.subarray(0, bomb.length - 16)); // the gzip trailer is held back
    expectRefusal(await c.answer(), 413, 'BODY_TOO_LARGE');
    await c.closed;
  });

  it('gzip, deflate and br bodies are decoded; other encodings are 415 before the body is read', async () => {
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
      ['GZip', gzipSync],
    ] as const) {
      const r = await post(`${t.url}/v1/events`, t.agentToken, compress(Buffer.from(JSON.stringify(sampleEvent(100 + encoding.length)))), { 'content-encoding': encoding });
      expect(r.status, `${encoding}: ${JSON.stringify(r.json)}`).toBe(201);
    }
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { 'Content-Encoding': 'zstd', 'Content-Length': 100 }));
    expectRefusal(await c.answer(), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await c.closed;
  });

  it('Expect: 100-continue within the limit gets 100 Continue before any body byte, then the answer, and the connection stays open', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { Expect: '100-continue', 'Content-Length': EVENT.length }));
    const sentBefore = c.sent;
    const interim = await c.answer();
    expect(interim.status).toBe(100);
    expect(c.sent).toBe(sentBefore);
    await c.write(EVENT);
    const a = await c.answer();
    expect(a.status, a.body.toString()).toBe(201);
    expect(a.headers['connection']).toBe('keep-alive');
    // The same connection carries the next request.
    const again = JSON.stringify(sampleEvent(2));
    await c.write(head(t.agentToken, { 'Content-Length': again.length }) + again);
    expect((await c.answer()).status).toBe(201);
    expect(c.isClosed).toBe(false);
    c.destroy();
  });

  it('Expect: 100-continue past the limit gets 413 and no 100 Continue', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { Expect: '100-continue', 'Content-Length': 99_999_999 }));
    expectRefusal(await c.answer(), 413, 'BODY_TOO_LARGE');
    await c.closed;
  });

  it('Expect: 100-continue with a bad token gets 401 and no 100 Continue, and the connection is closed', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head('atlk_not_a_token', { Expect: '100-continue', 'Content-Length': EVENT.length }));
    expectRefusal(await c.answer(), 401, 'UNAUTHENTICATED');
    await c.closed;
  });

  it('a request pipelined behind a refused body is never handled', async () => {
    const before = t.server.log.head.treeSize;
    const c = await RawConn.open(t.url);
    // A chunked body past the limit, then, on the same connection, a valid append.
    const chunk = `10000\r\n${' '.repeat(0x10000)}\r\n`;
    await c.write(head(t.agentToken, { 'Transfer-Encoding': 'chunked' }) + chunk.repeat(5) + '0\r\n\r\n' + head(t.agentToken, { 'Content-Length': EVENT.length }) + EVENT);
    expectRefusal(await c.answer(), 413, 'BODY_TOO_LARGE');
    await c.closed;
    await expect(c.answer()).rejects.toThrow(/closed/);
    // The server still serves; the pipelined append was not logged.
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3))).json.index).toBe(before);
  });
});

describe('the memory budget of request bodies', () => {
  // Bodies up to 16 KiB, a budget of 64 KiB: one tenant may hold 32 KiB.
  const KIB = 1024;
  let t: TestServer;
  let beta: string;
  let gamma: string;
  beforeAll(async () => {
    t = await startTestServer({ ...PATIENT, maxBody: 16 * KIB, maxBatchBody: 16 * KIB, bodyBudget: 64 * KIB });
    beta = await makeKey(t.url, t.adminToken, 'agent', 'beta');
    gamma = await makeKey(t.url, t.adminToken, 'agent', 'gamma');
  });
  afterAll(() => t.close());

  const bodyBytes = async () => (await get(`${t.url}/healthz`)).json.body_bytes as number;
  /** Waits until the server has seen closed connections give their bytes back (no clock involved: it polls the count). */
  async function untilBodyBytes(n: number): Promise<void> {
    while ((await bodyBytes()) !== n) await new Promise((r) => setImmediate(r));
  }

  /** A 15 KiB event declared in full, of which 1 KiB is sent: the server holds it, waiting for the rest. */
  async function hold(token: string): Promise<{ c: RawConn; body: Buffer }> {
    const body = eventOfSize(15 * KIB);
    const c = await RawConn.open(t.url);
    await c.write(head(token, { 'Content-Length': body.length }));
    await c.write(body.subarray(0, KIB));
    return { c, body };
  }

  it('answers 503 OVERLOADED past a tenant\'s half and past the whole budget, without reading the body; frees up as bodies go', async () => {
    const acme = [await hold(t.agentToken), await hold(t.agentToken)];
    await untilBodyBytes(30 * KIB);

    // A third body of acme would pass its half (45 > 32 KiB): refused from its headers.
    const third = await RawConn.open(t.url);
    const thirdHead = head(t.agentToken, { 'Content-Length': 15 * KIB });
    await third.write(thirdHead);
    const refused = await third.answer();
    expectRefusal(refused, 503, 'OVERLOADED');
    expect(refused.headers['retry-after']).toBe('1');
    await third.closed;
    expect(third.sent).toBe(thirdHead.length);

    // Another tenant still gets its half...
    const betas = [await hold(beta), await hold(beta)];
    await untilBodyBytes(60 * KIB);
    // ...and then the budget is spent for everyone (60 + 15 > 64 KiB).
    const g = await RawConn.open(t.url);
    await g.write(head(gamma, { 'Content-Length': 15 * KIB }));
    expectRefusal(await g.answer(), 503, 'OVERLOADED');
    await g.closed;
    // Small bodies still fit what is left.
    expect((await post(`${t.url}/v1/events`, gamma, sampleEvent(1))).status).toBe(201);

    // A held body, once sent in full, is appended like any other.
    const { c, body } = acme[0]!;
    await c.write(body.subarray(KIB));
    const done = await c.answer();
    expect(done.status, done.body.toString()).toBe(201);
    c.destroy();
    // The others are dropped by their clients: their bytes come back.
    acme[1]!.c.destroy();
    await untilBodyBytes(30 * KIB);
    const again = await hold(t.agentToken);
    await untilBodyBytes(45 * KIB);
    for (const x of [again, ...betas]) x.c.destroy();
    await untilBodyBytes(0);
    // Requests succeed again, the large ones too.
    expect((await post(`${t.url}/v1/events`, t.agentToken, eventOfSize(15 * KIB))).status).toBe(201);
    expect((await post(`${t.url}/v1/events`, gamma, eventOfSize(15 * KIB))).status).toBe(201);
  });

  it('counts a chunked body as it arrives: 503 as soon as it outgrows the tenant\'s half', async () => {
    const held = [await hold(t.agentToken), await hold(t.agentToken)];
    await untilBodyBytes(30 * KIB);
    const c = await RawConn.open(t.url);
    await c.write(head(t.agentToken, { 'Transfer-Encoding': 'chunked' }));
    await c.write(`1000\r\n${' '.repeat(4 * KIB)}\r\n`); // 34 KiB > 32 KiB; no terminating chunk
    expectRefusal(await c.answer(), 503, 'OVERLOADED');
    await c.closed;
    for (const x of held) x.c.destroy();
    await untilBodyBytes(0);
    // Within its half, the same chunked body is read to its end.
    const ok = JSON.stringify(sampleEvent(7));
    const d = await RawConn.open(t.url);
    await d.write(head(t.agentToken, { 'Transfer-Encoding': 'chunked' }) + `${ok.length.toString(16)}\r\n${ok}\r\n0\r\n\r\n`);
    expect((await d.answer()).status).toBe(201);
    d.destroy();
  });

  it('refuses a budget that cannot hold two bodies of the largest limit', () => {
    expect(() => loadConfig({}, { maxBatchBody: 4 * 1024 * 1024, bodyBudget: 8 * 1024 * 1024 - 1 })).toThrow(/TLOG_BODY_BUDGET/);
    expect(loadConfig({ TLOG_BODY_BUDGET: String(8 * 1024 * 1024) }).bodyBudget).toBe(8 * 1024 * 1024);
    expect(loadConfig({}).bodyBudget).toBe(64 * 1024 * 1024);
  });
});

describe('the connection limit', () => {
  let t: TestServer;
  beforeAll(async () => {
    // The helper's own requests (key creation) are done before the limit matters: they close.
    t = await startTestServer({ maxConnections: 2 });
  });
  afterAll(() => t.close());

  async function openAndServe(): Promise<RawConn> {
    const c = await RawConn.open(t.url);
    await c.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    return c;
  }

  it('closes connections past TLOG_MAX_CONNECTIONS at once; a freed slot serves again', async () => {
    // fetch's keep-alive connections from the set-up may still be open: wait until two raw ones are served.
    let open: RawConn[] = [];
    while (open.length < 2) {
      const c = await openAndServe();
      const a = await c.answer().catch(() => undefined);
      if (a?.status === 200) open.push(c);
      else c.destroy();
    }
    const refused = await RawConn.open(t.url);
    await refused.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await refused.closed;
    await expect(refused.answer()).rejects.toThrow(/closed before a whole answer \(0 bytes/);

    open[0]!.destroy();
    open = open.slice(1);
    // Once the server has seen the close, a new connection is served.
    for (;;) {
      const c = await openAndServe();
      const a = await c.answer().catch(() => undefined);
      c.destroy();
      if (a?.status === 200) break;
    }
    open[0]!.destroy();
  });

  it('is configurable and defaults to 4096', () => {
    expect(loadConfig({}).maxConnections).toBe(4096);
    expect(loadConfig({ TLOG_MAX_CONNECTIONS: '10' }).maxConnections).toBe(10);
    expect(() => loadConfig({ TLOG_MAX_CONNECTIONS: '0' })).toThrow(/TLOG_MAX_CONNECTIONS/);
  });
});

describe('bodies whose exchange ends early', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(PATIENT);
  });
  afterAll(() => t.close());

  const bodyBytes = async () => (await get(`${t.url}/healthz`)).json.body_bytes as number;
  async function untilNoBodyBytes(): Promise<void> {
    while ((await bodyBytes()) !== 0) await new Promise((r) => setImmediate(r));
  }

  it('gives a compressed body\'s bytes back when its client resets while it inflates', async () => {
    // 4 MiB of spaces in ~4 KiB of gzip: the body arrives whole at once, then inflates for a while.
    const packed = gzipSync(Buffer.alloc(4 * 1024 * 1024 - 100, 0x20));
    for (let i = 0; i < 5; i++) {
      const c = await RawConn.open(t.url);
      await c.write(head(t.agentToken, { 'Content-Encoding': 'gzip', 'Content-Length': packed.length }, '/v1/events/batch'));
      await c.write(packed);
      c.reset();
    }
    await untilNoBodyBytes();
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1))).status).toBe(201);
  });

  it("gives a pipelined request's bytes back when the connection dies before its answer", async () => {
    const big = eventOfSize(200_000);
    for (let i = 0; i < 3; i++) {
      const c = await RawConn.open(t.url);
      await c.write(head(t.agentToken, { 'Content-Length': EVENT.length }) + EVENT + head(t.agentToken, { 'Content-Length': big.length }));
      await c.write(big);
      c.reset();
    }
    await untilNoBodyBytes();
  });

  it('answers a request pipelined behind a body that arrived whole and failed to decode, on the same connection', async () => {
    const corrupt = Buffer.from('1f8b0800000000000003ffffffff', 'hex');
    const c = await RawConn.open(t.url);
    await c.write(Buffer.concat([Buffer.from(head(t.agentToken, { 'Content-Encoding': 'gzip', 'Content-Length': corrupt.length })), corrupt, Buffer.from(head(t.agentToken, { 'Content-Length': EVENT.length }) + EVENT)]));
    const first = await c.answer();
    expect(first.status).toBe(400);
    expect(first.headers['connection']).toBe('keep-alive');
    const second = await c.answer();
    expect(second.status).toBe(201);
    expect((await get(`${t.url}/v1/entries/${second.json.index}`, t.auditorToken)).status).toBe(200);
    c.destroy();
  });

  it('closes the connection after refusing a request (401) whose large body has not arrived, instead of reading it', async () => {
    const c = await RawConn.open(t.url);
    await c.write(head('atlk_not_a_token', { 'Content-Length': 10_000_000_000 }));
    await c.write(Buffer.alloc(64 * 1024, 0x20));
    const a = await c.answer();
    expect(a.status).toBe(401);
    expect(a.headers['connection']).toBe('close');
    await c.closed;
    // A small body with its headers keeps the connection (a refusal flood must not cost a connection each).
    const d = await RawConn.open(t.url);
    await d.write(head('atlk_not_a_token', { 'Content-Length': EVENT.length }) + EVENT);
    const small = await d.answer();
    expect(small.status).toBe(401);
    expect(small.headers['connection']).toBe('keep-alive');
    d.destroy();
  });
});
