/** Agent-signed events on a real server, and their offline verification with the verifier library. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/bytes/index.js';
import { assertSignedEventUnaltered, encodeCanonical, uuidv7 } from '../../src/events/index.js';
import { ed25519PublicKey } from '../../src/note/ed25519.js';
import { signEventAsAgent, verifyAgentSignature, verifyReceipt } from '../../src/verifier/index.js';
import { sampleEvent } from '../helpers.js';
import { call, makeKey, startSecServer, type SecServer } from './fixtures.js';

const seed = () => crypto.getRandomValues(new Uint8Array(32));
const event = (i: number, extra: Record<string, unknown> = {}) => ({ event_id: uuidv7(), ...sampleEvent(i), ...extra });

describe('agent-signed events', () => {
  let s: SecServer;
  let vkey: string;
  let agentSeed: Uint8Array;
  let pub: string;
  let signer: { id: string; token: string; json: any };
  let plain: string;

  beforeAll(async () => {
    s = await startSecServer();
    vkey = (await call(s.url, 'get', '/v1/log')).json.verifier_key;
    agentSeed = seed();
    pub = toBase64(ed25519PublicKey(agentSeed));
    signer = await makeKey(s, { role: 'agent', tenant: 'acme', agent_public_key: pub });
    plain = (await makeKey(s, { role: 'agent', tenant: 'acme' })).token;
  });
  afterAll(() => s?.close());

  const send = (token: string, body: unknown) => call(s.url, 'post', '/v1/events', token, body);

  it('registers the public key with the key, as a logged key change', async () => {
    expect(signer.json.agent_public_key).toBe(pub);
    const auditor = (await makeKey(s, { role: 'auditor', tenant: 'acme' })).token;
    const e = await call(s.url, 'get', `/v1/entries/${signer.json.audit.index}`, auditor);
    expect(e.json.record.event.metadata.agent_public_key).toBe(pub);
  });

  it('stores a valid signature in the leaf; the receipt verifies offline, signature included', async () => {
    const signed = signEventAsAgent(event(1), agentSeed);
    const r = await send(signer.token, signed);
    expect(r.status).toBe(201);
    const v = verifyReceipt(r.json.tlog_proof, vkey, { agentKeys: [pub] });
    expect(v.agentSignature).toEqual({ publicKey: pub });
    expect(v.record.event).toEqual(signed);
    // What the agent signed is what is stored: the signed bytes are recomputed from the leaf.
    expect(verifyAgentSignature(v.record.event, { trustedKeys: [pub] }).publicKey).toBe(pub);
    // An untrusted agent key is named as such.
    expect(() => verifyReceipt(r.json.tlog_proof, vkey, { agentKeys: [toBase64(ed25519PublicKey(seed()))] })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_KEY' }),
    );
    // A retry of the same signed event is the same entry.
    const again = await send(signer.token, signed);
    expect(again.status).toBe(200);
    expect(again.json.index).toBe(r.json.index);
  });

  it('accepts a signed event sent as CBOR', async () => {
    const signed = signEventAsAgent(event(2), agentSeed);
    const r = await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signer.token}`, 'content-type': 'application/cbor' },
      body: encodeCanonical(signed) as BodyInit,
    });
    expect(r.status).toBe(201);
  });

  it('rejects forged signatures', async () => {
    const signed = signEventAsAgent(event(3), agentSeed);
    // Content changed after signing.
    const tampered = { ...signed, target: { system: 'erp', resource: 'invoice/999' } };
    const a = await send(signer.token, tampered);
    expect([a.status, a.json.error.code]).toEqual([422, 'BAD_SIGNATURE']);
    // Signed by another key while claiming the registered one.
    const other = signEventAsAgent(event(4), seed());
    const b = await send(signer.token, { ...other, agent_signature: { ...other.agent_signature, public_key: pub } });
    expect([b.status, b.json.error.code]).toEqual([422, 'BAD_SIGNATURE']);
    // Signed by a key that is not registered for this API key.
    const c = await send(signer.token, other);
    expect([c.status, c.json.error.code]).toEqual([422, 'UNKNOWN_KEY']);
    // Nothing of these reached the log: the idempotency slot is still free.
    expect((await send(signer.token, signEventAsAgent({ ...tampered, agent_signature: undefined } as any, agentSeed))).status).toBe(201);
  });

  it('requires a signature from a key with a registered public key, and refuses one from a key without', async () => {
    const a = await send(signer.token, event(5));
    expect([a.status, a.json.error.code]).toEqual([422, 'AGENT_SIGNATURE_REQUIRED']);
    const b = await send(plain, signEventAsAgent(event(6), agentSeed));
    expect([b.status, b.json.error.code]).toEqual([422, 'BAD_SIGNATURE']);
    expect((await send(plain, event(7))).status).toBe(201);
  });

  it('refuses a signed event the server would alter (SIGNED_EVENT_ALTERED)', async () => {
    // No event_id: the server would assign one.
    const { event_id: _, ...noId } = event(8);
    const withoutId = signEventAsAgent({ ...noId, event_id: '' }, agentSeed);
    const a = await send(signer.token, { ...withoutId, event_id: undefined });
    expect([a.status, a.json.error.code]).toEqual([422, 'SIGNED_EVENT_ALTERED']);
    // An upper-case event_id: the server stores ids in lower case.
    const upper = signEventAsAgent({ ...event(9), event_id: uuidv7().toUpperCase() }, agentSeed);
    const b = await send(signer.token, upper);
    expect([b.status, b.json.error.code]).toEqual([422, 'SIGNED_EVENT_ALTERED']);
    // Personal data: it would be moved to the vault.
    const pii = signEventAsAgent(event(10, { pii: { email: { subject: 'alice', value: 'alice@example.com' } } }), agentSeed);
    const c = await send(signer.token, pii);
    expect([c.status, c.json.error.code]).toEqual([422, 'SIGNED_EVENT_ALTERED']);
    expect(c.text).not.toContain('alice@example.com');
    // A secret: scrubbing would change it.
    const secret = signEventAsAgent(event(11, { command: { text: 'deploy --token ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' } }), agentSeed);
    const d = await send(signer.token, secret);
    expect([d.status, d.json.error.code]).toEqual([422, 'SIGNED_EVENT_ALTERED']);
    expect(d.text).not.toContain('a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8');
  });

  it('refuses a signed event with a value at a configured personal-data path', async () => {
    const s2 = await startSecServer({ piiPaths: 'metadata.customer_email' });
    try {
      const k = await makeKey(s2, { role: 'agent', tenant: 'acme', agent_public_key: pub });
      const signed = signEventAsAgent(event(12, { metadata: { customer_email: 'bob@example.com' } }), agentSeed);
      const r = await call(s2.url, 'post', '/v1/events', k.token, signed);
      expect([r.status, r.json.error.code]).toEqual([422, 'SIGNED_EVENT_ALTERED']);
      expect(r.text).not.toContain('bob@example.com');
      // Unsigned, the same event is accepted and the value goes to the vault.
      const plainKey = await makeKey(s2, { role: 'agent', tenant: 'acme' });
      const { agent_signature: _, ...unsigned } = signed as Record<string, unknown>;
      expect((await call(s2.url, 'post', '/v1/events', plainKey.token, unsigned)).status).toBe(201);
    } finally {
      await s2.close();
    }
  });

  it('checks each event of a batch on its own', async () => {
    const good = signEventAsAgent(event(11), agentSeed);
    const forged = { ...signEventAsAgent(event(12), agentSeed), risk: { score: 1 } };
    const r = await call(s.url, 'post', '/v1/events/batch', signer.token, { events: [good, forged, event(13)] });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: any) => x.status)).toEqual([201, 422, 422]);
    expect(r.json.results.map((x: any) => x.error?.code)).toEqual([undefined, 'BAD_SIGNATURE', 'AGENT_SIGNATURE_REQUIRED']);
  });

  it('refuses small-order and non-canonical public keys (they would make forgeries valid)', async () => {
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point: [S]B = R + [k]A holds for R = [S]B and any message
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f; // y = 2^255 - 1 ≥ p
    for (const bad of [identity, nonCanonical]) {
      const r = await call(s.url, 'post', '/v1/keys', s.adminToken, { role: 'agent', tenant: 'acme', agent_public_key: toBase64(bad) });
      expect([r.status, r.json.error.code, r.json.error.issues[0].path]).toEqual([422, 'SCHEMA_VIOLATION', 'agent_public_key']);
    }
  });

  it('rotation can replace or remove the registered key (logged)', async () => {
    const k = await makeKey(s, { role: 'agent', tenant: 'acme', agent_public_key: pub });
    const rot = await call(s.url, 'post', `/v1/keys/${k.id}/rotate`, s.adminToken, { agent_public_key: null, grace_seconds: 0 });
    expect(rot.json.agent_public_key).toBeUndefined();
    expect((await send(rot.json.token, event(14))).status).toBe(201);
    expect((await call(s.url, 'post', '/v1/keys', s.adminToken, { role: 'auditor', tenant: 'acme', agent_public_key: pub })).json.error.code).toBe(
      'SCHEMA_VIOLATION',
    );
  });
});

describe('verifyAgentSignature and assertSignedEventUnaltered', () => {
  const sd = seed();
  const signed = signEventAsAgent(event(1), sd);

  it('detect any change to a signed event', () => {
    expect(verifyAgentSignature(signed).publicKey).toBe(toBase64(ed25519PublicKey(sd)));
    expect(() => verifyAgentSignature({ ...signed, action: { type: 'other' } })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    expect(() => verifyAgentSignature({ ...signed, agent_signature: { ...signed.agent_signature, signature: 'AA==' } })).toThrow(
      expect.objectContaining({ code: 'MALFORMED' }),
    );
    expect(() => verifyAgentSignature(event(2))).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => assertSignedEventUnaltered(signed, { ...signed, pii: undefined, metadata: { scrubbed: true } })).toThrow(
      expect.objectContaining({ code: 'SIGNED_EVENT_ALTERED' }),
    );
    expect(() => assertSignedEventUnaltered(signed, structuredClone(signed))).not.toThrow();
    // Unsigned events may be changed (scrubbed, vaulted) freely.
    expect(() => assertSignedEventUnaltered(event(3), { other: 1 })).not.toThrow();
  });
});
