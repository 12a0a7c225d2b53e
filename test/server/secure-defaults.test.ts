/**
 * Secure defaults: loopback bind, private data folder and key files, no
 * token or secret in any log line, security headers on every answer.
 */

import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { get, post, sampleEvent, tempDir } from '../helpers.js';
import { postHead, RawConn } from '../raw-http.js';

const mode = async (p: string) => (await stat(p)).mode & 0o777;

function capture() {
  const lines: string[] = [];
  return { lines, text: () => lines.join(''), logger: (level = 'trace') => createLogger(level, { write: (s: string) => void lines.push(s) }) };
}

/** Raw bytes on a socket; resolves with everything the server sent before closing. */
function raw(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(bytes));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('hang')));
  });
}

describe('secure defaults', () => {
  it('binds 127.0.0.1 unless told otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('creates the data folder 0700 and the key files 0600, and tightens an existing folder', async () => {
    const parent = await tempDir();
    try {
      const fresh = join(parent, 'fresh');
      const log1 = capture();
      let s = await startServer(loadConfig({}, { port: 0, dataDir: fresh, logLevel: 'info' }), { logger: log1.logger('info') });
      expect(s.url.startsWith('http://127.0.0.1:')).toBe(true);
      await s.close();
      expect(await mode(fresh)).toBe(0o700);
      expect(await mode(join(fresh, 'log.key'))).toBe(0o600);
      expect(await mode(join(fresh, 'admin.token'))).toBe(0o600);
      // The first admin token is in its file, never in the log.
      const admin = (await readFile(join(fresh, 'admin.token'), 'utf8')).trim();
      expect(log1.text()).toContain('created the first admin key');
      expect(log1.text()).not.toContain(admin);

      const loose = join(parent, 'loose');
      await mkdir(loose, { mode: 0o755 });
      const log2 = capture();
      s = await startServer(loadConfig({}, { port: 0, dataDir: loose }), { logger: log2.logger('info') });
      await s.close();
      expect(await mode(loose)).toBe(0o700);
      expect(log2.text()).toMatch(/data folder is readable by others/);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('warns when listening on a non-loopback address', async () => {
    const dir = await tempDir();
    const log = capture();
    const s = await startServer(loadConfig({}, { port: 0, host: '0.0.0.0', dataDir: dir }), { logger: log.logger('info') });
    await s.close();
    await rm(dir, { recursive: true, force: true });
    const warn = log.lines.map((l) => JSON.parse(l)).find((l) => l.level === 40 && /non-loopback/.test(l.msg));
    expect(warn).toBeDefined();
    expect(warn.msg).toMatch(/TLS/);
  });
});

describe('no token, secret or personal data in a log line', () => {
  const log = capture();
  let s: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    s = await startServer(loadConfig({}, { port: 0, dataDir: dir, rateAppendKey: '0.001,3' }), { logger: log.logger('trace') });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tokens in headers, bodies and raw requests, secret-looking bodies and personal data never reach the log', async () => {
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const created = await post(`${s.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme', note: 'ci' });
    const agent: string = created.json.token;
    const SECRET = 'sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
    const EMAIL = 'alice.secret@example.com';
    // Successes, every kind of refusal, and a secret-looking body in each.
    await post(`${s.url}/v1/events`, agent, sampleEvent(1, { metadata: { api_key: SECRET } }));
    await post(`${s.url}/v1/events`, agent, `{"metadata":{"k":"${SECRET}"`);
    await post(`${s.url}/v1/events`, agent, { ...sampleEvent(2), pii: { email: { subject: 'alice', value: EMAIL } } });
    await post(`${s.url}/v1/events`, agent, { ...sampleEvent(3), password: SECRET });
    for (let i = 0; i < 4; i++) await post(`${s.url}/v1/events`, agent, sampleEvent(10 + i)); // into 429s
    await post(`${s.url}/v1/events`, `atlk_${SECRET}`, sampleEvent(4));
    await get(`${s.url}/v1/keys?token=${SECRET}`, admin);
    await get(`${s.url}/nope/${SECRET}`, agent);
    await post(`${s.url}/v1/keys/${created.json.id}/rotate`, admin, {});
    // Rejected by the HTTP parser: the client-error log line must not carry the request bytes.
    const answer = await raw(
      s.url,
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    );
    expect(answer).toContain('MALFORMED_REQUEST');
    // A log call that carries request parts anyway is redacted.
    s.logger.warn({ req: { headers: { authorization: `Bearer ${agent}` }, body: SECRET }, token: agent, err: { rawPacket: `Authorization: Bearer ${agent}` } }, 'careless');

    const text = log.text();
    expect(text).toContain('client error');
    expect(text).toContain('careless');
    expect(text).toContain('[redacted]');
    for (const secret of [admin, agent, SECRET, EMAIL, 'alice.secret']) expect(text, secret).not.toContain(secret);
  });
});

describe('security headers on every answer', () => {
  let s: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    // A body budget of 8 MiB: one held batch body of 4 MiB spends the tenant's half.
    s = await startServer(loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', rateReadKey: '0.001,1', bodyBudget: 8 * 1024 * 1024 }));
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const HEADERS: Record<string, string | RegExp> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'cache-control': /./,
  };

  it('successes, errors, 404s, 429s and raw parser answers', async () => {
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const agent = (await s.keys.create({ role: 'agent', tenant: 'acme' })).token;
    const answers: [string, Headers | Record<string, string>, number][] = [];
    const add = async (what: string, p: Promise<{ status: number; headers: Headers }>) => {
      const r = await p;
      answers.push([what, r.headers, r.status]);
    };
    await add('200 checkpoint', get(`${s.url}/checkpoint`));
    await add('201 append', post(`${s.url}/v1/events`, agent, sampleEvent(1)));
    await add('400 bad JSON', post(`${s.url}/v1/events`, agent, '{'));
    await add('401 no token', get(`${s.url}/v1/keys`));
    await add('403 wrong role', get(`${s.url}/v1/keys`, agent));
    await add('404 no route', get(`${s.url}/nope`));
    await add('404 tile', get(`${s.url}/tile/0/999`));
    await add('413 body', post(`${s.url}/v1/events`, agent, 'x'.repeat(300_000)));
    await add('415 type', post(`${s.url}/v1/events`, agent, 'x', { 'content-type': 'text/plain' }));
    await add('422 schema', post(`${s.url}/v1/events`, agent, {}));
    await add('200 keys', get(`${s.url}/v1/keys`, admin));
    await add('429 read limit', get(`${s.url}/v1/keys`, admin));
    // A batch body of the full 4 MiB, declared and held back, takes acme's half of the body budget.
    const held = await RawConn.open(s.url);
    await held.write(postHead('/v1/events/batch', { Authorization: `Bearer ${agent}`, 'Content-Type': 'application/json', 'Content-Length': 4 * 1024 * 1024 }));
    while ((await get(`${s.url}/healthz`)).json.body_bytes === 0) await new Promise((r) => setImmediate(r));
    await add('503 body budget', post(`${s.url}/v1/events`, agent, sampleEvent(2)));
    held.destroy();
    // Each answer has the status its label says.
    expect(answers.map(([, , st]) => st)).toEqual(answers.map(([w]) => Number(w.split(' ')[0])));
    for (const [what, h] of answers)
      for (const [name, want] of Object.entries(HEADERS)) {
        const v = (h as Headers).get(name);
        if (typeof want === 'string') expect(v, `${what}: ${name}`).toBe(want);
        else expect(v, `${what}: ${name}`).toMatch(want);
      }
    const parserAnswer = await raw(s.url, 'GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    expect(parserAnswer).toMatch(/^HTTP\/1\.1 400 /);
    for (const [name, want] of Object.entries(HEADERS)) expect(parserAnswer.toLowerCase()).toMatch(new RegExp(`\\r\\n${name}: ${typeof want === 'string' ? want.toLowerCase().replace(/[()*;']/g, '.') : '.'}`));
  });
});
