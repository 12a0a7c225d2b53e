/**
 * An event whose values were sealed and staged for the vault, then refused
 * before its leaf joined the log (here: a leaf over 64 KiB), withdraws them:
 * the subject's lock is released at once, and no later vault write stores
 * them. Real server, real vault.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { del, get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

/** Settles with 'TIMEOUT' if `p` takes longer than `ms`. */
const within = <T>(p: Promise<T>, ms = 5_000) => Promise.race([p, new Promise<'TIMEOUT'>((r) => setTimeout(() => r('TIMEOUT'), ms))]);

describe('values of a refused event', () => {
  let t: TestServer;
  let privacy: string;
  beforeAll(async () => {
    t = await startTestServer({});
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
  });
  afterAll(() => t.close());

  const pii = (who: string, value: string) => ({ pii: { email: { subject: who, value } } });
  const s = 'y'.repeat(16_000);
  /** Valid field by field, but its leaf is over 65,535 bytes. */
  const tooWide = (i: number, who: string) =>
    sampleEvent(i, {
      ...pii(who, `${who}.refused@example.org`),
      metadata: { a: s },
      change: { previous_value: s, proposed_value: s },
      command: { text: s },
      reasoning: { summary: 'z'.repeat(4_000) },
      result: { status: 'success', detail: 'w'.repeat(4_000) },
    });

  it('are never written, even by the next vault write', async () => {
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, pii('cat', 'cat@example.org')))).status).toBe(201);
    const refused = await post(`${t.url}/v1/events`, t.agentToken, tooWide(2, 'cat'));
    expect(refused.status).toBe(413);
    expect(refused.json.error.code).toBe('LEAF_TOO_LARGE');
    // Another subject's event makes the vault write again.
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3, pii('dan', 'dan@example.org')))).status).toBe(201);
    const view = await get(`${t.url}/v1/subjects/cat?purpose=check`, privacy);
    expect(view.status).toBe(200);
    expect(view.json.values.map((v: { value: string }) => v.value)).toEqual(['cat@example.org']);
  });

  it('release the subject at once: its erasure and its next events do not wait', async () => {
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(11, pii('eve', 'eve@example.org')))).status).toBe(201);
    expect((await post(`${t.url}/v1/events`, t.agentToken, tooWide(12, 'eve'))).status).toBe(413);
    // No other vault write happens in between: before the fix, the refused values held
    // eve's lock until one did, and the erasure (and every event about eve behind it) hung.
    const erased = await within(del(`${t.url}/v1/subjects/eve?reason=check`, privacy));
    expect(erased).not.toBe('TIMEOUT');
    expect((erased as { status: number }).status).toBe(200);
    const next = await within(post(`${t.url}/v1/events`, t.agentToken, sampleEvent(13, pii('eve', 'eve.new@example.org'))));
    expect(next).not.toBe('TIMEOUT');
    expect((next as { status: number }).status).toBe(201);
  });
});
