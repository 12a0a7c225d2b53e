/**
 * agent-tlog/verifier: everything an auditor needs to check the log without
 * trusting the server. Pure and browser-safe (Uint8Array, @noble/hashes,
 * @noble/ed25519; no node:* and no Node globals). It shares the Merkle, note
 * and record code with the server.
 *
 * @example
 *   import { verifyReceipt } from 'agent-tlog/verifier';
 *   const { record, index } = verifyReceipt(receipt.tlog_proof, verifierKey);
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { TlogError } from '../errors.js';
import { decodeRecord, verifyAgentSignature, type LogRecord, type VerifiedAgentSignature } from '../events/index.js';
import * as merkle from '../merkle/index.js';
import { openCheckpoint, parseTlogProof, parseVerifierKey, type Checkpoint, type TlogProof, type VerifiedCosignature } from '../note/index.js';
import { verifyWitnesses, type WitnessPolicy } from './witnesses.js';

export { TlogError, type ErrorCode } from '../errors.js';
export { parseTlogProof, type Checkpoint, type TlogProof } from '../note/index.js';
export type { LogRecord } from '../events/index.js';
export { verifyAgentSignature, signEventAsAgent, agentSignedBytes, type VerifiedAgentSignature } from '../events/index.js';
export { verifyWitnesses, type WitnessPolicy } from './witnesses.js';
export type { VerifiedCosignature } from '../note/index.js';

/** RFC 6962 hasher over @noble/hashes SHA-256. */
export const hasher: merkle.Hasher = merkle.rfc6962Hasher(sha256);

/**
 * Opens a signed checkpoint with the log's verifier key.
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY or WRONG_ORIGIN.
 */
export function verifyCheckpoint(signedNote: string, verifierKey: string, origin?: string): Checkpoint {
  // Many receipts share one checkpoint; an Ed25519 verification costs ~1 ms
  // in pure JS. Remember the last few successes for the exact same inputs.
  const memoKey = `${verifierKey}\n${origin ?? ''}\n${signedNote}`;
  const hit = verified.get(memoKey);
  if (hit) return { ...hit, rootHash: hit.rootHash.slice(), extensions: [...hit.extensions] };
  const v = parseVerifierKey(verifierKey);
  const checkpoint = openCheckpoint(signedNote, [v], origin ?? v.name).checkpoint;
  if (verified.size >= 64) verified.delete(verified.keys().next().value as string);
  verified.set(memoKey, checkpoint);
  return { ...checkpoint, rootHash: checkpoint.rootHash.slice(), extensions: [...checkpoint.extensions] };
}

/** Successful checkpoint verifications, keyed by (verifier key, origin, note) — inputs only, never partial results. */
const verified = new Map<string, Checkpoint>();

/** @throws TlogError BAD_PROOF. */
export function verifyInclusion(index: number, treeSize: number, leafHash: Uint8Array, proof: readonly Uint8Array[], rootHash: Uint8Array): void {
  merkle.verifyInclusion(hasher, index, treeSize, leafHash, proof, rootHash);
}

/** @throws TlogError BAD_PROOF. */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  merkle.verifyConsistency(hasher, size1, size2, proof, root1, root2);
}

/**
 * Decodes a leaf into its record, refusing bytes that are not the canonical
 * encoding (so one record cannot hide behind two leaf hashes).
 * @throws TlogError MALFORMED or NOT_CANONICAL.
 */
export function decodeLeaf(leaf: Uint8Array): LogRecord {
  return decodeRecord(leaf);
}

export interface VerifiedReceipt {
  record: LogRecord;
  index: number;
  leafHash: Uint8Array;
  checkpoint: Checkpoint;
  /** Present when the event carries an agent_signature, which then verified. */
  agentSignature?: VerifiedAgentSignature;
  /** The policy's witnesses that cosigned the checkpoint (only when `opts.witnesses` is given). */
  cosignatures?: VerifiedCosignature[];
}

/**
 * Verifies a receipt (a c2sp.org/tlog-proof@v1 whose `extra` holds the leaf)
 * offline: the checkpoint signature, the inclusion proof, and the leaf's
 * canonical encoding.
 * When the event carries an agent_signature, that is verified too (and,
 * with `agentKeys`, must be by one of them). With `opts.witnesses` it also
 * requires `quorum` cosignatures from the listed witnesses on the checkpoint
 * (see verifyWitnesses).
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY, WRONG_ORIGIN, BAD_PROOF, NOT_CANONICAL, WITNESS_QUORUM.
 */
export function verifyReceipt(
  tlogProof: string | TlogProof,
  verifierKey: string,
  opts: {
    origin?: string;
    /** base64 agent public keys to trust for agent-signed events. */
    agentKeys?: readonly string[];
    /** Witnesses whose cosignatures the checkpoint must carry. */
    witnesses?: WitnessPolicy;
  } = {},
): VerifiedReceipt {
  const p = typeof tlogProof === 'string' ? parseTlogProof(tlogProof) : tlogProof;
  if (p.extra === undefined) throw new TlogError('MALFORMED', 'the tlog-proof has no extra line: the leaf bytes are needed to verify it');
  const checkpoint = verifyCheckpoint(p.checkpoint, verifierKey, opts.origin);
  const leafHash = hasher.hashLeaf(p.extra);
  verifyInclusion(p.index, checkpoint.treeSize, leafHash, p.inclusionProof, checkpoint.rootHash);
  const record = decodeLeaf(p.extra);
  // An agent-signed event must verify too: a receipt for a forged signature is no proof.
  const agentSignature =
    record.event.agent_signature !== undefined
      ? verifyAgentSignature(record.event, opts.agentKeys !== undefined ? { trustedKeys: opts.agentKeys } : {})
      : undefined;
  const cosignatures = opts.witnesses !== undefined ? verifyWitnesses(p.checkpoint, opts.witnesses) : undefined;
  return { record, index: p.index, leafHash, checkpoint, ...(agentSignature ? { agentSignature } : {}), ...(cosignatures ? { cosignatures } : {}) };
}

export { verifyCheckpointWithKeys, verifyReceiptWithKeys, type BridgedReceipt } from './rotation.js';
