/**
 * Filters the indexes answer alone skip decoding (search.ts indexExact);
 * the rest are checked leaf by leaf. The boundary cases: values longer than
 * a list key holds share their truncated key, so their hits must still be
 * checked, and a page's JSON must be the record's JSON either way.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALUE_BYTES } from '../../src/query/keys.js';
import { indexExact } from '../../src/query/search.js';
import { get, post } from '../helpers.js';
import { startQueryServer, type QueryServer } from './helpers.js';

describe('indexExact', () => {
  it('holds for equality filters with values their keys hold whole', () => {
    expect(indexExact({})).toBe(true);
    expect(indexExact({ run_id: 'run-1', decision: 'DENY', actor: 'a', words: ['invoice'] })).toBe(true);
    expect(indexExact({ target: 'x'.repeat(VALUE_BYTES - 1) })).toBe(true);
  });
  it('fails for ranges, truncated values and NUL', () => {
    expect(indexExact({ run_id: 'r', from: 1 })).toBe(false);
    expect(indexExact({ to: 1 })).toBe(false);
    expect(indexExact({ risk_min: 10 })).toBe(false);
    expect(indexExact({ target: 'x'.repeat(VALUE_BYTES) })).toBe(false);
    // 100 two-byte characters: 200 UTF-8 bytes, the key's whole budget.
    expect(indexExact({ target: 'é'.repeat(VALUE_BYTES / 2) })).toBe(false);
    expect(indexExact({ actor: 'a\u0000b' })).toBe(false);
    expect(indexExact({ words: ['ok', 'w'.repeat(VALUE_BYTES)] })).toBe(false);
    // A word the tokenizer cut inside a surrogate pair: its key bytes are those of any other such cut.
    expect(indexExact({ words: [`${'a'.repeat(63)}\uD840`] })).toBe(false);
    expect(indexExact({ actor: 'agent-\u{20000}' })).toBe(true);
  });
});

describe('GET /v1/events with values past the key length', () => {
  let qs: QueryServer;
  let agent: string;
  let auditor: string;
  const shared = `invoice/${'r'.repeat(VALUE_BYTES)}`;
  const at: number[] = [];
  beforeAll(async () => {
    qs = await startQueryServer();
    agent = await qs.token('agent', 'acme');
    auditor = await qs.token('auditor', 'acme');
    for (const [i, resource] of [`${shared}-A`, `${shared}-B`, `${shared}-A`, 'invoice/short'].entries()) {
      const r = await post(`${qs.url}/v1/events`, agent, {
        run_id: `run-${i % 2}`,
        actor: { type: 'agent', id: 'ap-bot' },
        action: { type: 'tool.call', name: 'approve_invoice' },
        target: { system: 'erp', resource },
        result: { status: 'success', duration_ms: 1.5 + i },
      });
      expect(r.status).toBe(201);
      at.push(r.json.index as number);
    }
  });
  afterAll(async () => qs?.close());

  const page = async (q: string) => {
    const r = await get(`${qs.url}/v1/events?${q}`, auditor);
    expect(r.status).toBe(200);
    return r.json as { events: { index: number; leaf_hash: string; record: { event: { target: { resource: string }; result: { duration_ms: number } } } }[] };
  };

  it('words cut inside a surrogate pair are told apart', async () => {
    const word = (c: string) => `${'a'.repeat(63)}${c}`; // 65 UTF-16 units: the tokenizer keeps 64
    const one = await post(`${qs.url}/v1/events`, agent, { actor: { type: 'agent', id: 'ap-bot' }, action: { type: 'tool.call', name: word('\u{20000}') } });
    const two = await post(`${qs.url}/v1/events`, agent, { actor: { type: 'agent', id: 'ap-bot' }, action: { type: 'tool.call', name: word('\u{21000}') } });
    expect([one.status, two.status]).toEqual([201, 201]);
    const p = await page(`q=${encodeURIComponent(word('\u{20000}'))}`);
    expect(p.events.map((e) => e.index)).toEqual([one.json.index]);
  });

  it('long values that share a truncated key are told apart', async () => {
    const a = await page(`target=${encodeURIComponent(`${shared}-A`)}`);
    expect(a.events.map((e) => e.index)).toEqual([at[0], at[2]]);
    const b = await page(`target=${encodeURIComponent(`${shared}-B`)}`);
    expect(b.events.map((e) => e.index)).toEqual([at[1]]);
  });

  it('an exactly indexed page carries the same records as the entries route', async () => {
    const p = await page('run_id=run-1');
    expect(p.events.map((e) => e.index)).toEqual([at[1], at[3]]);
    for (const e of p.events) {
      const one = await get(`${qs.url}/v1/entries/${e.index}`, auditor);
      expect(e.record).toEqual(one.json.record);
      expect(e.leaf_hash).toBe(one.json.leaf_hash);
    }
    expect(p.events[0]!.record.event.result.duration_ms).toBe(2.5);
  });

  it('concurrent pages each get their own bytes (page buffers are pooled)', async () => {
    const want = { 'run-0': [at[0], at[2]], 'run-1': [at[1], at[3]] } as Record<string, number[]>;
    const runs = Array.from({ length: 40 }, (_, i) => `run-${i % 2}`);
    const pages = await Promise.all(runs.map((r) => page(`run_id=${r}`)));
    pages.forEach((p, i) => expect(p.events.map((e) => e.index)).toEqual(want[runs[i]!]));
  });
});
