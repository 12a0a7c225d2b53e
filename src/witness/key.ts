/**
 * The witness's own Ed25519 key: `<data>/witness.key`, mode 0600, generated on
 * first start, never printed. It is stored as an ordinary Go note private key
 * (`PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)`), the form
 * transparency-dev/formats' `NewSignerForCosignatureV1` takes; the witness
 * signs with it as a cosignature/v1 (type 0x04) key, whose verifier key and key
 * ID differ from the 0x01 ones in the file.
 */

import { readSignerKeyFile } from '../log/signing-key.js';
import { writeSecretFile } from '../secret-file.js';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TlogError } from '../errors.js';
import { decodeSignerKey, ed25519Signer, formatSignerKey, type CosignatureSigner } from '../note/index.js';
import { nodeCosignatureSigner } from './node-ed25519.js';

/**
 * Loads `<dir>/witness.key`, or creates it (O_EXCL, 0600) for `name` when absent.
 * A `name` that differs from the stored key's name is refused: a witness's
 * identity is (name, key), and its cosignatures would stop matching the vkey
 * that logs and clients were given.
 */
export async function loadOrCreateWitnessKey(
  dir: string,
  name: string | undefined,
  nowSeconds: () => number,
): Promise<{ signer: CosignatureSigner; created: boolean }> {
  const path = join(dir, 'witness.key');
  const parsed = await readSignerKeyFile(path);
  if (parsed !== undefined) {
    try {
      if (name !== undefined && parsed.name !== name)
        throw new TlogError('STORE_CORRUPT', `the witness key in ${path} is named "${parsed.name}", not "${name}"`);
      if (ed25519Signer(parsed.name, parsed.seed).keyId !== parsed.keyId) throw new TlogError('STORE_CORRUPT', `the key id in ${path} does not match its key`);
      return { signer: nodeCosignatureSigner(parsed.name, parsed.seed, nowSeconds), created: false };
    } finally {
      parsed.seed.fill(0);
    }
  }
  if (name === undefined) throw new TlogError('INVALID_PARAMETER', `no witness key in ${dir}: give a witness name (--name) to create one`);
  const seed = new Uint8Array(randomBytes(32));
  try {
    await writeSecretFile(path, formatSignerKey(name, seed) + '\n');
    return { signer: nodeCosignatureSigner(name, seed, nowSeconds), created: true };
  } finally {
    seed.fill(0);
  }
}
