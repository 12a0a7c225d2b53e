// Keeps spec/events.md honest: its worked examples must be valid events,
// its leaf hex must be what encodeRecord produces, and its error bodies must
// be what parseEvent answers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { decodeRecord, encodeRecord, parseEvent, type LogRecord } from '../../src/events/index.js';
import { hex, referenceEncode } from './helpers.js';

const spec = readFileSync(new URL('../../spec/events.md', import.meta.url), 'utf8');

/** The fenced block right after `<!-- marker -->`. */
function blockAfter(marker: string): string {
  const at = spec.indexOf(`<!-- ${marker} -->`);
  expect(at, `marker ${marker} in spec/events.md`).toBeGreaterThan(-1);
  const m = /```[a-z]*\n([\s\S]*?)```/.exec(spec.slice(at));
  return m![1]!;
}

function errorOf(input: unknown): TlogError {
  try {
    parseEvent(input);
  } catch (e) {
    return e as TlogError;
  }
  throw new Error('expected an error');
}

describe('spec/events.md', () => {
  it.each(['invoice-payment', 'denied-shell-command', 'crm-update'])('example %s is a valid event, stored unchanged', (name) => {
    const input = JSON.parse(blockAfter(`example: ${name}`));
    const ev = parseEvent(input);
    expect(ev).toEqual(input);
    const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 1741083330123, event: ev });
    expect(decodeRecord(leaf).event).toEqual(input);
  });

  it('the small record encodes to the documented hex (and the reference encoder agrees)', () => {
    const record = JSON.parse(blockAfter('leaf-record')) as LogRecord;
    const documented = blockAfter('leaf-hex').replace(/\s+/g, '');
    const leaf = encodeRecord({ ...record, event: parseEvent(record.event) });
    expect(hex(leaf)).toBe(documented);
    expect(hex(referenceEncode(record))).toBe(documented);
    expect(leaf.length).toBe(155);
    expect(spec).toContain(`is this ${leaf.length}-byte leaf`);
  });

  it('the UNKNOWN_FIELDS body is what parseEvent answers', () => {
    const body = JSON.parse(blockAfter('error: unknown-fields')).error;
    const e = errorOf({ actor: { type: 'agent', id: 'a' }, action: { type: 't' }, colour: 'blue', size: 3 });
    expect({ code: e.code, message: e.message, ...e.details }).toEqual(body);
  });

  it('the SCHEMA_VIOLATION body is what parseEvent answers', () => {
    const body = JSON.parse(blockAfter('error: schema-violation')).error;
    const e = errorOf({ actor: { type: 'agent' }, action: { type: 't' }, policy: { decision: 'allow' } });
    expect({ code: e.code, message: e.message, ...e.details }).toEqual(body);
  });
});
