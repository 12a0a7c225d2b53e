/**
 * Agent-signed events (non-repudiation). An agent whose API key has a
 * registered Ed25519 public key signs each event; the server verifies the
 * signature and stores it in the event, so the leaf proves the agent sent
 * exactly this event — even the log operator cannot forge one.
 *
 * What is signed (spec/events.md §1.6):
 *
 *     "agent-tlog/agent-signature/v1\n" ‖ canonicalCBOR(event without agent_signature)
 *
 * The context prefix keeps the signature from being valid in any other
 * protocol that signs raw CBOR with the same key.
 *
 * Design rule: what the agent signs is what is stored. The server must never
 * change a signed event (assign an event_id, lowercase it, scrub a secret,
 * move `pii` to the vault); it refuses the event instead
 * ({@link assertSignedEventUnaltered}, 422 SIGNED_EVENT_ALTERED).
 *
 * Pure and browser-safe: the verifier library uses it.
 */

import { bytesEqual, fromBase64, toBase64, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from '../note/ed25519.js';
import { encodeCanonical } from './cbor-encode.js';
import { isPlainObject } from './json.js';
import type { AgentSignature } from './schema.js';

export const AGENT_SIGNATURE_CONTEXT = 'agent-tlog/agent-signature/v1\n';
const CONTEXT = utf8(AGENT_SIGNATURE_CONTEXT);

/** The event's fields other than agent_signature (a shallow copy). */
function unsigned(event: Record<string, unknown>): Record<string, unknown> {
  const { agent_signature: _, ...rest } = event;
  return rest;
}

/**
 * The bytes an agent signs for `event` (its agent_signature, if any, left out).
 * @throws TypeError if the event is outside the JSON data model (see encodeCanonical).
 */
export function agentSignedBytes(event: object): Uint8Array {
  const body = encodeCanonical(unsigned(event as Record<string, unknown>));
  const out = new Uint8Array(CONTEXT.length + body.length);
  out.set(CONTEXT, 0);
  out.set(body, CONTEXT.length);
  return out;
}

/**
 * Signs an event as an agent: returns the event with `agent_signature` set.
 * The event must already carry its `event_id` (in lowercase): the server
 * refuses to assign or change anything in a signed event.
 */
export function signEventAsAgent<E extends { event_id: string }>(event: E, seed: Uint8Array): E & { agent_signature: AgentSignature } {
  const signature = ed25519Sign(agentSignedBytes(event), seed);
  return {
    ...event,
    agent_signature: { alg: 'ed25519', public_key: toBase64(ed25519PublicKey(seed)), signature: toBase64(signature) },
  };
}

export interface VerifiedAgentSignature {
  /** The signer's public key, base64. */
  publicKey: string;
}

/**
 * Verifies an event's agent_signature against the key it names. Pass
 * `trustedKeys` (base64 public keys) to also require that key to be one
 * you trust — otherwise anyone could sign with a key of their own.
 * `verify` lets the server use a faster Ed25519 (node:crypto); default: noble.
 *
 * @throws TlogError MALFORMED (no or malformed agent_signature), BAD_SIGNATURE
 *   (the signature does not verify), UNKNOWN_KEY (not one of `trustedKeys`).
 */
export function verifyAgentSignature(
  event: unknown,
  opts: { trustedKeys?: readonly string[]; verify?: (sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array) => boolean } = {},
): VerifiedAgentSignature {
  if (!isPlainObject(event)) throw new TlogError('MALFORMED', 'the event is not a map');
  const s = event.agent_signature;
  if (!isPlainObject(s) || s.alg !== 'ed25519' || typeof s.public_key !== 'string' || typeof s.signature !== 'string')
    throw new TlogError('MALFORMED', 'the event has no well-formed agent_signature');
  const pub = fromBase64(s.public_key);
  const sig = fromBase64(s.signature);
  if (pub?.length !== 32 || sig?.length !== 64) throw new TlogError('MALFORMED', 'agent_signature: public_key must be 32 bytes and signature 64, in base64');
  if (opts.trustedKeys !== undefined && !opts.trustedKeys.includes(s.public_key))
    throw new TlogError('UNKNOWN_KEY', 'the event is signed by an agent key that is not trusted');
  let msg: Uint8Array;
  try {
    msg = agentSignedBytes(event);
  } catch {
    throw new TlogError('MALFORMED', 'the event is outside the JSON data model');
  }
  const ok = (opts.verify ?? ((g, m, p) => ed25519Verify(g, m, p)))(sig, msg, pub);
  if (!ok) throw new TlogError('BAD_SIGNATURE', 'the agent signature does not verify');
  return { publicKey: s.public_key };
}

/**
 * The one check the server (and later the secrets scrubber and the
 * personal-data vault) runs before storing a signed event: `stored` must be
 * byte-for-byte what the agent signed. Unsigned events pass untouched.
 *
 * @throws TlogError SIGNED_EVENT_ALTERED.
 */
export function assertSignedEventUnaltered(original: unknown, stored: object, why = 'the server would store it differently from what was signed'): void {
  if (!isPlainObject(original) || original.agent_signature === undefined) return;
  let same = false;
  try {
    same = bytesEqual(encodeCanonical(original), encodeCanonical(stored));
  } catch {
    same = false;
  }
  if (!same) throw new TlogError('SIGNED_EVENT_ALTERED', `a signed event cannot be changed: ${why}`);
}
