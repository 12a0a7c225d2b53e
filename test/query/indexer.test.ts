/** The indexer: what one leaf writes, and that vault pointers are never indexed or tokenised. */

import { describe, expect, it } from 'vitest';
import { encodeRecord, type AuditEvent } from '../../src/events/index.js';
import type { IndexWrite } from '../../src/log/sequencer.js';
import { deriveIndex } from '../../src/query/block-indexer.js';
import { INDEX_PREFIX, keyBlock, VERSION_KEY } from '../../src/query/keys.js';
import { tokenize } from '../../src/query/tokens.js';

const dec = new TextDecoder();

/** What reindex writes for a log holding just `leaf` at `index` (the version key left out). */
async function writesOf(leaf: Uint8Array, index: number): Promise<IndexWrite[]> {
  const out: IndexWrite[] = [];
  for await (const ws of deriveIndex((async function* () { yield [index, leaf] as [number, Uint8Array]; })())) out.push(...ws);
  expect(Buffer.from(out.pop()!.key)).toEqual(Buffer.from(VERSION_KEY));
  return out;
}

/** Index keys as "field:value" strings (tenant and block stripped). */
async function describeKeys(leaf: Uint8Array, index: number, tenant: string): Promise<string[]> {
  return (await writesOf(leaf, index)).map(({ key, value }) => {
    expect(key[0]).toBe(INDEX_PREFIX);
    expect(keyBlock(key)).toBe(Math.floor(index / 256));
    // One member: the entry's offset in its block (the time list's value is empty).
    expect([...value]).toEqual(key[1 + tenant.length + 1] === 0x74 ? [] : [index % 256]);
    const body = key.subarray(1 + tenant.length + 1, key.length - 8);
    expect(dec.decode(key.subarray(1, 1 + tenant.length))).toBe(tenant);
    const field = String.fromCharCode(body[0]!);
    if (field === 't') return `t:${body.length}`;
    if (field === 'k') return `k:${body[1]}`;
    return `${field}:${dec.decode(body.subarray(1, body.length ? body.length - (field === 'e' ? 0 : 1) : 0))}`;
  });
}

describe('index keys of one leaf', () => {
  it('writes one key per filterable value and per distinct word', async () => {
    const event = {
      event_id: '019a0000-0000-7000-8000-000000000001',
      run_id: 'run-1',
      session_id: 'sess-9',
      actor: { type: 'agent', id: 'bot-a' },
      action: { type: 'shell', name: 'Deploy' },
      target: { system: 'k8s', resource: 'db-01.prod' },
      policy: { decision: 'DENY', matched_rule: 'r1' },
      approval: { status: 'approved', approver: 'alice' },
      risk: { score: 87.5 },
      command: { text: 'kubectl DELETE pod db-01' },
      result: { status: 'blocked', detail: 'Denied by policy' },
    } as unknown as AuditEvent;
    const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 1_700_000_000_000, event });
    const keys = await describeKeys(leaf, 300, 'acme');
    expect(keys).toEqual(
      expect.arrayContaining([
        'e:',
        't:9',
        'r:run-1',
        's:sess-9',
        'a:bot-a',
        'n:shell',
        'n:Deploy',
        'd:DENY',
        'p:approved',
        'v:alice',
        'g:k8s',
        'g:db-01.prod',
        'k:87',
        'w:deploy',
        'w:kubectl',
        'w:delete',
        'w:db',
        'w:01',
        'w:denied',
      ]),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('never indexes or tokenises a vault pointer', async () => {
    const pointer = { $pii: 'ptr-secretname', subject: 'pseud-xyz', commitment: 'Y29tbWl0bWVudA==' };
    const event = {
      event_id: '019a0000-0000-7000-8000-000000000002',
      actor: { type: 'human', id: pointer },
      action: { type: 'email.send', name: 'notify' },
      target: { resource: pointer },
      approval: { approver: pointer },
      command: { text: pointer },
      reasoning: { summary: 'mail john' },
    } as unknown as AuditEvent;
    const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 5, event });
    const keys = await describeKeys(leaf, 1, 'acme');
    const text = keys.join('|');
    for (const s of ['ptr', 'secretname', 'pseud', 'xyz', 'y29t', 'commitment']) expect(text).not.toContain(s);
    expect(keys.filter((k) => k.startsWith('a:') || k.startsWith('v:') || k.startsWith('g:'))).toEqual([]);
    expect(keys).toEqual(expect.arrayContaining(['w:notify', 'w:mail', 'w:john']));
  });

  it('returns nothing for bytes that are not a record', async () => {
    expect(await writesOf(new Uint8Array([1, 2, 3]), 0)).toEqual([]);
  });
});

describe('tokenize', () => {
  it('lower-cases, splits on non-alphanumerics, dedupes and normalises', () => {
    expect(tokenize(['Hello, WORLD hello', 'ＡＢＣ x_y'])).toEqual(['hello', 'world', 'abc', 'x', 'y']);
    expect(tokenize(['a b c d'], 2)).toEqual(['a', 'b']);
    expect(tokenize(['x'.repeat(100)])[0]!.length).toBe(64);
  });
});

describe('readLeaf (the fast reader behind indexes and query results)', () => {
  it('gives what the strict decoder gives: large integers as numbers, __proto__ as a plain key', async () => {
    const { readLeaf } = await import('../../src/query/leaf.js');
    const { decodeRecord } = await import('../../src/events/index.js');
    const plain = JSON.parse('{"event_id":"019a0000-0000-7000-8000-00000000000a","actor":{"type":"agent","id":"a"},"action":{"type":"t"},"result":{"status":"error","exit_code":-5000000000,"duration_ms":9007199254740991},"metadata":{"n":[4294967296,-1]}}');
    const proto = JSON.parse('{"event_id":"019a0000-0000-7000-8000-00000000000b","actor":{"type":"agent","id":"a"},"action":{"type":"t"},"metadata":{"__proto__":{"polluted":true}}}');
    for (const event of [plain, proto]) {
      const leaf = encodeRecord({ v: 1, tenant: 'acme', logged_at: 1_763_000_000_000, event });
      const fast = readLeaf(leaf);
      expect(fast).toEqual(decodeRecord(leaf));
      expect(JSON.stringify(fast)).toBe(JSON.stringify(decodeRecord(leaf)));
    }
    expect(readLeaf(new Uint8Array([0xa1, 0x61, 0x76, 0x02]))).toBeUndefined();
  });
});
