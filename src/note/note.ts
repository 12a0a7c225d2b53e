/**
 * Signed notes (c2sp.org/signed-note v1.0.0, golang.org/x/mod/sumdb/note):
 *
 * ```
 * <text, one or more lines each ending in "\n">   ← signed bytes, final "\n" included
 * "\n"                                            ← blank separator, not signed
 * "— " <key name> " " <base64(keyID[4] ‖ sig)> "\n"  × 1..100
 * ```
 *
 * @module
 */

import { bytesEqual, fromBase64, toBase64, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { assertArray, assertBytes, assertString, assertUint } from './args.js';
import type { NoteSigner, NoteVerifier } from './keys.js';
import { formatKeyIdHex, isValidKeyName, malformed, readUint32BE, writeUint32BE } from './syntax.js';
import { noteTextProblem } from './text.js';

/** One signature line. `signature` excludes the 4-byte key ID prefix of the blob. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Uint8Array;
}

/** A parsed, unverified note. `text` is exactly the signed part, final `\n` included. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
}

/** The result of {@link openNote}: at least one verified signature, by construction. */
export interface OpenedNote {
  text: string;
  /** Signatures by known keys, each (name, keyId) once, in note order. */
  verified: NoteSignature[];
  /** Signatures by unknown keys, exact duplicates dropped, in note order. */
  unverified: NoteSignature[];
}

/**
 * Go rejects more than 100 signature lines as malformed ("avoid spending forever
 * parsing a note with many signatures"); the spec asks verifiers to accept at least 16.
 */
export const MAX_NOTE_SIGNATURES = 100;

/** U+2014 EM DASH (UTF-8 E2 80 94) then U+0020: every signature line starts with it. */
const SIG_PREFIX = '\u2014 ';

/** Map key for a (name, keyId) pair. Names have no spaces, so this is unambiguous. */
function sigKey(name: string, keyId: number): string {
  return `${keyId} ${name}`;
}

/**
 * Parses a signed note without verifying it. Splits at the LAST `"\n\n"`: the text
 * may contain blank lines, the signature block never does.
 *
 * Signature blobs use the lenient base64 decoder (non-zero trailing bits accepted,
 * as Go's `base64.StdEncoding`), so a garbled line by a known key fails later as a
 * bad signature, not here as a parse error (shared/specs/README.md pitfall 5).
 *
 * @example
 * ```ts
 * const { text, signatures } = parseNote(body);
 * ```
 * @throws {TypeError} If `msg` is not a string.
 * @throws {TlogError} `MALFORMED` on a control character, `\r`, invalid UTF-8, no blank
 *   line, an empty or unterminated signature block, a line without the `"— "` prefix,
 *   an invalid key name, a blob that is not base64 of at least 5 bytes, or more than
 *   {@link MAX_NOTE_SIGNATURES} signature lines.
 */
export function parseNote(msg: string): Note {
  assertString(msg, 'note');
  const problem = noteTextProblem(msg);
  if (problem !== undefined) throw malformed(`malformed note: ${problem}`);
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw malformed('malformed note: no blank line before the signatures');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block.length === 0) throw malformed('malformed note: no signature lines');
  if (!block.endsWith('\n')) throw malformed('malformed note: signature block must end in a newline');
  // The split limit bounds the work on a hostile note with millions of lines.
  const lines = block.slice(0, -1).split('\n', MAX_NOTE_SIGNATURES + 1);
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`malformed note: more than ${MAX_NOTE_SIGNATURES} signature lines`);
  const signatures = lines.map((line, i) => parseSignatureLine(line, i + 1));
  return { text, signatures };
}

function parseSignatureLine(line: string, n: number): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw malformed(`malformed note: signature line ${n} does not start with "— "`);
  const space = line.indexOf(' ', SIG_PREFIX.length);
  if (space < 0) throw malformed(`malformed note: signature line ${n} has no signature after the key name`);
  const name = line.slice(SIG_PREFIX.length, space);
  if (!isValidKeyName(name)) throw malformed(`malformed note: signature line ${n} has an invalid key name`);
  const blob = fromBase64(line.slice(space + 1));
  // Go: key ID (4 bytes) plus at least one signature byte.
  if (blob === undefined || blob.length < 5) throw malformed(`malformed note: signature line ${n} is not base64 of key id ‖ signature`);
  return { name, keyId: readUint32BE(blob, 0), signature: blob.subarray(4) };
}

/**
 * Verifies a parsed note against trusted keys (signed-note §Verification):
 * lines by unknown (name, keyId) pairs are ignored, every line by a known key must
 * verify, and at least one must.
 *
 * Deliberate difference from Go: Go skips a repeated line by an already verified
 * key without checking it; we check every line by a known key, so a note carrying
 * a valid and a garbled copy is rejected (stricter, and what the spec's "MUST be
 * verified" says). Two verifiers with the same (name, keyId) are both tried.
 *
 * @throws {TypeError} If `verifiers` is not an array.
 * @throws {TlogError} `BAD_SIGNATURE` if a signature by a known key fails;
 *   `UNKNOWN_KEY` ("note has no verifiable signatures") if no known key signed.
 */
