/**
 * The wire format of c2sp.org/tlog-witness v1 `add-checkpoint`, shared by the
 * witness server and the log's witness client:
 *
 * ```
 * old <N>\n                     size the client believes the witness last cosigned
 * <base64 hash>\n × 0..63       RFC 6962 consistency proof old → new
 * \n
 * <checkpoint signed note>
 * ```
 *
 * Pure: strings and Uint8Array only.
 *
 * @module
 */

import { toBase64 } from '../bytes/index.js';
import { decodeBase64Canonical, malformed, parseCanonicalUint } from '../note/syntax.js';

/** The spec's bound on proof lines (a proof for trees below 2^63 is shorter). */
export const MAX_PROOF_LINES = 63;
/** Content type of a 409 answer: the witness's stored size, `"<N>\n"`. */
export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export interface AddCheckpointRequest {
  old: number;
  consistencyProof: Uint8Array[];
  /** The checkpoint signed note, verbatim. */
  checkpoint: string;
}

/**
 * Parses an add-checkpoint body. Each proof line must be canonical base64 of
 * exactly 32 bytes (a witness must not accept shorter "hashes" the parse-only
 * reference tests use). The checkpoint itself is parsed by the caller.
 *
 * @throws {TlogError} `MALFORMED` naming the first rule broken.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw malformed('malformed add-checkpoint body: no empty line before the checkpoint');
  const head = body.slice(0, blank).split('\n', MAX_PROOF_LINES + 2);
  const first = head[0]!;
  if (!first.startsWith('old ')) throw malformed('malformed add-checkpoint body: the first line must be "old <size>"');
  const old = parseCanonicalUint(first.slice(4));
  if (old === undefined) throw malformed('malformed add-checkpoint body: old must be a decimal without sign or leading zeros');
  const lines = head.slice(1);
  if (lines.length > MAX_PROOF_LINES) throw malformed(`malformed add-checkpoint body: more than ${MAX_PROOF_LINES} proof lines`);
  const consistencyProof = lines.map((l, i) => {
    const h = decodeBase64Canonical(l);
    if (h === undefined || h.length !== 32) throw malformed(`malformed add-checkpoint body: proof line ${i + 1} is not base64 of 32 bytes`);
    return h;
  });
  return { old, consistencyProof, checkpoint: body.slice(blank + 2) };
}

/** Formats an add-checkpoint body. */
export function formatAddCheckpoint(r: AddCheckpointRequest): string {
  if (r.consistencyProof.length > MAX_PROOF_LINES) throw new RangeError(`consistency proof: more than ${MAX_PROOF_LINES} hashes`);
  let s = `old ${r.old}\n`;
  for (const h of r.consistencyProof) s += toBase64(h) + '\n';
  return s + '\n' + r.checkpoint;
}

/** Parses a 409 body `"<N>\n"`, or `undefined` if it is not one. */
export function parseSizeBody(body: string): number | undefined {
  return body.endsWith('\n') ? parseCanonicalUint(body.slice(0, -1)) : undefined;
}
