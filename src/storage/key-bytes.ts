/**
 * Byte arrays for LevelDB keys and small values made on a hot path.
 *
 * V8 keeps a `new Uint8Array(n)` of up to 64 bytes on its own heap. The
 * LevelDB binding can only read off-heap memory, so for each such array it
 * handed one, V8 first allocates a backing store and copies the bytes out:
 * about a microsecond per key, twice what the put itself costs (measured on
 * classic-level's chained batch). Views of one shared off-heap slab skip
 * that: they are off-heap from birth.
 *
 * A view keeps its whole slab alive, and the current slab stays reachable
 * from here (and through any later view's `.buffer`) until it is full. So
 * use this only for bytes that are written and dropped (keys and values of
 * a batch), not for bytes kept in a cache; and zero a buffer that held
 * personal data as soon as it has been copied out (sealing.ts does).
 */

const SLAB_BYTES = 64 * 1024;
/** Larger arrays are off-heap anyway (and would waste a slab's tail). */
const MAX_FROM_SLAB = 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** `n` zeroed bytes, off V8's heap. */
export function keyBytes(n: number): Uint8Array {
  if (n > MAX_FROM_SLAB) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const b = new Uint8Array(slab, used, n);
  used += n;
  return b;
}
