/**
 * Checkpoints (c2sp.org/tlog-checkpoint v1.0.0): the text of a signed note that
 * commits to a tree.
 *
 * ```
 * <origin>\n
 * <tree size, decimal, no leading zeros>\n
 * <base64 root hash>\n
 * [<extension line>\n]*
 * ```
 *
 * @module
 */

import { toBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { assertArray, assertBytes, assertString, assertUint } from './args.js';
import type { NoteVerifier } from './keys.js';
import { parseNote, verifyNote, type OpenedNote } from './note.js';
import { decodeBase64Canonical, malformed, parseCanonicalUint } from './syntax.js';
import { noteTextProblem } from './text.js';

/** RFC 6962 SHA-256 root hash length. */
const ROOT_HASH_LENGTH = 32;

/** A parsed checkpoint body. */
export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** Opaque extension lines, without their `\n`. Each is non-empty. NOT RECOMMENDED by the spec. */
  extensions: string[];
}

/** The result of {@link openCheckpoint}. */
export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  note: OpenedNote;
}

function assertLine(value: unknown, what: string): asserts value is string {
  assertString(value, what);
  if (value.length === 0) throw new RangeError(`${what}: must not be empty`);
  if (value.includes('\n')) throw new RangeError(`${what}: must not contain a newline`);
  const problem = noteTextProblem(value);
  if (problem !== undefined) throw new RangeError(`${what}: ${problem}`);
}

/**
 * Formats the checkpoint body: the note TEXT to sign, ending in `\n`.
 *
 * @example
 * ```ts
 * const signed = signNote(formatCheckpoint({ origin, treeSize, rootHash, extensions: [] }), [signer]);
 * ```
 * @throws {TypeError} On wrong field types.
 * @throws {RangeError} On an empty origin or extension line, one containing `\n` or a
 *   control character, a tree size that is not a safe non-negative integer, or a
 *   root hash that is not 32 bytes.
 */
export function formatCheckpoint(c: Checkpoint): string {
  assertLine(c.origin, 'checkpoint origin');
  assertUint(c.treeSize, 'checkpoint treeSize', Number.MAX_SAFE_INTEGER);
  assertBytes(c.rootHash, 'checkpoint rootHash', ROOT_HASH_LENGTH);
  assertArray(c.extensions, 'checkpoint extensions');
  let text = `${c.origin}\n${c.treeSize}\n${toBase64(c.rootHash)}\n`;
  for (const ext of c.extensions) {
    assertLine(ext, 'checkpoint extension line');
    text += ext + '\n';
  }
  return text;
}

/**
 * Parses a checkpoint body strictly: at least 3 lines, each ending in `\n`; a
 * non-empty origin; the size as a canonical decimal that fits a safe integer;
 * the root as canonical standard base64 of exactly 32 bytes; non-empty extension
 * lines. Strictness makes `formatCheckpoint(parseCheckpoint(x)) === x`.
 *
 * @throws {TypeError} If `text` is not a string.
 * @throws {TlogError} `MALFORMED` naming the first rule broken.
 */
export function parseCheckpoint(text: string): Checkpoint {
  assertString(text, 'checkpoint');
  const problem = noteTextProblem(text);
  if (problem !== undefined) throw malformed(`malformed checkpoint: ${problem}`);
  return parseCheckpointText(text);
}

/** {@link parseCheckpoint} for text already checked by {@link parseNote}. */
function parseCheckpointText(text: string): Checkpoint {
  // The root line's "\n" is part of the signed text: without it every signature breaks.
  if (!text.endsWith('\n')) throw malformed('malformed checkpoint: text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('malformed checkpoint: fewer than 3 lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw malformed('malformed checkpoint: empty origin');
  const treeSize = parseCanonicalUint(size);
  if (treeSize === undefined) {
    throw malformed('malformed checkpoint: tree size must be a decimal without sign or leading zeros, at most 2^53-1');
  }
  const rootHash = decodeBase64Canonical(root);
  if (rootHash === undefined || rootHash.length !== ROOT_HASH_LENGTH) {
    throw malformed('malformed checkpoint: root hash must be canonical base64 of 32 bytes');
  }
  if (extensions.some((e) => e.length === 0)) throw malformed('malformed checkpoint: empty extension line');
  return { origin, treeSize, rootHash, extensions };
}

/**
 * Parses a signed checkpoint, checks its origin, then verifies its signatures.
 * The origin is checked before any signature work so a checkpoint from another
 * log reports `WRONG_ORIGIN` rather than `UNKNOWN_KEY`. Which verified keys are
 * enough (the log's key, k-of-n witnesses) is the caller's policy.
 *
 * @example
 * ```ts
 * const { checkpoint } = openCheckpoint(body, [parseVerifierKey(logVkey)], 'example.com/log');
 * ```
 * @throws {TypeError} On wrong argument types.
 * @throws {TlogError} `MALFORMED` if the note or body does not parse; `WRONG_ORIGIN` if
 *   `expectedOrigin` is given and differs; `BAD_SIGNATURE` / `UNKNOWN_KEY` as in {@link openNote}.
 */
export function openCheckpoint(signedNote: string, verifiers: readonly NoteVerifier[], expectedOrigin?: string): OpenedCheckpoint {
  if (expectedOrigin !== undefined) assertString(expectedOrigin, 'expected origin');
  const note = parseNote(signedNote);
  const checkpoint = parseCheckpointText(note.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new TlogError('WRONG_ORIGIN', 'checkpoint origin is not the expected origin', { details: { expected: expectedOrigin } });
  }
  return { checkpoint, note: verifyNote(note, verifiers) };
}
