/**
 * node:crypto Ed25519 for the server-side witness code (the log's witness
 * client and the witness server). The pure note module verifies with noble,
 * about 10× slower; on a log that verifies k cosignatures per round, on its
 * one event-loop thread, that difference is throughput. Ed25519 is
 * deterministic, so signatures are byte-identical; the verifiers here wrap
 * and replace the pure ones without changing what they accept for honest keys.
 */

import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { COSIGNATURE_LENGTH, cosignatureSigner, type CosignatureSigner, type CosignatureVerifier, type NoteVerifier } from '../note/index.js';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const MAX_TIMESTAMP = (1n << 63n) - 1n;

function publicKeyObject(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' });
}

function cosignaturePrefix(t: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${t}\n`);
}

/** The same cosignature verifier, verifying with node:crypto. */
export function nodeCosignatureVerifier(v: CosignatureVerifier): CosignatureVerifier {
  const key = publicKeyObject(v.publicKey);
  return Object.freeze({
    name: v.name,
    keyId: v.keyId,
    sigType: v.sigType,
    publicKey: v.publicKey,
    verify(msg: Uint8Array, sig: Uint8Array): boolean {
      if (sig.length !== COSIGNATURE_LENGTH) return false;
      const t = Buffer.from(sig.buffer, sig.byteOffset, 8).readBigUInt64BE(0);
      if (t > MAX_TIMESTAMP) return false;
      return nodeVerify(null, Buffer.concat([cosignaturePrefix(t), msg]), key, sig.subarray(8));
    },
  });
}

/** The same Ed25519 (0x01) note verifier, verifying with node:crypto. */
export function nodeNoteVerifier<V extends NoteVerifier & { publicKey: Uint8Array }>(v: V): V {
  const key = publicKeyObject(v.publicKey);
  return Object.freeze({ ...v, verify: (msg: Uint8Array, sig: Uint8Array) => sig.length === 64 && nodeVerify(null, msg, key, sig) });
}

/** A cosigner that signs with node:crypto (same bytes as the pure one). */
export function nodeCosignatureSigner(name: string, seed: Uint8Array, nowSeconds: () => number): CosignatureSigner {
  const pure = cosignatureSigner(name, seed, nowSeconds); // validates, derives the key and key ID
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return Object.freeze({
    name: pure.name,
    keyId: pure.keyId,
    publicKey: pure.publicKey,
    verifierKey: pure.verifierKey,
    sign(msg: Uint8Array): Uint8Array {
      const now = nowSeconds();
      if (!Number.isSafeInteger(now) || now < 0) throw new RangeError(`cosignature timestamp: expected an integer in [0, 2^53 − 1], got ${now}`);
      const t = BigInt(now);
      const out = new Uint8Array(COSIGNATURE_LENGTH);
      new DataView(out.buffer).setBigUint64(0, t);
      out.set(nodeSign(null, Buffer.concat([cosignaturePrefix(t), msg]), key), 8);
      return out;
    },
  });
}
