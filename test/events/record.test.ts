// The leaf record: encodeRecord/decodeRecord, the 65,535-byte limit, and
// shape checks on decode.
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { MAX_LEAF_BYTES, decodeRecord, encodeCanonical, encodeRecord, parseEvent, type AuditEvent, type LogRecord } from '../../src/events/index.js';
import { expectTlogError, fixedIds, hex, minimalEvent } from './helpers.js';

const event = parseEvent(minimalEvent(), fixedIds);
const record: LogRecord = { v: 1, tenant: 'acme', logged_at: 1_741_083_330_123, event };

describe('encodeRecord / decodeRecord', () => {
  it('round-trips, and the leaf re-encodes to identical bytes', () => {
    const leaf = encodeRecord(record);
    const back = decodeRecord(leaf);
    expect(back).toEqual(record);
    expect(hex(encodeRecord(back))).toBe(hex(leaf));
  });

  it('sorts the record keys canonically: v, event, tenant, logged_at', () => {
    const leaf = encodeRecord(record);
    expect(hex(leaf.subarray(0, 4))).toBe('a4617601'); // map(4), "v", 1
    expect(Object.keys(decodeRecord(leaf))).toEqual(['v', 'event', 'tenant', 'logged_at']);
  });

  it('writes logged_at as an integer, never a float', () => {
    const leaf = hex(encodeRecord(record));
    expect(leaf.endsWith('696c6f676765645f61741b0000019560a7464b')).toBe(true);
  });

  it('encodes only the four record fields', () => {
    const withExtra = { ...record, extra: 'ignored' } as LogRecord;
    expect(hex(encodeRecord(withExtra))).toBe(hex(encodeRecord(record)));
  });

  it('throws TypeError for records that are not v1-shaped (caller bugs)', () => {
    const bad: unknown[] = [
      { ...record, v: 2 },
      { ...record, tenant: '' },
      { ...record, logged_at: 1.5 },
      { ...record, logged_at: -1 },
      { ...record, event: [] },
      { ...record, event: { actor: {} } },
    ];
    for (const r of bad) expect(() => encodeRecord(r as LogRecord)).toThrow(TypeError);
  });

  it('keeps a leaf of exactly 65,535 bytes and refuses 65,536 with LEAF_TOO_LARGE (413)', () => {
    const withPad = (n: number): LogRecord => ({ ...record, event: { ...event, metadata: { pad: 'x'.repeat(n) } } });
    const base = encodeRecord(withPad(1000)).length; // 3-byte text head from 256 to 65,535 bytes
    const fit = 1000 + (MAX_LEAF_BYTES - base);
    expect(encodeRecord(withPad(fit)).length).toBe(MAX_LEAF_BYTES);
    const e = expectTlogError(() => encodeRecord(withPad(fit + 1)), 'LEAF_TOO_LARGE');
    expect(e.status).toBe(413);
    expect(e.details).toEqual({ size: MAX_LEAF_BYTES + 1, max: MAX_LEAF_BYTES });
  });

  it('a schema-valid event can still be too large for a leaf', () => {
    const big = 'y'.repeat(16_000);
    const ev = parseEvent(
      minimalEvent({ command: { text: big }, metadata: { a: big }, change: { previous_value: big, proposed_value: big }, reasoning: { summary: 'z'.repeat(4096) } }),
    );
    expectTlogError(() => encodeRecord({ ...record, event: ev }), 'LEAF_TOO_LARGE');
  });
});

describe('decodeRecord refuses what is not a v1 record', () => {
  const shapes: Array<[string, unknown]> = [
    ['not a map', [1, 2]],
    ['missing event', { v: 1, tenant: 't', logged_at: 1 }],
    ['extra key', { v: 1, tenant: 't', logged_at: 1, event: { event_id: 'e' }, x: 1 }],
    ['version 2', { v: 2, tenant: 't', logged_at: 1, event: { event_id: 'e' } }],
    ['empty tenant', { v: 1, tenant: '', logged_at: 1, event: { event_id: 'e' } }],
    ['numeric tenant', { v: 1, tenant: 7, logged_at: 1, event: { event_id: 'e' } }],
    ['float logged_at', { v: 1, tenant: 't', logged_at: 1.5, event: { event_id: 'e' } }],
    ['negative logged_at', { v: 1, tenant: 't', logged_at: -1, event: { event_id: 'e' } }],
    ['event not a map', { v: 1, tenant: 't', logged_at: 1, event: 'e' }],
    ['event without event_id', { v: 1, tenant: 't', logged_at: 1, event: {} }],
  ];
  it.each(shapes)('%s → MALFORMED', (_name, value) => {
    expectTlogError(() => decodeRecord(encodeCanonical(value)), 'MALFORMED');
  });

  it('refuses non-canonical leaves with NOT_CANONICAL', () => {
    const leaf = encodeRecord(record);
    // Re-encode logged_at as a float64: same value, different bytes.
    const asFloat = hex(leaf).replace('1b0000019560a7464b', 'fb' + hex(new Uint8Array(new Float64Array([record.logged_at]).buffer).reverse()));
    expectTlogError(() => decodeRecord(Uint8Array.from(asFloat.match(/../g)!.map((h) => parseInt(h, 16)))), 'NOT_CANONICAL');
  });

  it('refuses leaves over 65,535 bytes and garbage with MALFORMED, never another error', () => {
    expectTlogError(() => decodeRecord(new Uint8Array(MAX_LEAF_BYTES + 1)), 'MALFORMED');
    expectTlogError(() => decodeRecord(new Uint8Array([0xa4])), 'MALFORMED');
    expectTlogError(() => decodeRecord(null as unknown as Uint8Array), 'MALFORMED');
    for (let b = 0; b < 256; b++) {
      try {
        decodeRecord(new Uint8Array([b, 0, 0]));
      } catch (e) {
        expect(e).toBeInstanceOf(TlogError);
      }
    }
  });

  it('does not re-validate the stored event against the input schema (vault pointers, scrubbed values)', () => {
    const stored = {
      ...event,
      pii: { email: { $pii: 'vault:01', subject: 'pseudonym-1', commitment: 'q83vEjRWeJA=' } },
    } as unknown as AuditEvent;
    const leaf = encodeRecord({ ...record, event: stored });
    expect(decodeRecord(leaf).event).toEqual(stored);
  });
});

describe('encodeRecordFromEventBytes', () => {
  it('gives the same bytes as encodeRecord for arbitrary events, tenants and times', async () => {
    const fc = (await import('fast-check')).default;
    const { encodeCanonical, encodeRecord, encodeRecordFromEventBytes } = await import('../../src/events/index.js');
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (extra, tenant, loggedAt) => {
          const event = { ...JSON.parse(JSON.stringify(extra)), event_id: '01890a5d-ac96-774b-bcce-b302099a8057' } as never;
          const a = encodeRecord({ v: 1, tenant, logged_at: loggedAt, event });
          const b = encodeRecordFromEventBytes(encodeCanonical(event), tenant, loggedAt);
          expect(Buffer.from(b).toString('hex')).toBe(Buffer.from(a).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
