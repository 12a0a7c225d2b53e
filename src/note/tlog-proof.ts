/**
 * Offline inclusion proofs (c2sp.org/tlog-proof@v1, C2SP HEAD 5ba5ee83):
 *
 * ```
 * c2sp.org/tlog-proof@v1\n
 * [extra <base64>\n]            optional, unauthenticated application data
 * index <decimal>\n
 * <base64 hash>\n × 0..n        RFC 6962 inclusion proof, leaf sibling first
 * \n
 * <checkpoint signed note, verbatim>
 * ```
 *
 * @module
 */

import { toBase64 } from '../bytes/index.js';
import { wrap } from '../errors.js';
import { assertArray, assertBytes, assertString, assertUint } from './args.js';
import { parseCheckpoint } from './checkpoint.js';
import { parseNote } from './note.js';
import { decodeBase64Canonical, malformed, parseCanonicalUint } from './syntax.js';

/** Line 1 of every proof. */
export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

/**
 * Upper bound on inclusion-proof lines. A tree of up to 2^64 leaves has proofs of
 * at most 64 hashes, so a longer list can never verify: rejecting it early bounds
 * the work an attacker can cause.
 */
export const MAX_INCLUSION_PROOF_LENGTH = 64;

const HASH_LENGTH = 32;
const EXTRA_PREFIX = 'extra ';
const INDEX_PREFIX = 'index ';

/** A parsed tlog-proof. */
export interface TlogProof {
  /** Opaque, unauthenticated data (agent-tlog: the leaf bytes). Absent if the line is. */
  extra?: Uint8Array;
  /** 0-based leaf index. */
  index: number;
  /** RFC 6962 inclusion proof, leaf sibling first, 32 bytes each. */
  inclusionProof: Uint8Array[];
  /** The checkpoint signed note, verbatim (verify it with `openCheckpoint`). */
  checkpoint: string;
}

/**
 * Formats a tlog-proof. Hot path (once per receipt): the checkpoint is the server's
 * own signed note and is appended as is, only sanity-checked, not re-parsed.
 *
 * @example
 * ```ts
 * formatTlogProof({ extra: leaf, index, inclusionProof, checkpoint: signedCheckpoint });
 * ```
 * @throws {TypeError} On wrong field types.
 * @throws {RangeError} On an index that is not a safe non-negative integer, a hash that
 *   is not 32 bytes, more than {@link MAX_INCLUSION_PROOF_LENGTH} hashes, or a checkpoint
 *   that is empty, starts with a blank line or does not end in `\n`.
 */
export function formatTlogProof(p: TlogProof): string {
  assertUint(p.index, 'tlog-proof index', Number.MAX_SAFE_INTEGER);
  assertArray(p.inclusionProof, 'tlog-proof inclusionProof');
  if (p.inclusionProof.length > MAX_INCLUSION_PROOF_LENGTH) {
    throw new RangeError(`tlog-proof inclusionProof: more than ${MAX_INCLUSION_PROOF_LENGTH} hashes`);
  }
  assertString(p.checkpoint, 'tlog-proof checkpoint');
  if (p.checkpoint.length === 0 || p.checkpoint.startsWith('\n') || !p.checkpoint.endsWith('\n')) {
    throw new RangeError('tlog-proof checkpoint: must be a signed note (non-empty, no leading blank line, ending in a newline)');
  }
  let s = TLOG_PROOF_HEADER + '\n';
  if (p.extra !== undefined) {
    assertBytes(p.extra, 'tlog-proof extra');
    s += EXTRA_PREFIX + toBase64(p.extra) + '\n';
  }
  s += INDEX_PREFIX + p.index + '\n';
  for (const hash of p.inclusionProof) {
    assertBytes(hash, 'tlog-proof inclusion proof hash', HASH_LENGTH);
    s += toBase64(hash) + '\n';
  }
  return s + '\n' + p.checkpoint;
}

/**
 * Parses a tlog-proof strictly: the exact header line, an optional `extra` line,
 * the `index` line (canonical decimal, safe integer), 0..64 canonical base64 32-byte
 * hashes, an empty line, then a checkpoint note that must parse (signatures are NOT
 * verified here: use `openCheckpoint` on `checkpoint`). Base64 must be canonical, so
 * `formatTlogProof(parseTlogProof(x)) === x`. Does not check `index` against the
 * tree size: that is the inclusion-proof verifier's job.
 *
 * @throws {TypeError} If `s` is not a string.
 * @throws {TlogError} `MALFORMED` naming the first rule broken.
 */
export function parseTlogProof(s: string): TlogProof {
  assertString(s, 'tlog-proof');
  // The header section holds no empty line, so the first "\n\n" ends it.
  const blank = s.indexOf('\n\n');
  if (blank < 0) throw malformed('malformed tlog-proof: no empty line before the checkpoint');
  const header = s.slice(0, blank).split('\n', MAX_INCLUSION_PROOF_LENGTH + 4);
  const checkpoint = s.slice(blank + 2);
  if (header[0] !== TLOG_PROOF_HEADER) throw malformed(`malformed tlog-proof: first line must be ${TLOG_PROOF_HEADER}`);

  let line = 1;
  let extra: Uint8Array | undefined;
  if (header[line]?.startsWith(EXTRA_PREFIX)) {
    extra = decodeBase64Canonical(header[line]!.slice(EXTRA_PREFIX.length));
    if (extra === undefined) throw malformed('malformed tlog-proof: extra is not canonical base64');
    line++;
  }
  const indexLine = header[line];
  if (indexLine === undefined || !indexLine.startsWith(INDEX_PREFIX)) throw malformed('malformed tlog-proof: missing index line');
  const index = parseCanonicalUint(indexLine.slice(INDEX_PREFIX.length));
  if (index === undefined) throw malformed('malformed tlog-proof: index must be a decimal without sign or leading zeros, at most 2^53-1');
  line++;

  const hashLines = header.slice(line);
  if (hashLines.length > MAX_INCLUSION_PROOF_LENGTH) {
    throw malformed(`malformed tlog-proof: more than ${MAX_INCLUSION_PROOF_LENGTH} inclusion proof hashes`);
  }
  const inclusionProof = hashLines.map((h, i) => {
    const hash = decodeBase64Canonical(h);
    if (hash === undefined || hash.length !== HASH_LENGTH) {
      throw malformed(`malformed tlog-proof: inclusion proof line ${i + 1} is not canonical base64 of 32 bytes`);
    }
    return hash;
  });

  try {
    parseCheckpoint(parseNote(checkpoint).text);
  } catch (e) {
    throw wrap(e, 'malformed tlog-proof checkpoint', 'MALFORMED');
  }
  return extra === undefined ? { index, inclusionProof, checkpoint } : { extra, index, inclusionProof, checkpoint };
}
