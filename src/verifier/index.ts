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
// leaf.js, not events/index.js: the verifier must not pull in zod or cbor-x.
import { decodeRecord, type LogRecord } from '../events/leaf.js';
import { verifyAgentSignature, type VerifiedAgentSignature } from '../events/agent-signature.js';
import * as merkle from '../merkle/index.js';
import { openCheckpoint, parseTlogProof, parseVerifierKey, type Checkpoint, type NoteVerifier, type TlogProof, type VerifiedCosignature } from '../note/index.js';
import { verifyWitnesses, type WitnessPolicy } from './witnesses.js';
import { webCryptoVerdicts } from './webcrypto.js';

export { TlogError, type ErrorCode } from '../errors.js';
export { parseTlogProof, type Checkpoint, type TlogProof } from '../note/index.js';
export type { LogRecord } from '../events/leaf.js';
export { verifyAgentSignature, signEventAsAgent, agentSignedBytes, type VerifiedAgentSignature } from '../events/agent-signature.js';
export { verifyWitnesses, type WitnessPolicy } from './witnesses.js';
export type { VerifiedCosignature } from '../note/index.js';

/** RFC 6962 hasher over @noble/hashes SHA-256. */
export const hasher: merkle.Hasher = merkle.rfc6962Hasher(sha256);

/**
 * Opens a signed checkpoint (C2SP tlog-checkpoint) with the log's verifier
 * key. The origin defaults to the key's name, which is the log's origin.
 *
 * @example
 *   const { treeSize, rootHash } = verifyCheckpoint(await (await fetch(`${url}/checkpoint`)).text(), vkey);
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY or WRONG_ORIGIN.
 */
export function verifyCheckpoint(signedNote: string, verifierKey: string, origin?: string): Checkpoint {
  return openMemoized(signedNote, verifierKey, origin, (v) => v);
}

/**
 * {@link verifyCheckpoint} with the Ed25519 check done by the platform's
 * WebCrypto (Node ≥ 20, current browsers): 10–20× faster than pure JS, for
 * auditors checking many checkpoints. Same results and error codes; falls
 * back to the pure-JS check where WebCrypto has no Ed25519.
 *
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY or WRONG_ORIGIN.
 */
export async function verifyCheckpointAsync(signedNote: string, verifierKey: string, origin?: string): Promise<Checkpoint> {
  const memo = recall(signedNote, verifierKey, origin);
  if (memo) return memo;
  const results = await webCryptoVerdicts(signedNote, parseVerifierKey(verifierKey));
  return openMemoized(signedNote, verifierKey, origin, (v) =>
    results === undefined ? v : { name: v.name, keyId: v.keyId, verify: (msg, sig) => results.get(sig) ?? v.verify(msg, sig) },
  );
}

/**
 * Keyed on the effective origin: the one given, else the key's name (before its first `+`; names
 * have none). `undefined` and `''` must not share an entry: `''` is an origin no checkpoint has.
 */
const memoKeyOf = (signedNote: string, verifierKey: string, origin: string | undefined) =>
  `${verifierKey}\n${origin ?? verifierKey.slice(0, verifierKey.indexOf('+'))}\n${signedNote}`;
const copy = (c: Checkpoint): Checkpoint => ({ ...c, rootHash: c.rootHash.slice(), extensions: [...c.extensions] });

function recall(signedNote: string, verifierKey: string, origin: string | undefined): Checkpoint | undefined {
  const hit = verified.get(memoKeyOf(signedNote, verifierKey, origin));
  return hit ? copy(hit) : undefined;
}

/**
 * Opens a checkpoint, remembering successes: many receipts share one
 * checkpoint, and an Ed25519 verification costs ~3 ms in pure JS. The memo
 * holds only verified results for the exact same inputs.
 */
function openMemoized(signedNote: string, verifierKey: string, origin: string | undefined, wrap: (v: NoteVerifier) => NoteVerifier): Checkpoint {
  const hit = recall(signedNote, verifierKey, origin);
  if (hit) return hit;
  const v = parseVerifierKey(verifierKey);
  const checkpoint = openCheckpoint(signedNote, [wrap(v)], origin ?? v.name).checkpoint;
  if (verified.size >= 64) verified.delete(verified.keys().next().value as string);
  verified.set(memoKeyOf(signedNote, verifierKey, origin), checkpoint);
  return copy(checkpoint);
}

