/**
 * TLOG_PII_PATHS: each moved value's reference is put back at its path, so
 * no moved path may lie inside another (a reference would be written into
 * a reference). A subject path inside a listed path moves with that value.
 */

import { describe, expect, it } from 'vitest';
import { parsePiiPaths } from '../../src/ingest/pii-paths.js';

const texts = (s: string) => parsePiiPaths(s).map((p) => p.text);

describe('parsePiiPaths', () => {
  it('moves a subject path as a value of its own, once', () => {
    expect(texts('target.email,metadata.customer.phone@metadata.customer.id,metadata.customer.fax@metadata.customer.id')).toEqual([
      'target.email',
      'metadata.customer.phone',
      'metadata.customer.fax',
      'metadata.customer.id',
    ]);
  });

  it('does not move a subject path again when it lies inside a listed path (the id goes with the whole value)', () => {
    expect(texts('metadata.customer@metadata.customer.id')).toEqual(['metadata.customer']);
    expect(texts('metadata.req@metadata.req.subject')).toEqual(['metadata.req']);
    expect(texts('target.email@metadata.customer.id,metadata.customer')).toEqual(['target.email', 'metadata.customer']);
  });

  it('refuses listed paths that nest, or repeat', () => {
    expect(() => parsePiiPaths('metadata.a,metadata.a.b')).toThrow('metadata.a.b lies inside metadata.a, which is moved whole');
    expect(() => parsePiiPaths('metadata.a.b,metadata.a')).toThrow('metadata.a.b lies inside metadata.a');
    expect(() => parsePiiPaths('target.email,target.email')).toThrow('target.email is listed twice');
    expect(() => parsePiiPaths('metadata.x@metadata.s,metadata.s.t')).toThrow('metadata.s.t lies inside the subject path metadata.s');
  });

  it('keeps siblings and look-alike prefixes apart', () => {
    expect(texts('metadata.ab,metadata.a,metadata.a_b')).toEqual(['metadata.ab', 'metadata.a', 'metadata.a_b']);
  });
});
