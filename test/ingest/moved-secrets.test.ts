/**
 * A value moved from a configured path is scrubbed where it stood in the
 * request: the rules that read its key and its parents' keys apply to it as
 * they would in place, so a secret reaches neither the leaf nor the vault.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { decodeLeaf } from '../../src/verifier/index.js';
import { get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

describe('secrets in values moved from configured paths', () => {
  let t: TestServer;
  let privacy: string;

  beforeAll(async () => {
    t = await startTestServer({ piiPaths: 'metadata.auth@metadata.uid,metadata.account.password@metadata.account.id,metadata.session.token.hint@metadata.session.user' });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
  });
  afterAll(() => t.close());

  const leafOf = (r: { json: { tlog_proof: string } }) => decodeLeaf(fromBase64(r.json.tlog_proof.split('\n')[1]!.slice('extra '.length))!).event as any;

  it('redacts a moved value by its own key (auth, password) and by a parent key (token), and records it at the path', async () => {
    const r = await post(
      `${t.url}/v1/events`,
      t.agentToken,
      sampleEvent(1, {
        metadata: {
          uid: 'kim-1',
          auth: { user: 'kim', session: 'opaqueSessionSecret99', pin: 1234 },
          account: { id: 'kim-2', password: 'hunter2-but-longer' },
          session: { user: 'kim-3', token: { hint: 'tok-opaque-77f1a9' } },
        },
      }),
    );
    expect(r.status).toBe(201);
    const stored = leafOf(r);
    expect(stored.scrubbed).toEqual([
      { path: 'metadata.account.password', kind: 'password' },
      { path: 'metadata.auth', kind: 'authorization' },
      { path: 'metadata.session.token.hint', kind: 'token' },
    ]);
    const vaulted = async (id: string) => (await get(`${t.url}/v1/subjects/${id}?purpose=check`, privacy)).json.values.map((v: any) => v.value);
    expect(await vaulted('kim-1')).toContainEqual({ user: '[REDACTED:authorization]', session: '[REDACTED:authorization]', pin: '[REDACTED:authorization]' });
    expect(await vaulted('kim-2')).toContain('[REDACTED:password]');
    expect(await vaulted('kim-3')).toContain('[REDACTED:token]');
    const all = JSON.stringify([await vaulted('kim-1'), await vaulted('kim-2'), await vaulted('kim-3')]);
    for (const s of ['opaqueSessionSecret99', 'hunter2-but-longer', 'tok-opaque-77f1a9', '1234']) expect(all).not.toContain(s);
  });

  it('leaves a moved value without secrets as sent', async () => {
    const r = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { metadata: { account: { id: 'lee-1', password: '' } } }));
    expect(r.status).toBe(201);
    expect(leafOf(r).scrubbed).toBeUndefined();
    expect((await get(`${t.url}/v1/subjects/lee-1?purpose=check`, privacy)).json.values.map((v: any) => v.value)).toContain('');
  });
});
