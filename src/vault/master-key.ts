/**
 * The vault master key: 32 random bytes that wrap every per-subject key.
 *
 * Why a master key at all: the vault database alone (a backup, a stolen
 * disk image of `<data>/vault`) then reveals no personal value. Keep the key
 * file elsewhere (TLOG_VAULT_KEY_FILE) to make that separation real.
 * Erasure never needs it rotated: shredding deletes the subject's wrapped
 * key, and without it the subject's ciphertexts are noise even to the
 * holder of the master key.
 */

import { writeSecretFile } from '../secret-file.js';
import { readFile } from 'node:fs/promises';
import { fromBase64, toBase64 } from '../bytes/index.js';
import { KEY_BYTES, random } from './crypto.js';

const HEADER = 'agent-tlog vault key v1';

export async function loadOrCreateMasterKey(path: string): Promise<{ key: Uint8Array; created: boolean }> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text !== undefined) {
    const [header, b64] = text.trim().split('\n');
    const key = header === HEADER && b64 !== undefined ? fromBase64(b64.trim()) : undefined;
    if (!key || key.length !== KEY_BYTES) throw new Error(`${path} is not a vault key file ("${HEADER}" then 32 bytes of base64)`);
    return { key, created: false };
  }
  const key = random(KEY_BYTES);
  await writeSecretFile(path, `${HEADER}\n${toBase64(key)}\n`);
  return { key, created: true };
}
