/**
 * The witness server against the litewitness request trace (shared/vectors/witness.json):
 * every status, the 409 bodies, the final state, and durability across a restart.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toBase64 } from '../../src/bytes/index.js';
import { formatVerifierKey, openNote, parseCheckpoint, parseCosignatureVerifierKey, parseNote, parseVerifierKey } from '../../src/note/index.js';
import { MAX_ADD_CHECKPOINT_BODY } from '../../src/witness/server.js';
import { postText, startTestWitness, type TestWitness } from './helpers.js';

interface Req {
  body: string;
  status: number;
  assert: string;
}
const V = JSON.parse(readFileSync(new URL('../../../shared/vectors/witness.json', import.meta.url), 'utf8')) as {
  litewitness_sigsum_log: {
    log_ed25519_pubkey_hex: string;
    origin: string;
    witness_name: string;
    'witness_ed25519_private_key_hex(seed||pub)': string;
    state_after_all_requests: { size: number; root_hex: string };
    requests_in_order: Req[];
  };
  litewitness_sumdb: { log_vkey: string; origin: string; request: Req };
  transparency_dev_witness_parseBody: { checkpoint: string; cases: { body: string; ok: boolean }[] };
};
const L = V.litewitness_sigsum_log;
const logVkey = formatVerifierKey(L.origin, fromHex(L.log_ed25519_pubkey_hex)!);
const seed = fromHex(L['witness_ed25519_private_key_hex(seed||pub)'])!.slice(0, 32);

describe('witness: the litewitness trace', () => {
  let t: TestWitness;
  const replies: { status: number; text: string; contentType: string | null }[] = [];
  beforeAll(async () => {
    t = await startTestWitness([logVkey, `${V.litewitness_sumdb.log_vkey} ${V.litewitness_sumdb.origin}`], {
      name: L.witness_name,
      seed,
      nowSeconds: () => 1_700_000_000,
    });
    for (const r of L.requests_in_order) replies.push(await postText(`${t.url}/add-checkpoint`, r.body));
  });
  afterAll(() => t.close({ wipe: true }));

  it('answers every request with the status litewitness gave, except 404 (not 403) for an unknown origin', () => {
    const expected = L.requests_in_order.map((r) => (r.assert.includes('unknown log') ? 404 : r.status));
    expect(replies.map((r) => r.status)).toEqual(expected);
    expect(expected).toEqual([200, 403, 404, 422, 422, 200, 409, 200, 409]);
    const unknown = JSON.parse(replies[2]!.text) as { error: { code: string } };
    expect(unknown.error.code).toBe('UNKNOWN_LOG');
    expect((JSON.parse(replies[1]!.text) as { error: { code: string } }).error.code).toBe('UNTRUSTED_CHECKPOINT');
    expect((JSON.parse(replies[3]!.text) as { error: { code: string } }).error.code).toBe('INCONSISTENT_CHECKPOINT');
  });

  it('answers 409 with the stored size as text/x.tlog.size', () => {
    expect([replies[6]!.text, replies[8]!.text]).toEqual(['3\n', '5\n']);
    expect(replies[6]!.contentType).toBe('text/x.tlog.size');
  });

  it('returns cosignature lines that verify over the submitted checkpoint with the witness vkey', () => {
    const wv = parseCosignatureVerifierKey(t.w.verifierKey);
    for (const i of [0, 5, 7]) {
      const line = replies[i]!.text;
      expect(line).toMatch(/^— example\.com\/witness [A-Za-z0-9+/]{102}==\n$/);
      const text = parseNote(L.requests_in_order[i]!.body.slice(L.requests_in_order[i]!.body.indexOf('\n\n') + 2)).text;
      expect(openNote(`${text}\n${line}`, [wv]).verified).toHaveLength(1);
    }
  });

  it('holds the final state and serves it, cosigned, under /<sha256(origin)>/checkpoint', async () => {
    const hash = createHash('sha256').update(L.origin).digest('hex');
    const r = await fetch(`${t.url}/${hash}/checkpoint`);
    expect(r.status).toBe(200);
    const note = await r.text();
    const cp = parseCheckpoint(parseNote(note).text);
    expect(cp.treeSize).toBe(L.state_after_all_requests.size);
    expect(toBase64(cp.rootHash)).toBe(toBase64(fromHex(L.state_after_all_requests.root_hex)!));
    expect(openNote(note, [parseVerifierKey(logVkey), parseCosignatureVerifierKey(t.w.verifierKey)]).verified).toHaveLength(2);
    expect((await fetch(`${t.url}/${'0'.repeat(64)}/checkpoint`)).status).toBe(404);
  });

  it('cosigns a sum.golang.org checkpoint whose origin is not its key name', async () => {
    const r = await postText(`${t.url}/add-checkpoint`, V.litewitness_sumdb.request.body);
    expect(r.status).toBe(200);
    expect(r.text).toContain('— example.com/witness ');
  });

  it('keeps its key (0600) and its state across a restart', async () => {
    const vkey = t.w.verifierKey;
    expect((await stat(join(t.dataDir, 'witness.key'))).mode & 0o777).toBe(0o600);
    await t.close();
    t = await startTestWitness([logVkey], { name: L.witness_name, dataDir: t.dataDir });
    expect(t.w.verifierKey).toBe(vkey);
    const replay = await postText(`${t.url}/add-checkpoint`, L.requests_in_order[7]!.body);
    expect([replay.status, replay.text]).toEqual([409, '5\n']);
  });
});

describe('witness: racing submissions', () => {
  it('compare-and-swap: of two requests from the same old size, one is cosigned and the other gets 409', async () => {
    const t = await startTestWitness([logVkey]);
    try {
      const [a, b] = [L.requests_in_order[0]!.body, L.requests_in_order[8]!.body]; // old 0 → 1, old 0 → 5
      const replies = await Promise.all([postText(`${t.url}/add-checkpoint`, a), postText(`${t.url}/add-checkpoint`, b)]);
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409]);
      const conflict = replies.find((r) => r.status === 409)!;
      expect(['1\n', '5\n']).toContain(conflict.text);
    } finally {
      await t.close({ wipe: true });
    }
  });
});

describe('witness: bad requests', () => {
  let t: TestWitness;
  const cp = V.transparency_dev_witness_parseBody.checkpoint;
  const origin = cp.split('\n')[0]!;
  beforeAll(async () => {
    // Follows the armored-witness log with an unrelated key: parse errors come before signature checks.
    t = await startTestWitness([`${formatVerifierKey('transparency.dev-aw-ftlog-ci-2', new Uint8Array(32).fill(9))} ${origin}`]);
  });
  afterAll(() => t.close({ wipe: true }));

  const codeOf = async (body: string | Uint8Array) => {
    const r = await postText(`${t.url}/add-checkpoint`, body);
    return `${r.status} ${r.status === 409 ? r.text : (JSON.parse(r.text) as { error: { code: string } }).error.code}`;
  };

  it('rejects the transparency-dev parse cases with 400 MALFORMED (proof lines must be 32-byte hashes)', async () => {
    for (const c of V.transparency_dev_witness_parseBody.cases) {
      const body = c.body.replaceAll('\\n', '\n').replace('<checkpoint>', cp);
      expect(await codeOf(body), c.body).toBe('400 MALFORMED');
    }
  });

  it('rejects more than 63 proof lines, a bad old line, invalid UTF-8, and a bad note', async () => {
    const h = toBase64(new Uint8Array(32)) + '\n';
    expect(await codeOf(`old 1\n${h.repeat(64)}\n${cp}`)).toBe('400 MALFORMED');
    expect(await codeOf(`old 01\n\n${cp}`)).toBe('400 MALFORMED');
    expect(await codeOf(`old -1\n\n${cp}`)).toBe('400 MALFORMED');
    expect(await codeOf(new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0x0a, 0xff, 0xfe]))).toBe('400 MALFORMED');
    expect(await codeOf(`old 0\n\nno checkpoint here\n`)).toBe('400 MALFORMED');
  });

  it('checks the origin before the signature (404), the signature before old (403)', async () => {
    expect(await codeOf(`old 0\n\n${cp.replace(origin, 'other.example/log')}`)).toBe('404 UNKNOWN_LOG');
    expect(await codeOf(`old 99\n\n${cp}`)).toBe('403 UNTRUSTED_CHECKPOINT');
  });

  it('answers 413 above the body limit and 404 on unknown paths', async () => {
    expect(await codeOf('old 0\n' + 'A'.repeat(MAX_ADD_CHECKPOINT_BODY))).toBe('413 BODY_TOO_LARGE');
    expect((await fetch(`${t.url}/add-checkpoint`)).status).toBe(404);
    expect((await fetch(`${t.url}/nope`, { method: 'POST', body: 'x' })).status).toBe(404);
  });
});
