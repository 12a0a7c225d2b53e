// parseEvent: required fields, unknown fields, nested strictness, enums,
// limits, the structural walk (depth, non-JSON values, prototype pollution),
// and that error messages never echo values.
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { EVENT_LIMITS, isUuidV7, parseEvent, uuidv7Timestamp, type AuditEvent } from '../../src/events/index.js';
import { expectTlogError, fixedIds, minimalEvent, nestArrays } from './helpers.js';

function issuesOf(input: unknown, opts = {}): Array<{ path: string; message: string }> {
  const e = expectTlogError(() => parseEvent(input, opts), 'SCHEMA_VIOLATION');
  expect(e.status).toBe(422);
  return e.details!.issues as Array<{ path: string; message: string }>;
}

function paths(input: unknown): string[] {
  return issuesOf(input).map((i) => i.path);
}

describe('accepting events', () => {
  it('accepts the minimal event and assigns a UUIDv7 event_id from the injected clock', () => {
    const ev = parseEvent(minimalEvent(), fixedIds);
    expect(ev.event_id).toBe('018bcfe5-6800-7000-8000-000000000000');
    expect(isUuidV7(ev.event_id)).toBe(true);
    expect(uuidv7Timestamp(ev.event_id)).toBe(fixedIds.now());
    expect(ev).toEqual({ ...minimalEvent(), event_id: ev.event_id });
  });

  it('keeps a supplied event_id, in lowercase', () => {
    const id = '0190A1B2-C3D4-4E5F-8A9B-0C1D2E3F4A5B';
    expect(parseEvent(minimalEvent({ event_id: id })).event_id).toBe(id.toLowerCase());
  });

  it('uses generateId when given', () => {
    expect(parseEvent(minimalEvent(), { generateId: () => 'x-id' }).event_id).toBe('x-id');
  });

  it('accepts every field at once', () => {
    const full = {
      event_id: '01890a5d-ac96-774b-bcce-b302099a8057',
      ts: '2025-01-31T13:00:00.250+01:00',
      run_id: 'run-1',
      session_id: 'sess-1',
      parent_event_id: '01890a5d-ac96-774b-bcce-b302099a8056',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      actor: { type: 'agent', id: 'agent:billing', version: '1.2.0', on_behalf_of: 'user:alice' },
      action: { type: 'db.update', name: 'update_contact', tool: 'crm' },
      target: { system: 'crm', resource: 'contacts/42', environment: 'prod' },
      data_accessed: ['crm:contacts/42', { type: 'contact', id: '42', fields: ['email'], classification: 'pii' }],
      reasoning: { summary: 'Line one.\nLine two.', model: 'm', confidence: 1 },
      policy: { decision: 'ALLOW', matched_rule: 'r1', policy_snapshot: 'sha256:abc' },
      approval: { required: false, status: 'not_required', approver: 'u', approved_at: '2025-01-31T12:00:00Z', note: 'ok' },
      dispatch: { executor: 'worker-3', dispatched_at: '2025-01-31T12:00:01Z' },
      risk: { score: 0, factors: [] },
      command: { text: 'ls -la\n', shell: 'bash', cwd: '/tmp' },
      change: { previous_value: null, proposed_value: { email: 'new' } },
      result: { status: 'success', detail: 'done', exit_code: -1, duration_ms: 0 },
      metadata: { any: [1, 'two', { three: true }], nested: { deeper: null } },
      pii: { email: { subject: 'user:alice', value: 'alice@example.com' } },
      retention: 'compliance',
    };
    const ev = parseEvent(full);
    expect(ev).toEqual(full);
  });

  it('returns a plain JSON copy that shares nothing with the input', () => {
    const input = minimalEvent({ metadata: { list: [1, { a: 1 }] } });
    const ev = parseEvent(input, fixedIds);
    (input.metadata as { list: unknown[] }).list.push(2);
    (input.actor as { id: string }).id = 'changed';
    expect(ev.metadata).toEqual({ list: [1, { a: 1 }] });
    expect(ev.actor.id).toBe('bot-1');
    expect(JSON.parse(JSON.stringify(ev))).toStrictEqual(ev);
  });

  it('stores -0 as 0 and safe bigints as numbers', () => {
    const ev = parseEvent(minimalEvent({ metadata: { z: -0, b: 12n } }));
    expect(Object.is(ev.metadata!.z, 0)).toBe(true);
    expect(ev.metadata!.b).toBe(12);
  });

  it('does not add keys for absent optional fields', () => {
    const ev = parseEvent(minimalEvent({ actor: { type: 'human', id: 'h' } }), fixedIds);
    expect(Object.keys(ev).sort()).toEqual(['action', 'actor', 'event_id']);
    expect(Object.keys(ev.actor)).toEqual(['type', 'id']);
  });
});

