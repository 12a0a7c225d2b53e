// UUIDv7 (RFC 9562 §5.7) with an injected clock and randomness.
import { describe, expect, it } from 'vitest';
import { createUuidV7Generator, isUuidV7, uuidv7, uuidv7Timestamp } from '../../src/events/index.js';

const ones = (n: number) => new Uint8Array(n).fill(0xff);
const zeros = (n: number) => new Uint8Array(n);

function bytesOf(id: string): number[] {
  const h = id.replace(/-/g, '');
  return Array.from({ length: 16 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
}

describe('uuidv7', () => {
  it('lays out timestamp, version and variant (RFC 9562 §5.7)', () => {
    // RFC 9562 Appendix A.6 uses 0x017F22E279B0 = Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00.
    const id = uuidv7({ now: () => 0x017f22e279b0, random: zeros });
    expect(id).toBe('017f22e2-79b0-7000-8000-000000000000');
    expect(uuidv7({ now: () => 0x017f22e279b0, random: ones })).toBe('017f22e2-79b0-7fff-bfff-ffffffffffff');
    const b = bytesOf(id);
    expect(b[6]! >> 4).toBe(7);
    expect(b[8]! >> 6).toBe(0b10);
  });

  it('encodes the full 48-bit timestamp', () => {
    expect(uuidv7({ now: () => 2 ** 48 - 1, random: zeros }).slice(0, 13)).toBe('ffffffff-ffff');
    expect(uuidv7({ now: () => 0, random: zeros }).slice(0, 13)).toBe('00000000-0000');
    expect(uuidv7Timestamp(uuidv7({ now: () => 1_741_083_330_123 }))).toBe(1_741_083_330_123);
  });

  it('uses the injected randomness for the 74 random bits', () => {
    const r = (n: number) => Uint8Array.from({ length: n }, (_, i) => i + 1);
    // rand_a = 0x0102 & 0xfff; byte 8 = 0x80 | (0x03 & 0x3f); then 04..0a.
    expect(uuidv7({ now: () => 0, random: r })).toBe('00000000-0000-7102-8304-05060708090a');
  });

  it('is unique with the default random source', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uuidv7()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isUuidV7(id)).toBe(true);
  });

  it('rejects a bad clock or random source', () => {
    for (const t of [NaN, -1, 1.5, 2 ** 48, Infinity]) expect(() => uuidv7({ now: () => t })).toThrow(RangeError);
    expect(() => uuidv7({ random: () => new Uint8Array(3) })).toThrow(RangeError);
  });

  it('isUuidV7 checks version and variant', () => {
    expect(isUuidV7('017f22e2-79b0-7cc3-98c4-dc0c0c07398f')).toBe(true);
    expect(isUuidV7('017f22e2-79b0-4cc3-98c4-dc0c0c07398f')).toBe(false); // version 4
    expect(isUuidV7('017f22e2-79b0-7cc3-c8c4-dc0c0c07398f')).toBe(false); // variant 0b110
  });
});

describe('createUuidV7Generator', () => {
  it('is strictly increasing within one millisecond', () => {
    const next = createUuidV7Generator({ now: () => 1_700_000_000_000 });
    const ids = Array.from({ length: 10_000 }, next);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(isUuidV7(id)).toBe(true);
  });

  it('advances the timestamp when the 12-bit counter would wrap', () => {
    // Random seed 0x7ff (highest), so 2,048 more ids fit in the millisecond.
    const next = createUuidV7Generator({ now: () => 1000, random: ones });
    const ids = Array.from({ length: 2049 }, next);
    expect(uuidv7Timestamp(ids[0]!)).toBe(1000);
    expect(ids[0]!.slice(14, 18)).toBe('77ff');
    expect(ids[2048]!.slice(14, 18)).toBe('7fff');
    const after = next();
    expect(uuidv7Timestamp(after)).toBe(1001);
    expect(after > ids[2048]!).toBe(true);
  });

  it('stays increasing when the clock steps backwards', () => {
    const times = [5000, 5000, 4000, 3000, 5001, 4999];
    let i = 0;
    const next = createUuidV7Generator({ now: () => times[i++]! });
    const ids = times.map(() => next());
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(uuidv7Timestamp)).toEqual([5000, 5000, 5000, 5000, 5001, 5001]);
  });

  it('restarts the counter at a random value on a new millisecond', () => {
    let t = 0;
    const next = createUuidV7Generator({ now: () => t, random: zeros });
    expect(next().slice(14, 18)).toBe('7000');
    expect(next().slice(14, 18)).toBe('7001');
    t = 1;
    expect(next().slice(14, 18)).toBe('7000');
  });
});
