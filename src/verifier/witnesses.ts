/**
 * Witness policy: a checkpoint counts as witnessed when at least `quorum` of
 * the listed witnesses cosigned it (c2sp.org/tlog-cosignature). A cosignature
 * says "as of this time, this is the largest tree I have seen for this origin,
 * and it is consistent with everything I saw before", so k independent
 * witnesses make a split view require k colluding parties.
 *
 * Pure and browser-safe.
 */

import { TlogError } from '../errors.js';
import { checkCosignature, parseCosignatureVerifierKey, parseNote, type CosignatureVerifier, type VerifiedCosignature } from '../note/index.js';

/** k-of-n: `keys` are witness verifier keys (type 0x04, or 0x01 converted), `quorum` is k. */
export interface WitnessPolicy {
  keys: readonly string[];
  quorum: number;
}

/** Parsed policies, by their key list: parsing a vkey hashes it, and receipts share policies. */
const parsed = new Map<string, CosignatureVerifier[]>();

function policyVerifiers(policy: WitnessPolicy): CosignatureVerifier[] {
  if (typeof policy !== 'object' || policy === null || !Array.isArray(policy.keys)) throw new TypeError('witness policy: expected { keys: string[], quorum: number }');
  const { keys, quorum } = policy;
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > keys.length)
    throw new RangeError(`witness policy: quorum must be an integer in [1, ${keys.length}], got ${quorum}`);
  const memoKey = keys.join('\n');
  const hit = parsed.get(memoKey);
  if (hit) return hit;
  const verifiers = keys.map((k) => parseCosignatureVerifierKey(k));
  if (parsed.size >= 16) parsed.delete(parsed.keys().next().value as string);
  parsed.set(memoKey, verifiers);
  return verifiers;
}

/** One Ed25519 key is one witness, whatever names it is listed under. */
function witnessId(v: CosignatureVerifier): string {
  return Array.from(v.publicKey, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Checks a signed checkpoint's cosignatures against a k-of-n policy and returns
 * the ones that verified (one per witness, in policy order). Lines by keys not
 * in the policy are ignored. As for any signed note, a line by a listed
 * witness that does not verify is an error, not a line to skip. A witness
 * listed twice (same public key, even under two names) counts once.
 *
 * This does NOT check the log's own signature: call `verifyCheckpoint` first.
 *
 * @example
 * ```ts
 * verifyCheckpoint(note, logKey);
 * verifyWitnesses(note, { keys: [w1, w2, w3], quorum: 2 });
 * ```
 * @throws {TypeError|RangeError} On a malformed policy (caller bug): quorum not in [1, n].
 * @throws {TlogError} `MALFORMED` on a bad witness key or note; `BAD_SIGNATURE` if a
 *   listed witness's line does not verify; `WITNESS_QUORUM` if fewer than `quorum`
 *   distinct witnesses cosigned.
 */
export function verifyWitnesses(signedNote: string, policy: WitnessPolicy): VerifiedCosignature[] {
  const verifiers = policyVerifiers(policy);
  // Many receipts share one checkpoint, and each cosignature costs an Ed25519
  // verification: remember the last few successes for the exact same inputs.
  const memoKey = `${policy.keys.join('\n')}\n${policy.quorum}\n${signedNote}`;
  const hit = verifiedNotes.get(memoKey);
  if (hit) return hit.map((c) => ({ ...c }));
  const valid = checkQuorum(signedNote, verifiers, policy.quorum);
  if (verifiedNotes.size >= 64) verifiedNotes.delete(verifiedNotes.keys().next().value as string);
  verifiedNotes.set(memoKey, valid);
  return valid.map((c) => ({ ...c }));
}

/** Successful checks, keyed by (policy, note): inputs only, never partial results. */
const verifiedNotes = new Map<string, VerifiedCosignature[]>();

function checkQuorum(signedNote: string, verifiers: readonly CosignatureVerifier[], quorum: number): VerifiedCosignature[] {
  const note = parseNote(signedNote);
  const seen = new Set<string>();
  const valid: VerifiedCosignature[] = [];
  for (const v of verifiers) {
    for (const sig of note.signatures) {
      const r = checkCosignature(note.text, sig, v);
      if (r === undefined) continue;
      if (r === false) {
        throw new TlogError('BAD_SIGNATURE', `invalid cosignature for witness ${v.name}`, { details: { name: v.name, keyId: v.keyId.toString(16).padStart(8, '0') } });
      }
      const id = witnessId(v);
      if (!seen.has(id)) {
        seen.add(id);
        valid.push(r);
      }
    }
  }
  if (valid.length < quorum) {
    throw new TlogError('WITNESS_QUORUM', `the checkpoint has ${valid.length} valid cosignature(s) from the listed witnesses; the policy needs ${quorum}`, {
      details: { quorum, cosigned: valid.map((c) => c.name) },
    });
  }
  return valid;
}