export function verifyNote(note: Note, verifiers: readonly NoteVerifier[]): OpenedNote {
  assertArray(verifiers, 'verifiers');
  const known = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const k = sigKey(v.name, v.keyId);
    const list = known.get(k);
    if (list === undefined) known.set(k, [v]);
    else list.push(v);
  }
  let msg: Uint8Array | undefined; // encoded once, only if a known key appears
  const verified: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const unverified: NoteSignature[] = [];
  for (const sig of note.signatures) {
    const k = sigKey(sig.name, sig.keyId);
    const candidates = known.get(k);
    if (candidates === undefined) {
      if (!unverified.some((u) => u.keyId === sig.keyId && u.name === sig.name && bytesEqual(u.signature, sig.signature))) {
        unverified.push(sig);
      }
      continue;
    }
    msg ??= utf8(note.text);
    const bytes = msg;
    if (!candidates.some((v) => v.verify(bytes, sig.signature))) {
      throw new TlogError('BAD_SIGNATURE', `invalid signature for key ${sig.name}+${formatKeyIdHex(sig.keyId)}`, {
        details: { name: sig.name, keyId: formatKeyIdHex(sig.keyId) },
      });
    }
    if (!seenVerified.has(k)) {
      seenVerified.add(k);
      verified.push(sig);
    }
  }
  if (verified.length === 0) {
    throw new TlogError('UNKNOWN_KEY', 'note has no verifiable signatures', {
      details: { unverified: unverified.map((s) => `${s.name}+${formatKeyIdHex(s.keyId)}`) },
    });
  }
  return { text: note.text, verified, unverified };
}

/**
 * Parses and verifies a signed note: `verifyNote(parseNote(msg), verifiers)`.
 *
 * @example
 * ```ts
 * const { text, verified } = openNote(body, [parseVerifierKey(vkey)]);
 * ```
 * @throws {TypeError} On non-string `msg` or non-array `verifiers`.
 * @throws {TlogError} `MALFORMED`, `BAD_SIGNATURE` or `UNKNOWN_KEY`; see
 *   {@link parseNote} and {@link verifyNote}.
 */
export function openNote(msg: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  return verifyNote(parseNote(msg), verifiers);
}

/** `"— <name> <base64(keyId ‖ sig)>\n"`. */
function signatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const blob = new Uint8Array(4 + signature.length);
  writeUint32BE(blob, 0, keyId);
  blob.set(signature, 4);
  return `${SIG_PREFIX}${name} ${toBase64(blob)}\n`;
}

function checkSignatureFields(name: unknown, keyId: unknown, what: string): void {
  assertString(name, `${what} name`);
  if (!isValidKeyName(name)) throw new RangeError(`${what} name: must be non-empty, without whitespace, "+" or control characters`);
  assertUint(keyId, `${what} keyId`, 0xffffffff);
}

/**
 * Signs `text` with each signer and returns the signed note. Matches Go's
 * `note.Sign`, so output is byte-identical: existing signatures come first (minus
 * any with the same (name, keyId) as a signer, whose line the new one replaces),
 * then the new signatures in signer order.
 *
 * Hot path (once per checkpoint flush): the text is encoded once and shared by all
 * signers; its character check is one regex scan.
 *
 * @example
 * ```ts
 * const signed = signNote(formatCheckpoint(cp), [logSigner]);
 * const cosigned = signNote(opened.text, [witness], [...opened.verified, ...opened.unverified]);
 * ```
 * @throws {TypeError} On wrong argument types, or a signer returning a non-`Uint8Array`.
 * @throws {RangeError} On an invalid signer or signature name or key ID, two signers
 *   with the same (name, keyId), an empty signature, no signatures at all, or more
 *   than {@link MAX_NOTE_SIGNATURES}.
 * @throws {TlogError} `MALFORMED` if `text` does not end in `\n` or contains a
 *   character a note may not hold (Go: "malformed note").
 */
export function signNote(text: string, signers: readonly NoteSigner[], existing: readonly NoteSignature[] = []): string {
  assertString(text, 'note text');
  assertArray(signers, 'signers');
  assertArray(existing, 'existing signatures');
  if (!text.endsWith('\n')) throw malformed('malformed note: text must end in a newline');
  const problem = noteTextProblem(text);
  if (problem !== undefined) throw malformed(`malformed note: ${problem}`);

  const msg = utf8(text);
  const replaced = new Set<string>();
  let fresh = '';
  for (const signer of signers) {
    checkSignatureFields(signer.name, signer.keyId, 'signer');
    const k = sigKey(signer.name, signer.keyId);
    if (replaced.has(k)) throw new RangeError(`signers: two signers for key ${signer.name}+${formatKeyIdHex(signer.keyId)}`);
    replaced.add(k);
    const signature = signer.sign(msg);
    assertBytes(signature, 'signer output');
    if (signature.length === 0) throw new RangeError('signer output: empty signature');
    fresh += signatureLine(signer.name, signer.keyId, signature);
  }

  let out = text + '\n';
  let count = signers.length;
  for (const sig of existing) {
    checkSignatureFields(sig.name, sig.keyId, 'existing signature');
    if (replaced.has(sigKey(sig.name, sig.keyId))) continue;
    assertBytes(sig.signature, 'existing signature');
    if (sig.signature.length === 0) throw new RangeError('existing signature: empty signature');
    out += signatureLine(sig.name, sig.keyId, sig.signature);
    count++;
  }
  if (count === 0) throw new RangeError('signNote: no signers and no existing signatures');
  if (count > MAX_NOTE_SIGNATURES) throw new RangeError(`signNote: more than ${MAX_NOTE_SIGNATURES} signatures`);
  return out + fresh;
}
