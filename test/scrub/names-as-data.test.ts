// Names given as data and the key rules added after review: header pair lists and Node's
// rawHeaders are read like name/value objects; pin, otp, jwt, bearer, account keys and Rails'
// secret_key_base are secret keys; `signature` and `session_id` are not (the server stores and
// validates its own fields of those names). Every case is idempotent.
import { describe, expect, it } from 'vitest';
import { signEventAsAgent } from '../../src/events/index.js';
import { compileRules, scrubEvent, scrubText } from '../../src/scrub/index.js';

const rules = compileRules();

/** Scrubs `metadata` twice: the second scrub changes nothing and reports nothing. */
function scrubMeta(metadata: Record<string, unknown>) {
  const r = scrubEvent({ metadata }, rules);
  const again = scrubEvent(r.event, rules);
  expect(again.event).toEqual(r.event);
  expect(again.scrubbed).toEqual([]);
  return { metadata: r.event.metadata, scrubbed: r.scrubbed };
}

describe('header pair lists and raw headers', () => {
  it('redacts the value of a [name, value] pair whose name is a secret key, in a list of pairs', () => {
    const r = scrubMeta({
      request: { headers: [['Authorization', 'opaqueSecretValue123'], ['x-api-key', 'opaqueApiKey456'], ['Accept', 'text/html']] },
      entries: [['db_password', 1234], ['user', 'bob']],
      one: [['Cookie', 'sid=abc']],
    });
    expect(r.metadata).toEqual({
      request: { headers: [['Authorization', '[REDACTED:authorization]'], ['x-api-key', '[REDACTED:api_key]'], ['Accept', 'text/html']] },
      entries: [['db_password', '[REDACTED:password]'], ['user', 'bob']],
      one: [['Cookie', '[REDACTED:cookie]']],
    });
    expect(r.scrubbed).toEqual([
      { path: 'metadata.request.headers[0][1]', kind: 'authorization' },
      { path: 'metadata.request.headers[1][1]', kind: 'api_key' },
      { path: 'metadata.entries[0][1]', kind: 'password' },
      { path: 'metadata.one[0][1]', kind: 'cookie' },
    ]);
  });

  it("redacts the values of Node's flat rawHeaders whose names are secret keys", () => {
    const r = scrubMeta({
      rawHeaders: ['Host', 'api.example.com', 'Authorization', 'opaqueSecretValue789', 'X-Auth-Token', 'tok1'],
      res: { rawTrailers: ['Set-Cookie', 'sid=1'] },
    });
    expect(r.metadata).toEqual({
      rawHeaders: ['Host', 'api.example.com', 'Authorization', '[REDACTED:authorization]', 'X-Auth-Token', '[REDACTED:token]'],
      res: { rawTrailers: ['Set-Cookie', '[REDACTED:cookie]'] },
    });
    expect(r.scrubbed.map((e) => e.path)).toEqual(['metadata.rawHeaders[3]', 'metadata.rawHeaders[5]', 'metadata.res.rawTrailers[1]']);
  });

  it('redacts after every secret name in a malformed rawHeaders list (odd length, a null, a number), whatever the pairing', () => {
    const r = scrubMeta({
      odd: { rawHeaders: ['Authorization', 'opaqueSecretValue789', 'Host'] },
      shifted: { rawHeaders: ['Host', null, 'X-Api-Key', 'k3yMaterial', 'Accept', '*/*'] },
      cut: { rawHeaders: ['Accept', '*/*', 'Cookie', 4242, 'Authorization'] },
      gap: { rawHeaders: ['Authorization', null, 'opaqueSecretValue789'] },
      gaps: { rawHeaders: ['Host', 'h', 'X-Api-Key', null, 7, 'k3yMaterialOpaque123', 'Accept'] },
    });
    expect(r.metadata).toEqual({
      odd: { rawHeaders: ['Authorization', '[REDACTED:authorization]', 'Host'] },
      shifted: { rawHeaders: ['Host', null, 'X-Api-Key', '[REDACTED:api_key]', 'Accept', '*/*'] },
      cut: { rawHeaders: ['Accept', '*/*', 'Cookie', '[REDACTED:cookie]', '[REDACTED:cookie]'] },
      gap: { rawHeaders: ['Authorization', null, '[REDACTED:authorization]'] },
      gaps: { rawHeaders: ['Host', 'h', 'X-Api-Key', null, '[REDACTED:api_key]', '[REDACTED:api_key]', 'Accept'] },
    });
  });

  it('leaves ordinary string arrays, pairs of other names and lists of header names alone', () => {
    const metadata = {
      columns: ['id', 'email', 'password', 'role'],
      required: ['password', 'email'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      cors: { exposed_headers: ['X-Api-Key', 'X-Request-Id'] },
      rawHeaders: ['Host', 'api.example.com', 'Accept', '*/*'],
      // Read in pairs: a value naming a secret header does not take the next name with it.
      preflight: { rawHeaders: ['Access-Control-Request-Headers', 'authorization', 'Host', 'api.example.com'] },
      points: [['2026-01', 5], ['2026-02', 6]],
      env: [['LOG_LEVEL', 'debug'], ['password']],
    };
    const r = scrubMeta(metadata);
    expect(r.metadata).toEqual(metadata);
    expect(r.scrubbed).toEqual([]);
  });

  it('still reads a pair that names no secret as a command line', () => {
    const r = scrubMeta({ pairs: [['LOG_LEVEL', 'debug'], ['mysql', '-pS3cret']] });
    expect(r.metadata).toEqual({ pairs: [['LOG_LEVEL', 'debug'], ['mysql', '-p[REDACTED:password]']] });
  });

  it('reads nested values under a secret pair name whole, as under a key', () => {
    const r = scrubMeta({ headers: [['authorization', { scheme: 'Bearer', value: 'abc', n: 1, ok: true }]] });
    expect(r.metadata).toEqual({ headers: [['authorization', { scheme: '[REDACTED:authorization]', value: '[REDACTED:authorization]', n: '[REDACTED:authorization]', ok: true }]] });
  });
});

describe('key rules added after review', () => {
  it('redacts pin, otp, jwt, bearer, account keys and secret_key_base; exact names only for pin and otp', () => {
    const r = scrubMeta({
      pin: 1234,
      PIN: '0000',
      pin_code: '9999',
      otp: '123456',
      totp: 654321,
      otp_code: '111111',
      jwt: 'opaque-jwt-value',
      bearer: 'bearerval123',
      AccountKey: 'YWNjb3VudGtleQ==',
      SharedAccessKey: 'c2hhcmVk',
      storage: { azure_storage_account_key: 'a2V5' },
      secret_key_base: 'abcdef0123456789',
    });
    expect(r.metadata).toEqual({
      pin: '[REDACTED:pin]',
      PIN: '[REDACTED:pin]',
      pin_code: '[REDACTED:pin]',
      otp: '[REDACTED:otp]',
      totp: '[REDACTED:otp]',
      otp_code: '[REDACTED:otp]',
      jwt: '[REDACTED:jwt]',
      bearer: '[REDACTED:bearer_token]',
      AccountKey: '[REDACTED:azure_key]',
      SharedAccessKey: '[REDACTED:azure_key]',
      storage: { azure_storage_account_key: '[REDACTED:azure_key]' },
      secret_key_base: '[REDACTED:secret]',
    });
  });

  it('keeps counts, flags and the names the server uses: pin_count, otp_enabled, signature, session_id', () => {
    const metadata = {
      pin_count: 3,
      pinned: true,
      spin: 'fast',
      pin: true,
      otp_enabled: false,
      otp_required: true,
      otp: null,
      use_jwt: true,
      jwt_issuer: 'https://issuer.example.com',
      bearer_format: 'JWT',
      signature: 'c2lnbmF0dXJl',
      signature_verified: true,
      session_id: 'sess-7f3a9c',
      account_key_id: 'k-1',
    };
    const r = scrubMeta(metadata);
    expect(r.metadata).toEqual(metadata);
    expect(r.scrubbed).toEqual([]);
  });

  it("does not touch an agent-signed event's agent_signature or its session_id", () => {
    const seed = new Uint8Array(32).fill(7);
    const event = signEventAsAgent(
      {
        event_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        session_id: 'sess-7f3a9c',
        actor: { type: 'agent', id: 'a' },
        action: { type: 'tool.call' },
        metadata: { signature_verified: true },
      },
      seed,
    );
    const r = scrubEvent(event, rules);
    expect(r.event).toEqual(event);
    expect(r.scrubbed).toEqual([]);
  });
});

describe('text shapes added after review', () => {
  it.each([
    // Azure: connection strings, az's flag, the environment; the key names stay.
    ['AccountKey=Zm9vYmFy+/YmF6cQ==;EndpointSuffix=core.windows.net', 'AccountKey=[REDACTED:azure_key];EndpointSuffix=core.windows.net'],
    ['SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abcDEF123+/xyz=', 'SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[REDACTED:azure_key]'],
    ['AZURE_STORAGE_KEY=Zm9vYmFyYmF6 az storage ls', 'AZURE_STORAGE_KEY=[REDACTED:azure_key] az storage ls'],
    // Pre-signed URLs: also after a JSON-escaped & (Go's encoder writes \u0026) and &amp;.
    ['{"u":"https://a.blob.core.windows.net/c?sv=1\\u0026sig=AbCdEf\\u0026se=2"}', '{"u":"https://a.blob.core.windows.net/c?sv=1\\u0026sig=[REDACTED:url_signature]\\u0026se=2"}'],
    ['<a href="https://x/c?sv=1&amp;sig=AbCd%2B&amp;se=2">', '<a href="https://x/c?sv=1&amp;sig=[REDACTED:url_signature]&amp;se=2">'],
    ['https://s.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=0a1b2c3d', 'https://s.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=[REDACTED:url_signature]'],
    // A ya29 token ends before a sentence's dot.
    ['gcloud printed ya29.a0AfH6SMBxAbCdEfGhIjKlMnOp0123. Next', 'gcloud printed [REDACTED:google_oauth_token]. Next'],
    // A PuTTY key cut off before its MAC goes to the end; v1 files end with Private-Hash.
    ['Public-Lines: 1\nAAAA\nPrivate-Lines: 2\nAAAAIFake0123\nAAAA', 'Public-Lines: 1\nAAAA\n[REDACTED:private_key]'],
    ['Private-Lines: 1\nAAAAIFake0123\nPrivate-Hash: 0a1b\nafter', '[REDACTED:private_key]\nafter'],
    // .netrc: default entries, quoted values, port and account tokens, JSON-escaped line breaks.
    ['default login anonymous password me@example.com', 'default login anonymous password [REDACTED:password]'],
    ['machine h.example login u port 21 account a password "two words"', 'machine h.example login u port 21 account a password "[REDACTED:password]"'],
    ['{"netrc":"machine h\\n login u\\n password s3cr3t\\nmachine x"}', '{"netrc":"machine h\\n login u\\n password [REDACTED:password]\\nmachine x"}'],
    // Docker's auth in JSON text escaped once more; a GitHub token as user info keeps its own kind.
    ['{\\"auths\\":{\\"r\\":{\\"auth\\":\\"dXNlcjpwYXNz\\"}}}', '{\\"auths\\":{\\"r\\":{\\"auth\\":\\"[REDACTED:basic_auth]\\"}}}'],
    ['https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/o/r', 'https://[REDACTED:github_token]@github.com/o/r'],
    ['{"url":"https:\\/\\/abcdef0123456789abcdef01@git.example.com\\/r"}', '{"url":"https:\\/\\/[REDACTED:url_token]@git.example.com\\/r"}'],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
    expect(scrubText(out, rules)).toBe(out);
  });
});
