/**
 * The server's side of agent-signed events (src/events/agent-signature.ts):
 * which events must be signed, by which key, and the refusal of any signed
 * event the server would have to change before storing it.
 *
 * Every signature the server accepts must verify offline in the verifier
 * library (noble, RFC 8032 strict, cofactored). The server verifies with
 * node:crypto (OpenSSL) instead, about 15× faster, which is safe because
 * OpenSSL is the stricter of the two here: it checks the cofactorless
 * equation [S]B = R + [k]A (which implies the cofactored one), rejects
 * S ≥ L, and compares R's bytes with a canonical encoding; the one case it
 * is laxer on — a non-canonical or small-order public key — is refused when
 * the key is registered (ed25519PublicKeyProblem).
 */

import { createPublicKey, verify } from 'node:crypto';
import type { ApiKey } from '../auth/keyring.js';
import { TlogError } from '../errors.js';
import { assertSignedEventUnaltered, verifyAgentSignature, type AuditEvent } from '../events/index.js';
import { isPlainObject } from '../events/json.js';

/**
 * Checks a parsed event against its key's signing policy. `input` is the
 * event as the client sent it (before parseEvent), `event` as it would be stored.
 *
 * @throws TlogError AGENT_SIGNATURE_REQUIRED, BAD_SIGNATURE, UNKNOWN_KEY, SIGNED_EVENT_ALTERED.
 */
export function checkAgentSignature(key: ApiKey, input: unknown, event: AuditEvent): void {
  const registered = key.agent_public_key;
  if (event.agent_signature === undefined) {
    if (registered !== undefined)
      throw new TlogError('AGENT_SIGNATURE_REQUIRED', 'this API key signs its events: send agent_signature (spec/events.md §1.6)');
    return;
  }
  if (registered === undefined)
    throw new TlogError('BAD_SIGNATURE', 'this API key has no registered agent public key, so a signature cannot be checked');
  if (event.agent_signature.public_key !== registered)
    throw new TlogError('UNKNOWN_KEY', "agent_signature.public_key is not this API key's registered agent public key");
  if (!isPlainObject(input) || typeof input.event_id !== 'string')
    throw new TlogError('SIGNED_EVENT_ALTERED', 'a signed event must carry its event_id: the server would have to assign one');
  // Personal data goes to the vault, which replaces it in the stored event.
  if (event.pii !== undefined) throw new TlogError('SIGNED_EVENT_ALTERED', 'a signed event cannot carry pii: it would be moved to the vault');
  assertSignedEventUnaltered(input, event);
  // Verified over the stored form, which the line above proved equal to the sent one.
  verifyAgentSignature(event, { verify: nodeEd25519Verify });
}

// RFC 8410 SubjectPublicKeyInfo prefix of a raw 32-byte Ed25519 public key.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Registered keys are few; their parsed form is kept. */
const keyObjects = new Map<string, ReturnType<typeof createPublicKey>>();

function nodeEd25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  const id = Buffer.from(publicKey).toString('base64');
  let k = keyObjects.get(id);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keyObjects.size >= 10_000) keyObjects.clear();
    keyObjects.set(id, k);
  }
  return sig.length === 64 && verify(null, msg, k, sig);
}