describe('required fields and shapes', () => {
  it('requires actor.type, actor.id and action.type', () => {
    expect(issuesOf({ actor: { type: 'agent', id: 'a' } })).toEqual([{ path: 'action', message: 'is required' }]);
    expect(issuesOf({ action: { type: 'x' } })).toEqual([{ path: 'actor', message: 'is required' }]);
    expect(issuesOf({ actor: { type: 'agent' }, action: {} })).toEqual([
      { path: 'actor.id', message: 'is required' },
      { path: 'action.type', message: 'is required' },
    ]);
  });

  it('requires a JSON object', () => {
    for (const v of [null, [], 'event', 42, undefined, new Map()]) {
      expect(issuesOf(v)).toEqual([{ path: '', message: 'must be a JSON object' }]);
    }
  });

  it('reports wrong types with the expected type', () => {
    expect(issuesOf(minimalEvent({ actor: { type: 'agent', id: 5 } }))).toEqual([{ path: 'actor.id', message: 'must be a string' }]);
    expect(issuesOf(minimalEvent({ risk: 'high' }))).toEqual([{ path: 'risk', message: 'must be an object' }]);
    expect(issuesOf(minimalEvent({ approval: { required: 'yes' } }))).toEqual([{ path: 'approval.required', message: 'must be a boolean' }]);
  });

  it('names unknown top-level fields with UNKNOWN_FIELDS (422)', () => {
    const e = expectTlogError(() => parseEvent(minimalEvent({ colour: 'blue', size: 3 })), 'UNKNOWN_FIELDS');
    expect(e.status).toBe(422);
    expect(e.details).toEqual({ fields: ['colour', 'size'] });
    expect(e.message).toContain('"colour"');
  });

  it('rejects unknown nested keys with their path', () => {
    expect(issuesOf(minimalEvent({ actor: { type: 'agent', id: 'a', nickname: 'x' } }))).toEqual([{ path: 'actor.nickname', message: 'is not a known field' }]);
    expect(paths(minimalEvent({ result: { status: 'success', extra: 1 } }))).toEqual(['result.extra']);
    expect(paths(minimalEvent({ data_accessed: [{ id: '1', secret_field: 1 }] }))).toEqual(['data_accessed[0].secret_field']);
    expect(paths(minimalEvent({ pii: { email: { subject: 's', value: 1, note: 'n' } } }))).toEqual(['pii.email']);
  });

  it('rejects enum violations and lists the allowed values', () => {
    expect(issuesOf(minimalEvent({ actor: { type: 'robot', id: 'a' } }))).toEqual([{ path: 'actor.type', message: 'must be one of: agent, human, system' }]);
    expect(issuesOf(minimalEvent({ policy: { decision: 'allow' } }))).toEqual([{ path: 'policy.decision', message: 'must be one of: ALLOW, DENY, REQUIRE_APPROVAL' }]);
    expect(paths(minimalEvent({ approval: { status: 'ok' } }))).toEqual(['approval.status']);
    expect(paths(minimalEvent({ result: { status: 'done' } }))).toEqual(['result.status']);
    expect(paths(minimalEvent({ retention: 'forever' }))).toEqual(['retention']);
  });

  it('checks data_accessed items as strings or described objects', () => {
    expect(parseEvent(minimalEvent({ data_accessed: ['s3://bucket/key', { type: 'row' }] })).data_accessed).toHaveLength(2);
    expect(issuesOf(minimalEvent({ data_accessed: [{}] }))).toEqual([{ path: 'data_accessed[0]', message: 'must name at least one of type, id, fields, classification' }]);
    expect(issuesOf(minimalEvent({ data_accessed: [{ fields: [1] }] }))).toEqual([{ path: 'data_accessed[0].fields[0]', message: 'must be a string' }]);
    expect(issuesOf(minimalEvent({ data_accessed: [7] }))).toEqual([{ path: 'data_accessed[0]', message: 'must be a string or an object of the documented shape' }]);
  });

  it('checks timestamps and UUIDs', () => {
    expect(paths(minimalEvent({ ts: '2025-01-31T12:00:00' }))).toEqual(['ts']); // no offset
    expect(paths(minimalEvent({ ts: '2025-02-30T12:00:00Z' }))).toEqual(['ts']); // no such day
    expect(paths(minimalEvent({ ts: '2025-01-31 12:00:00Z' }))).toEqual(['ts']);
    expect(parseEvent(minimalEvent({ ts: '2024-02-29T23:59:59.999999-05:30' })).ts).toBe('2024-02-29T23:59:59.999999-05:30');
    expect(paths(minimalEvent({ event_id: 'not-a-uuid' }))).toEqual(['event_id']);
    expect(paths(minimalEvent({ approval: { approved_at: 'yesterday' } }))).toEqual(['approval.approved_at']);
  });
});

