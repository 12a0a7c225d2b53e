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
