/**
 * UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7,
 * 12 bits rand_a, the variant 0b10, 62 bits rand_b. The time prefix makes
 * event ids sort by creation time, which keeps index keys local.
 *
 * Clock and randomness are parameters (defaults: Date.now and
 * globalThis.crypto.getRandomValues, present in Node ≥ 19 and browsers), so
 * tests and replays are deterministic.
 */
import { toHex } from '../bytes/index.js';

/** Returns `n` random bytes. */
export type RandomSource = (n: number) => Uint8Array;
/** Returns the current time in Unix milliseconds. */
export type Clock = () => number;

/** Cryptographic randomness from the platform's Web Crypto. */
export const defaultRandom: RandomSource = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** Injectable sources for UUIDv7 generation. */
export interface UuidV7Options {
  now?: Clock;
  random?: RandomSource;
}

const MAX_MS = 2 ** 48 - 1;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function checkMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) throw new RangeError('uuidv7: the clock must give integer milliseconds in [0, 2^48)');
  return ms;
}

function randomBytes(random: RandomSource, n: number): Uint8Array {
  const b = random(n);
  if (!(b instanceof Uint8Array) || b.length < n) throw new RangeError(`uuidv7: the random source must return ${n} bytes`);
  return b;
}

/** Lays out the 16 bytes; `randA` is 12 bits, `tail` holds 8 bytes for rand_b. */
function format(ms: number, randA: number, tail: Uint8Array): string {
  const b = new Uint8Array(16);
  const hi = Math.floor(ms / 2 ** 32); // top 16 of the 48 bits
  const lo = ms >>> 0;
  b[0] = hi >>> 8;
  b[1] = hi & 0xff;
  b[2] = lo >>> 24;
  b[3] = (lo >>> 16) & 0xff;
  b[4] = (lo >>> 8) & 0xff;
  b[5] = lo & 0xff;
  b[6] = 0x70 | ((randA >>> 8) & 0x0f); // version 7
  b[7] = randA & 0xff;
  b[8] = 0x80 | (tail[0]! & 0x3f); // variant 0b10
  b.set(tail.subarray(1, 8), 9);
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * One UUIDv7 with 74 random bits. Stateless: two ids from the same
 * millisecond are unique but in random order; use
 * {@link createUuidV7Generator} when order within a millisecond matters.
 */
export function uuidv7(opts: UuidV7Options = {}): string {
  const ms = checkMs((opts.now ?? Date.now)());
  const r = randomBytes(opts.random ?? defaultRandom, 10);
  return format(ms, ((r[0]! << 8) | r[1]!) & 0xfff, r.subarray(2, 10));
}

/**
 * A generator of strictly increasing UUIDv7s (RFC 9562 §6.2, method 1: a
 * 12-bit counter in rand_a). On a new millisecond the counter restarts at a
 * random value below 2^11, leaving at least 2,048 increments before it would
 * wrap; when it would, or when the clock steps backwards, the generator
 * keeps using (and if needed advances) the last timestamp instead, so ids
 * never go back in order. rand_b stays random (62 bits).
 */
export function createUuidV7Generator(opts: UuidV7Options = {}): () => string {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? defaultRandom;
  let lastMs = -1;
  let counter = 0;
  return () => {
    const ms = checkMs(now());
    const r = randomBytes(random, 10);
    const seed = ((r[0]! << 8) | r[1]!) & 0x7ff;
    if (ms > lastMs) {
      lastMs = ms;
      counter = seed;
    } else if (counter < 0xfff) {
      counter++;
    } else {
      lastMs = checkMs(lastMs + 1);
      counter = seed;
    }
    return format(lastMs, counter, r.subarray(2, 10));
  };
}

/** True for a lowercase UUIDv7 string (version 7, RFC 9562 variant). */
export function isUuidV7(s: string): boolean {
  return UUID_V7.test(s);
}

/** The Unix-millisecond timestamp of a UUIDv7 (any case). */
export function uuidv7Timestamp(s: string): number {
  const hex = s.slice(0, 8) + s.slice(9, 13);
  return parseInt(hex, 16);
}