describe('limits', () => {
  const L = EVENT_LIMITS;
  it('bounds identifiers and labels', () => {
    expect(parseEvent(minimalEvent({ run_id: 'r'.repeat(L.id) })).run_id).toHaveLength(L.id);
    expect(issuesOf(minimalEvent({ run_id: 'r'.repeat(L.id + 1) }))).toEqual([{ path: 'run_id', message: `must be at most ${L.id} characters` }]);
    expect(issuesOf(minimalEvent({ actor: { type: 'agent', id: '' } }))).toEqual([{ path: 'actor.id', message: 'must not be empty' }]);
    expect(paths(minimalEvent({ action: { type: 'a'.repeat(L.label + 1) } }))).toEqual(['action.type']);
  });

  it('requires identifiers to be printable', () => {
    for (const bad of ['a\nb', 'a\u0000b', ' lead', 'trail ', 'a\u202eb', 'a\u200bb', 'a\u2028b']) {
      expect(issuesOf(minimalEvent({ session_id: bad }))).toEqual([{ path: 'session_id', message: expect.stringContaining('printable') }]);
    }
    expect(parseEvent(minimalEvent({ session_id: 'Zoë Müller / 東京 #1' })).session_id).toBe('Zoë Müller / 東京 #1');
  });

  it('allows newlines and tabs in free text, not other controls', () => {
    expect(parseEvent(minimalEvent({ command: { text: 'a\tb\r\nc' } })).command!.text).toBe('a\tb\r\nc');
    expect(paths(minimalEvent({ command: { text: 'a\u001bb' } }))).toEqual(['command.text']);
    expect(paths(minimalEvent({ command: { text: '' } }))).toEqual(['command.text']);
    expect(paths(minimalEvent({ command: { text: 'x'.repeat(L.command + 1) } }))).toEqual(['command.text']);
  });

  it('bounds numbers', () => {
    expect(issuesOf(minimalEvent({ risk: { score: 101 } }))).toEqual([{ path: 'risk.score', message: 'must be ≤ 100' }]);
    expect(issuesOf(minimalEvent({ risk: { score: -1 } }))).toEqual([{ path: 'risk.score', message: 'must be ≥ 0' }]);
    expect(parseEvent(minimalEvent({ risk: { score: 62.5 } })).risk!.score).toBe(62.5);
    expect(paths(minimalEvent({ reasoning: { confidence: 1.01 } }))).toEqual(['reasoning.confidence']);
    expect(issuesOf(minimalEvent({ result: { status: 'error', exit_code: 1.5 } }))).toEqual([{ path: 'result.exit_code', message: 'must be an integer' }]);
    expect(paths(minimalEvent({ result: { status: 'error', duration_ms: -0.1 } }))).toEqual(['result.duration_ms']);
  });

  it('bounds array lengths', () => {
    expect(parseEvent(minimalEvent({ data_accessed: Array(L.dataAccessed).fill('x') })).data_accessed).toHaveLength(L.dataAccessed);
    expect(issuesOf(minimalEvent({ data_accessed: Array(L.dataAccessed + 1).fill('x') }))).toEqual([{ path: 'data_accessed', message: `must have at most ${L.dataAccessed} items` }]);
    expect(paths(minimalEvent({ risk: { score: 1, factors: Array(L.riskFactors + 1).fill('f') } }))).toEqual(['risk.factors']);
    expect(paths(minimalEvent({ data_accessed: [{ fields: Array(L.dataFields + 1).fill('f') }] }))).toEqual(['data_accessed[0].fields']);
  });

  it('bounds free JSON by its JSON text length', () => {
    const fits = { s: 'x'.repeat(L.freeJson - 8) }; // {"s":"…"} is 8 characters of overhead
    expect(JSON.stringify(fits)).toHaveLength(L.freeJson);
    expect(parseEvent(minimalEvent({ metadata: fits })).metadata).toEqual(fits);
    const over = { s: 'x'.repeat(L.freeJson - 7) };
    expect(issuesOf(minimalEvent({ metadata: over }))).toEqual([{ path: 'metadata', message: `must be at most ${L.freeJson} characters of JSON text` }]);
    expect(paths(minimalEvent({ change: { proposed_value: 'y'.repeat(L.freeJson) } }))).toEqual(['change.proposed_value']);
    expect(paths(minimalEvent({ metadata: [1] }))).toEqual(['metadata']);
  });

  it('validates the pii shape and names', () => {
    expect(paths(minimalEvent({ pii: { email: { value: 'a@b' } } }))).toEqual(['pii.email.subject']);
    expect(issuesOf(minimalEvent({ pii: { email: { subject: 's' } } }))).toEqual([{ path: 'pii.email.value', message: 'is required' }]);
    expect(issuesOf(minimalEvent({ pii: { '1bad': { subject: 's', value: 1 } } }))).toEqual([{ path: 'pii', message: expect.stringContaining('pii names must be') }]);
    const many = Object.fromEntries(Array.from({ length: L.piiEntries + 1 }, (_, i) => [`f${i}`, { subject: 's', value: i }]));
    expect(paths(minimalEvent({ pii: many }))).toEqual(['pii']);
    expect(parseEvent(minimalEvent({ pii: { 'contact.phone': { subject: 'user:1', value: { cc: '+44', n: '7700' } } } })).pii).toBeDefined();
  });

  it('never echoes what under pii may be personal data: a malformed name, an unknown field, a key inside a value', () => {
    const who = 'gina.rossi@example.org';
    const answers = [
      minimalEvent({ pii: { [who]: { subject: 's', value: '+39 333' } } }),
      minimalEvent({ pii: { email: { subject: 's', value: '+39 333', [who]: 1 } } }),
      minimalEvent({ pii: { email: { subject: 's', value: { [who]: 'x'.repeat(L.freeJson) } } } }),
      minimalEvent({ pii: { email: { subject: 's', value: { [who]: { $pii: 'x' } } } } }),
      minimalEvent({ pii: { email: { subject: 's', value: { ['k'.repeat(300) + who]: 1 } } } }),
    ].map((input) => {
      const e = expectTlogError(() => parseEvent(input), 'SCHEMA_VIOLATION');
      return { message: e.message, details: JSON.stringify(e.details) };
    });
    // The same, refused by the structural walk that runs before the schema (sanitize.ts).
    const walked = [
      JSON.parse(`{"pii":{"${who}":{"subject":"s","value":{"$pii":1}}}}`),
      JSON.parse(`{"pii":{"${who}":{"subject":"s","value":1,"__proto__":1}}}`),
      JSON.parse(`{"pii":{"${who}":{"subject":"\\ud800","value":1}}}`),
      JSON.parse(`{"pii":{"${who}":{"subject":"s","value":"\\ud800"}}}`),
      { pii: { email: { subject: 's', value: 1, [who]: { $pii: 1 } } } },
      { pii: { email: { subject: 's', value: 1, [who + 'k'.repeat(300)]: 1 } } },
      { pii: { [who + 'k'.repeat(300)]: { subject: 's', value: 1 } } },
      { pii: { ['gina.rossi.example.org' + 'x'.repeat(50)]: { subject: 's', value: 1 } } },
    ].map((pii) => {
      const e = expectTlogError(() => parseEvent(minimalEvent(pii)), 'SCHEMA_VIOLATION');
      return { message: e.message, details: JSON.stringify(e.details) };
    });
    for (const a of [...answers, ...walked]) {
      expect(a.message).not.toContain('gina');
      expect(a.details).not.toContain('gina');
    }
    expect(issuesOf(minimalEvent({ pii: { email: { subject: 's', value: 1, [who]: 1 } } }))).toEqual([{ path: 'pii.email', message: 'may hold only "subject" and "value"' }]);
  });

  it('caps the number of reported issues', () => {
    const e = expectTlogError(() => parseEvent(minimalEvent({ data_accessed: Array(100).fill({ bogus: 1 }) })), 'SCHEMA_VIOLATION');
    expect((e.details!.issues as unknown[]).length).toBe(50);
    expect(e.message).toContain('and 47 more');
  });
});

