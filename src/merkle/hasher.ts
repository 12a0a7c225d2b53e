/**
 * RFC 6962 §2.1 / RFC 9162 §2.1 hashing with an injected SHA-256, so the
 * server can use node:crypto and the browser verifier @noble/hashes while
 * sharing every line of tree logic.
 */

/** A SHA-256 implementation over one buffer. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

export const HASH_SIZE = 32;

export interface Hasher {
  /** MTH({}) = SHA-256("") — no prefix byte. */
  emptyRoot(): Uint8Array;
  /** MTH({d}) = SHA-256(0x00 ‖ d). */
  hashLeaf(leaf: Uint8Array): Uint8Array;
  /** SHA-256(0x01 ‖ left ‖ right). */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
}

/** Leaves hashed through the hasher's reused buffer; a longer one gets its own copy. */
const SHARED_LEAF = 64 * 1024;

/** Builds the RFC 6962 hasher over a SHA-256 function. */
export function rfc6962Hasher(sha256: Sha256): Hasher {
  const empty = sha256(new Uint8Array(0));
  // hashChildren runs hundreds of times per proof: reuse one 65-byte buffer.
  // Safe because sha256 consumes its input synchronously.
  const node = new Uint8Array(1 + 2 * HASH_SIZE);
  node[0] = 0x01;
  let leafBuf = new Uint8Array(1024);
  return {
    emptyRoot: () => empty.slice(),
    hashLeaf(leaf) {
      // Every appended leaf and every leaf a query lists is hashed: leaves up
      // to SHARED_LEAF bytes go through one reused buffer (sha256 consumes it
      // synchronously), not a fresh copy each.
      if (leaf.length > SHARED_LEAF) {
        const buf = new Uint8Array(1 + leaf.length);
        buf.set(leaf, 1);
        return sha256(buf);
      }
      if (leafBuf.length < 1 + leaf.length) leafBuf = new Uint8Array(Math.min(1 + SHARED_LEAF, Math.max(1 + leaf.length, 2 * leafBuf.length)));
      leafBuf[0] = 0x00;
      leafBuf.set(leaf, 1);
      return sha256(leafBuf.subarray(0, 1 + leaf.length));
    },
    hashChildren(left, right) {
      if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
        // Not tree hashes (e.g. the RFC 6962 "N123"/"N456" vector): hash the
        // exact concatenation. The shared buffer would keep stale bytes.
        const buf = new Uint8Array(1 + left.length + right.length);
        buf[0] = 0x01;
        buf.set(left, 1);
        buf.set(right, 1 + left.length);
        return sha256(buf);
      }
      node.set(left, 1);
      node.set(right, 1 + HASH_SIZE);
      return sha256(node);
    },
  };
}
