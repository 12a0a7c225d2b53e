import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, fromUtf8, portableToBase64, toBase64, toHex, utf8 } from '../src/bytes/index.js';
import { nodeBase64 } from '../src/server.js';

describe('bytes', () => {
  it('toBase64 equals standard padded base64 for any bytes, including leaves near 64 KiB', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => {
        expect(portableToBase64(b)).toBe(Buffer.from(b).toString('base64'));
        // The server's native encoder must agree exactly, on views with offsets too.
        const view = new Uint8Array(b.length + 3);
        view.set(b, 3);
        expect(nodeBase64(view.subarray(3))).toBe(portableToBase64(b));
        expect(Buffer.from(fromBase64(toBase64(b))!).equals(Buffer.from(b))).toBe(true);
      }),
    );
    const big = new Uint8Array(65535).map((_, i) => (i * 31) & 255);
    expect(portableToBase64(big)).toBe(Buffer.from(big).toString('base64'));
    expect(toBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });

  it('fromBase64 refuses what is not padded standard base64', () => {
    for (const bad of ['A', 'AB=', 'A===', '====', 'AB-_', 'AB\nC', 'YQ==YQ==', 'é000']) expect(fromBase64(bad)).toBeUndefined();
    expect(fromBase64('')).toEqual(new Uint8Array(0));
  });

  it('fromUtf8 keeps a leading byte-order mark and refuses invalid UTF-8', () => {
    expect(fromUtf8(utf8('\uFEFFrun-1'))).toBe('\uFEFFrun-1');
    expect(fromUtf8(new Uint8Array([0xff]))).toBeUndefined();
  });

  it('hex round-trips and refuses odd or non-hex input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(Array.from(fromHex(toHex(b))!)).toEqual(Array.from(b));
      }),
    );
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
  });
});