describe('the structural walk', () => {
  it('survives 100,000-deep nesting with NESTING_TOO_DEEP', () => {
    const e = expectTlogError(() => parseEvent(minimalEvent({ metadata: { deep: nestArrays(100_000) } })), 'NESTING_TOO_DEEP');
    expect(e.status).toBe(413);
    expect(e.details?.max_depth).toBe(32);
    // JSON.parse of the same depth (as an HTTP body would arrive).
    const text = `{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"metadata":{"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expectTlogError(() => parseEvent(JSON.parse(text)), 'NESTING_TOO_DEEP');
    // Deep nesting under an unknown field is still answered, by name.
    expectTlogError(() => parseEvent({ ...minimalEvent(), junk: nestArrays(100_000) }), 'UNKNOWN_FIELDS');
  });

  it('counts the event object as level 1', () => {
    // event(1) > metadata(2) > 30 arrays = 32 levels: allowed; one more is not.
    expect(() => parseEvent(minimalEvent({ metadata: { d: nestArrays(30) } }))).not.toThrow();
    expectTlogError(() => parseEvent(minimalEvent({ metadata: { d: nestArrays(31) } })), 'NESTING_TOO_DEEP');
    expect(() => parseEvent(minimalEvent({ metadata: { d: nestArrays(31) } }), { maxDepth: 33 })).not.toThrow();
    expectTlogError(() => parseEvent(minimalEvent(), { maxDepth: 1 }), 'NESTING_TOO_DEEP');
    expect(() => parseEvent(minimalEvent(), { maxDepth: 121 })).toThrow(RangeError);
    expect(() => parseEvent(minimalEvent(), { maxDepth: 0 })).toThrow(RangeError);
  });

  it('rejects non-finite numbers with their path (JSON.parse turns 1e400 into Infinity)', () => {
    expect(issuesOf(minimalEvent({ metadata: { x: [1, NaN] } }))).toEqual([{ path: 'metadata.x[1]', message: 'numbers must be finite (NaN and infinities are not JSON)' }]);
    expect(paths(JSON.parse('{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"risk":{"score":1e400}}'))).toEqual(['risk.score']);
    expect(paths(minimalEvent({ reasoning: { confidence: -Infinity } }))).toEqual(['reasoning.confidence']);
  });

  it('rejects values outside the JSON data model with their path', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'undefined is not a JSON value'],
      [new Date(0), 'a Date is not a JSON value'],
      [new Map(), 'a Map is not a JSON value'],
      [new Uint8Array(2), 'a byte string is not a JSON value'],
      [2n ** 60n, 'integer outside the safe range ±(2^53−1)'],
      [() => 1, 'a function is not a JSON value'],
      [Symbol('s'), 'a symbol is not a JSON value'],
      [new (class Point { x = 1 })(), 'an object that is not a plain JSON object is not a JSON value'],
      ['\ud800x', 'string contains an unpaired UTF-16 surrogate (not valid Unicode)'],
    ];
    for (const [value, message] of cases) {
      expect(issuesOf(minimalEvent({ metadata: { v: value } }))).toEqual([{ path: 'metadata.v', message }]);
    }
    // eslint-disable-next-line no-sparse-arrays
    expect(paths(minimalEvent({ metadata: { v: [1, , 3] } }))).toEqual(['metadata.v[1]']);
    expect(paths(minimalEvent({ metadata: { ['k'.repeat(257)]: 1 } }))[0]).toMatch(/^metadata\["k{64}…"\]$/);
  });

  it('accepts null-prototype objects (e.g. from other parsers)', () => {
    const actor = Object.assign(Object.create(null), { type: 'agent', id: 'a' });
    const ev = parseEvent({ actor, action: { type: 't' } });
    expect(Object.getPrototypeOf(ev.actor)).toBe(Object.prototype);
  });
});

describe('prototype pollution', () => {
  it('answers a top-level "__proto__" from JSON.parse as an unknown field', () => {
    const input = JSON.parse('{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"__proto__":{"polluted":true}}');
    const e = expectTlogError(() => parseEvent(input), 'UNKNOWN_FIELDS');
    expect(e.details?.fields).toEqual(['__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('rejects nested "__proto__" keys with their path', () => {
    const input = JSON.parse('{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"metadata":{"ok":1,"__proto__":{"polluted":true}}}');
    expect(issuesOf(input)).toEqual([{ path: 'metadata.__proto__', message: 'the key "__proto__" is not allowed' }]);
    const inActor = JSON.parse('{"actor":{"type":"agent","id":"a","__proto__":{"type":"human"}},"action":{"type":"t"}}');
    expect(paths(inActor)).toEqual(['actor.__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('keeps "constructor" and "prototype" keys as plain data without changing prototypes', () => {
    const input = JSON.parse('{"actor":{"type":"agent","id":"a"},"action":{"type":"t"},"metadata":{"constructor":{"prototype":{"polluted":true}},"prototype":1}}');
    const ev: AuditEvent = parseEvent(input);
    expect(Object.getPrototypeOf(ev)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(ev.metadata)).toBe(Object.prototype);
    expect(Object.keys(ev.metadata!)).toEqual(['constructor', 'prototype']);
    expect(ev.metadata!.constructor).toEqual({ prototype: { polluted: true } });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('ignores inherited properties of the input', () => {
    const proto = { actor: { type: 'agent', id: 'inherited' }, action: { type: 'x' } };
    const input = Object.create(proto);
    expect(issuesOf(input)[0]!.path).toBe('');
  });
});

describe('error messages never echo values', () => {
  const SECRET = 'sk-live-SECRET-0123456789';
  const cases: Array<[string, unknown]> = [
    ['enum', minimalEvent({ actor: { type: SECRET, id: 'a' } })],
    ['too long', minimalEvent({ actor: { type: 'agent', id: SECRET.repeat(20) } })],
    ['not printable', minimalEvent({ run_id: `${SECRET}\n` })],
    ['timestamp', minimalEvent({ ts: SECRET })],
    ['uuid', minimalEvent({ event_id: SECRET })],
    ['wrong type', minimalEvent({ risk: SECRET })],
    ['number out of range', minimalEvent({ risk: { score: 987654321 } })],
    ['free JSON too big', minimalEvent({ metadata: { k: SECRET.repeat(1000) } })],
    ['unknown top-level field value', minimalEvent({ password: SECRET })],
    ['unknown nested field value', minimalEvent({ actor: { type: 'agent', id: 'a', token: SECRET } })],
    ['union', minimalEvent({ data_accessed: [{ id: SECRET, other: SECRET }] })],
    ['control character in text', minimalEvent({ command: { text: `${SECRET}\u0007` } })],
    ['pii subject', minimalEvent({ pii: { email: { subject: `${SECRET}\n`, value: SECRET } } })],
    ['surrogate', minimalEvent({ metadata: { k: `${SECRET}\ud800` } })],
  ];
  it.each(cases)('%s', (_name, input) => {
    let err: unknown;
    try {
      parseEvent(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TlogError);
    const text = `${(err as TlogError).message} ${JSON.stringify((err as TlogError).details)}`;
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('987654321');
  });
});
