/** Strict parsing of path and query parameters: garbage is a 400, never a NaN downstream. */

import { fromBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';

/** A query parameter given twice arrives as an array: refused by name. */
export function onlyOnce(value: unknown, name: string): void {
  if (Array.isArray(value)) throw new TlogError('INVALID_PARAMETER', `${name} must be given once`);
}

/** A non-negative safe integer in canonical decimal (no sign, no leading zeros, no exponent). */
export function parseCount(value: unknown, name: string): number {
  if (value === undefined) throw new TlogError('MISSING_PARAMETER', `${name} is required`);
  onlyOnce(value, name);
  if (typeof value !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(value))
    throw new TlogError('INVALID_PARAMETER', `${name} must be a non-negative integer in decimal`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new TlogError('INVALID_PARAMETER', `${name} is too large`);
  return n;
}

export function parseHashParam(value: unknown, name: string): Uint8Array {
  if (value === undefined) throw new TlogError('MISSING_PARAMETER', `${name} is required`);
  onlyOnce(value, name);
  const h = typeof value === 'string' && value.length === 44 ? fromBase64(value) : undefined;
  if (!h || h.length !== 32) throw new TlogError('INVALID_PARAMETER', `${name} must be a 32-byte hash in standard base64`);
  return h;
}

/** Opaque ids in paths: bounded, printable ASCII without separators. */
export function parseId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(value))
    throw new TlogError('INVALID_PARAMETER', `${name} must be 1–128 characters of [A-Za-z0-9._:-]`);
  return value;
}
