/**
 * Opaque paging cursors: base64url JSON of the position (the last index a
 * page examined), the order, and a fingerprint of the tenant and filters.
 * A cursor replayed with other filters, another order or another tenant is
 * refused (INVALID_CURSOR) instead of silently returning a wrong page.
 */

import { createHash } from 'node:crypto';
import { TlogError } from '../errors.js';

export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeCursor(after: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ v: 1, a: after, f: fingerprint })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string): number {
  let c: { v?: unknown; a?: unknown; f?: unknown } | undefined;
  if (/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) {
    try {
      c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof c;
    } catch {
      c = undefined;
    }
  }
  if (!c || c.v !== 1 || typeof c.a !== 'number' || !Number.isSafeInteger(c.a) || c.a < 0 || typeof c.f !== 'string')
    throw new TlogError('INVALID_CURSOR', 'the cursor is not one this server handed out');
  if (c.f !== fingerprint) throw new TlogError('INVALID_CURSOR', 'the cursor belongs to a query with other filters, order or tenant');
  return c.a;
}
