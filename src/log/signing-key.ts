/**
 * The log's Ed25519 signing key: `<data>/log.key`, mode 0600, in Go's
 * x/mod/sumdb/note private-key format (`PRIVATE+KEY+<name>+<id>+<base64>`),
 * so Go tooling can load it too. Generated on first start, never printed.
 *
 * Signing uses node:crypto (about 20× faster than noble here, and Ed25519 is
 * deterministic, so the bytes are identical); the pure note module only sees
 * the NoteSigner interface.
 */

import { writeSecretFile } from '../secret-file.js';
import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TlogError } from '../errors.js';
import { decodeSignerKey, formatSignerKey, formatVerifierKey, keyIdFor, SIG_TYPE_ED25519, type NoteSigner } from '../note/index.js';

// RFC 8410 PKCS#8 wrapping of a raw 32-byte Ed25519 seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface LogSigner extends NoteSigner {
  readonly publicKey: Uint8Array;
  readonly verifierKey: string;
}

export function nodeEd25519Signer(name: string, seed: Uint8Array): LogSigner {
  if (seed.length !== 32) throw new RangeError(`expected a 32-byte Ed25519 seed, got ${seed.length}`);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return {
    name,
    keyId: keyIdFor(name, SIG_TYPE_ED25519, publicKey),
    publicKey,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (msg) => new Uint8Array(nodeSign(null, msg, key)),
  };
}

/**
 * Reads a signed-note private key file; undefined when it does not exist.
 * STORE_CORRUPT when it exists but is not one (never replaced silently).
 */
export async function readSignerKeyFile(path: string): Promise<ReturnType<typeof decodeSignerKey> | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return decodeSignerKey(text);
  } catch (e) {
    throw new TlogError('STORE_CORRUPT', `couldn't read ${path}: not a signed-note private key`, { cause: e });
  }
}

/**
 * Loads `<dir>/log.key`, or creates it (O_EXCL, 0600) when absent. The key
 * name must equal the origin: a log's identity is (origin, key).
 */
export async function loadOrCreateSigningKey(dir: string, origin: string): Promise<{ signer: LogSigner; created: boolean }> {
  const path = join(dir, 'log.key');
  const parsed = await readSignerKeyFile(path);
  if (parsed !== undefined) {
    if (parsed.name !== origin)
      throw new TlogError('STORE_CORRUPT', `the signing key in ${path} is for origin "${parsed.name}", not "${origin}"`);
    const signer = nodeEd25519Signer(origin, parsed.seed);
    parsed.seed.fill(0);
    if (signer.keyId !== parsed.keyId) throw new TlogError('STORE_CORRUPT', `the key id in ${path} does not match its key`);
    return { signer, created: false };
  }
  const seed = new Uint8Array(randomBytes(32));
  await writeSecretFile(path, formatSignerKey(origin, seed) + '\n');
  return { signer: nodeEd25519Signer(origin, seed), created: true };
}
