/**
 * A witness as the log is configured with it: `<witness vkey>@<url>`. The
 * split is at the LAST "@": key names may contain "@", http(s) URLs here may
 * not carry user info. The vkey is a cosignature/v1 key (or an Ed25519 one,
 * converted as transparency-dev/formats does).
 */

import { parseCosignatureVerifierKey } from '../note/index.js';

export function parseWitnessSpec(spec: string): { url: string; verifierKey: string; problem?: undefined } | { problem: string } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return { problem: 'a witness is written <witness vkey>@<url>' };
  const verifierKey = spec.slice(0, at);
  const url = spec.slice(at + 1);
  try {
    parseCosignatureVerifierKey(verifierKey);
  } catch (e) {
    return { problem: `witness key: ${(e as Error).message}` };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { problem: 'witness URL: not a URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: 'witness URL: must be http or https' };
  return { url, verifierKey };
}

/**
 * Checks the log's witness settings (called by loadConfig after the schema).
 * @throws Error `invalid configuration: TLOG_WITNESSES: …` or `TLOG_WITNESS_QUORUM: …`.
 */
export function checkWitnessSettings(witnesses: readonly string[], quorum: number | undefined): void {
  for (const w of witnesses) {
    const r = parseWitnessSpec(w);
    if (r.problem !== undefined) throw new Error(`invalid configuration: TLOG_WITNESSES: ${r.problem}`);
  }
  if (quorum !== undefined && quorum > witnesses.length)
    throw new Error(`invalid configuration: TLOG_WITNESS_QUORUM: a quorum of ${quorum} needs at least that many witnesses (got ${witnesses.length})`);
}