/** Successful checkpoint verifications, keyed by (verifier key, effective origin, note) — inputs only, never partial results. */
const verified = new Map<string, Checkpoint>();

/**
 * Checks an RFC 6962 inclusion proof: `leafHash` is entry `index` of the tree
 * (`treeSize`, `rootHash`). Pair it with {@link verifyCheckpoint} for the root.
 * @throws TlogError BAD_PROOF.
 */
export function verifyInclusion(index: number, treeSize: number, leafHash: Uint8Array, proof: readonly Uint8Array[], rootHash: Uint8Array): void {
  merkle.verifyInclusion(hasher, index, treeSize, leafHash, proof, rootHash);
}

/**
 * Checks an RFC 6962 consistency proof: the tree (size2, root2) is an
 * append-only extension of (size1, root1). Size 0 extends to anything with
 * an empty proof; equal sizes need equal roots and an empty proof.
 * @throws TlogError BAD_PROOF.
 */
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

/** What {@link verifyReceipt} proved. */
export interface VerifiedReceipt {
  /** The decoded leaf: `{ v: 1, tenant, logged_at, event }`. */
  record: LogRecord;
  /** The entry's 0-based index in the log. */
  index: number;
  /** SHA-256(0x00 ‖ leaf). */
  leafHash: Uint8Array;
  /** The signed checkpoint the proof leads to. */
  checkpoint: Checkpoint;
  /** Present when the event carries an agent_signature, which then verified. */
  agentSignature?: VerifiedAgentSignature;
  /** The policy's witnesses that cosigned the checkpoint (only when `opts.witnesses` is given). */
  cosignatures?: VerifiedCosignature[];
}

/** Options for {@link verifyReceipt}. */
export interface VerifyReceiptOptions {
  /** The expected origin (default: the verifier key's name). */
  origin?: string;
  /** base64 agent public keys to trust for agent-signed events (default: any key the event names). */
  agentKeys?: readonly string[];
  /** Witnesses whose cosignatures the checkpoint must carry (k of n). */
  witnesses?: WitnessPolicy;
}

/**
 * Verifies a receipt (a c2sp.org/tlog-proof@v1 whose `extra` holds the leaf)
 * offline: the checkpoint signature, the inclusion proof, and the leaf's
 * canonical encoding. Needs nothing but the log's verifier key.
 * When the event carries an agent_signature, that is verified too (and,
 * with `agentKeys`, must be by one of them). With `opts.witnesses` it also
 * requires `quorum` cosignatures from the listed witnesses (verifyWitnesses).
 *
 * @example
 *   const { record, index, checkpoint } = verifyReceipt(receipt.tlog_proof, 'log.example+1a2b3c4d+AQ…');
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY, WRONG_ORIGIN, BAD_PROOF, NOT_CANONICAL, WITNESS_QUORUM.
 */
export function verifyReceipt(tlogProof: string | TlogProof, verifierKey: string, opts: VerifyReceiptOptions = {}): VerifiedReceipt {
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

/**
 * {@link verifyReceipt} with the checkpoint signature checked through
 * WebCrypto ({@link verifyCheckpointAsync}). Use it to verify many receipts
 * with different checkpoints.
 *
 * @throws TlogError MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY, WRONG_ORIGIN, BAD_PROOF, NOT_CANONICAL.
 */
export async function verifyReceiptAsync(tlogProof: string | TlogProof, verifierKey: string, opts: VerifyReceiptOptions = {}): Promise<VerifiedReceipt> {
  const p = typeof tlogProof === 'string' ? parseTlogProof(tlogProof) : tlogProof;
  await verifyCheckpointAsync(p.checkpoint, verifierKey, opts.origin);
  // The memo now holds the checkpoint: the synchronous path does the rest without a second signature check.
  return verifyReceipt(p, verifierKey, opts);
}

export { verifyCheckpointWithKeys, verifyReceiptWithKeys, type BridgedReceipt } from './rotation.js';
