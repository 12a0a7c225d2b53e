/**
 * Signed notes, checkpoints and tlog-proofs: pure and browser-safe (Uint8Array
 * only, no `node:*`). Shared by the server (signing) and the verifier (opening).
 *
 * Specs: c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-proof,
 * c2sp.org/tlog-cosignature
 * (summaries in shared/specs/).
 *
 * @module
 */

export {
  SIG_TYPE_COSIGNATURE,
  SIG_TYPE_ED25519,
  decodeSignerKey,
  decodeVerifierKey,
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  formatVerifierKey,
  keyIdFor,
  parseSignerKey,
  parseVerifierKey,
  type DecodedVerifierKey,
  type Ed25519NoteSigner,
  type Ed25519NoteVerifier,
  type NoteSigner,
  type NoteVerifier,
} from './keys.js';
export { MAX_NOTE_SIGNATURES, openNote, parseNote, signNote, verifyNote, type Note, type NoteSignature, type OpenedNote } from './note.js';
export { decodeNoteBytes } from './text.js';
export { formatCheckpoint, openCheckpoint, parseCheckpoint, type Checkpoint, type OpenedCheckpoint } from './checkpoint.js';
export {
  COSIGNATURE_LENGTH,
  checkCosignature,
  cosignatureMessage,
  cosignatureSigner,
  cosignatureTimestamp,
  cosignatureVerifier,
  formatCosignatureVerifierKey,
  parseCosignatureVerifierKey,
  type CosignatureSigner,
  type CosignatureVerifier,
  type VerifiedCosignature,
} from './cosignature.js';
export { MAX_INCLUSION_PROOF_LENGTH, TLOG_PROOF_HEADER, formatTlogProof, parseTlogProof, type TlogProof } from './tlog-proof.js';
