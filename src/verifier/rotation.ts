/**
 * Verifying across a log signing-key rotation (spec/security.md §5).
 *
 * A checkpoint signed during the overlap carries both keys' signatures, so
 * either key verifies it. A receipt from before the rotation is signed by
 * the old key only; it stays verifiable with the old key (published as
 * retired in GET /v1/log), or — for a verifier that trusts only the new key —
 * through a consistency proof from its checkpoint to a newer checkpoint the
 * new key signed: the inclusion proof ties the leaf to the old root, and the
 * consistency proof ties the old root to the trusted one, so the old
 * checkpoint's signature is not needed at all.
 *
 * Pure and browser-safe, like the rest of the verifier.
 */

import { TlogError } from '../errors.js';
// leaf.js and agent-signature.js, not events/index.js: the verifier must not pull in zod or cbor-x.
import { decodeRecord } from '../events/leaf.js';
import { verifyAgentSignature } from '../events/agent-signature.js';
import { openCheckpoint, parseCheckpoint, parseNote, parseTlogProof, parseVerifierKey, type Checkpoint, type TlogProof } from '../note/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as merkle from '../merkle/index.js';
import type { VerifiedReceipt } from './index.js';

// Its own hasher instead of index.ts's, so the two modules do not import each other at run time.
const hasher = merkle.rfc6962Hasher(sha256);
const verifyInclusion = (i: number, n: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array) =>
  merkle.verifyInclusion(hasher, i, n, leaf, proof, root);
const verifyConsistency = (a: number, b: number, proof: readonly Uint8Array[], r1: Uint8Array, r2: Uint8Array) =>
  merkle.verifyConsistency(hasher, a, b, proof, r1, r2);

/**
 * Opens a checkpoint signed by at least one of `verifierKeys` (every
 * signature by any of them must verify). All keys must name the same log
 * (one name: the log's keys before and after a rotation); keys of other
 * logs would let their checkpoints pass as this log's.
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY or WRONG_ORIGIN.
 * @throws RangeError if the keys do not all have the same name.
 */
export function verifyCheckpointWithKeys(signedNote: string, verifierKeys: readonly string[], origin?: string): Checkpoint {
  if (verifierKeys.length === 0) throw new TlogError('UNKNOWN_KEY', 'no verifier keys given');
  const verifiers = verifierKeys.map((k) => parseVerifierKey(k));
  const other = verifiers.find((v) => v.name !== verifiers[0]!.name);
  if (other) throw new RangeError(`verifier keys: all must name the same log, not both "${verifiers[0]!.name}" and "${other.name}"`);
  return openCheckpoint(signedNote, verifiers, origin ?? verifiers[0]!.name).checkpoint;
}

export interface BridgedReceipt extends VerifiedReceipt {
  /** The receipt's own checkpoint, when it was bridged (its signature was not needed). */
  bridgedFrom?: Checkpoint;
}

/**
 * Verifies a receipt against trusted keys. If its checkpoint is signed by
 * one of them, this is verifyReceipt. Otherwise `bridge` must give a newer
 * checkpoint signed by a trusted key and the consistency proof from the
 * receipt's tree size to it (GET /v1/proofs/consistency?from=<old>&to=<new>).
 *
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY, WRONG_ORIGIN, BAD_PROOF, NOT_CANONICAL.
 * @throws RangeError if the keys do not all have the same name.
 */
export function verifyReceiptWithKeys(
  tlogProof: string | TlogProof,
  trustedKeys: readonly string[],
  opts: { origin?: string; agentKeys?: readonly string[]; bridge?: { checkpoint: string; consistencyProof: readonly Uint8Array[] } } = {},
): BridgedReceipt {
  const p = typeof tlogProof === 'string' ? parseTlogProof(tlogProof) : tlogProof;
  if (p.extra === undefined) throw new TlogError('MALFORMED', 'the tlog-proof has no extra line: the leaf bytes are needed to verify it');
  const origin = opts.origin ?? parseVerifierKey(trustedKeys[0] ?? '').name;
  const leafHash = hasher.hashLeaf(p.extra);
  const finish = (checkpoint: Checkpoint, bridgedFrom?: Checkpoint): BridgedReceipt => {
    const record = decodeRecord(p.extra!);
    const agentSignature =
      record.event.agent_signature !== undefined
        ? verifyAgentSignature(record.event, opts.agentKeys !== undefined ? { trustedKeys: opts.agentKeys } : {})
        : undefined;
    return { record, index: p.index, leafHash, checkpoint, ...(agentSignature ? { agentSignature } : {}), ...(bridgedFrom ? { bridgedFrom } : {}) };
  };
  let direct: Checkpoint | undefined;
  try {
    direct = verifyCheckpointWithKeys(p.checkpoint, trustedKeys, origin);
  } catch (e) {
    if (!(e instanceof TlogError) || e.code !== 'UNKNOWN_KEY' || opts.bridge === undefined) throw e;
  }
  if (direct) {
    verifyInclusion(p.index, direct.treeSize, leafHash, p.inclusionProof, direct.rootHash);
    return finish(direct);
  }
  // Bridge: the old checkpoint is only parsed; the trusted newer one vouches for its root.
  const old = parseCheckpoint(parseNote(p.checkpoint).text);
  if (old.origin !== origin) throw new TlogError('WRONG_ORIGIN', 'checkpoint origin is not the expected origin', { details: { expected: origin } });
  verifyInclusion(p.index, old.treeSize, leafHash, p.inclusionProof, old.rootHash);
  const newer = verifyCheckpointWithKeys(opts.bridge!.checkpoint, trustedKeys, origin);
  if (newer.treeSize < old.treeSize) throw new TlogError('BAD_PROOF', 'the bridging checkpoint is older than the receipt');
  verifyConsistency(old.treeSize, newer.treeSize, opts.bridge!.consistencyProof, old.rootHash, newer.rootHash);
  return finish(newer, old);
}
