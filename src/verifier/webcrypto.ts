/**
 * Ed25519 signature checks through the platform's WebCrypto, when it has
 * Ed25519 (Node ≥ 20, Chromium ≥ 137, Firefox, Safari). Browser-safe: only
 * `globalThis.crypto.subtle`, nothing from Node.
 *
 * It only precomputes verdicts for the signature lines by the trusted key;
 * the note rules (which lines count, BAD_SIGNATURE vs UNKNOWN_KEY) stay in
 * the one implementation, openCheckpoint, which reads these verdicts.
 */

import { bytesEqual, utf8 } from '../bytes/index.js';
import { parseNote, type Ed25519NoteVerifier } from '../note/index.js';

/** Verdicts by signature bytes. */
export interface Verdicts {
  get(signature: Uint8Array): boolean | undefined;
}

const keys = new Map<string, Promise<CryptoKey | undefined>>();

function importKey(subtle: SubtleCrypto, publicKey: Uint8Array): Promise<CryptoKey | undefined> {
  const id = Array.from(publicKey, (b) => b.toString(16).padStart(2, '0')).join('');
  let k = keys.get(id);
  if (k === undefined) {
    // No Ed25519 in this WebCrypto: undefined, and the caller uses pure JS.
    k = subtle.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']).catch(() => undefined);
    if (keys.size >= 16) keys.clear();
    keys.set(id, k);
  }
  return k;
}

/**
 * Verdicts for every signature line of `signedNote` by `v`'s (name, key id),
 * or undefined when WebCrypto cannot help (no Ed25519, or a note that does
 * not parse: the synchronous path then reports the error).
 */
export async function webCryptoVerdicts(signedNote: string, v: Ed25519NoteVerifier): Promise<Verdicts | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) return undefined;
  let note: ReturnType<typeof parseNote>;
  try {
    note = parseNote(signedNote);
  } catch {
    return undefined;
  }
  const mine = note.signatures.filter((s) => s.name === v.name && s.keyId === v.keyId);
  const key = mine.length > 0 ? await importKey(subtle, v.publicKey) : undefined;
  if (mine.length > 0 && key === undefined) return undefined;
  const msg = utf8(note.text) as Uint8Array<ArrayBuffer>;
  const verdicts: Array<[Uint8Array, boolean]> = [];
  for (const s of mine) {
    let ok = false;
    if (s.signature.length === 64) {
      try {
        ok = await subtle.verify('Ed25519', key!, s.signature as Uint8Array<ArrayBuffer>, msg);
      } catch {
        ok = false;
      }
    }
    verdicts.push([s.signature, ok]);
  }
  return { get: (sig) => verdicts.find(([b]) => bytesEqual(b, sig))?.[1] };
}
