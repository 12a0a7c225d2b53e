import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/bytes/index.js';
import { parseEntryBundle, rootFromLeafHashes, TILE_WIDTH } from '../../src/merkle/index.js';
import { parseTlogProof } from '../../src/note/index.js';
import { hasher, verifyCheckpoint, verifyConsistency, verifyInclusion, verifyReceipt } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

describe('end to end: submit, keep receipts, verify against checkpoint and tiles', () => {
  let t: TestServer;
  let vkey: string;
  /** Entries before the test's own: the key.create events of the keys startTestServer makes. */
  let base: number;
  const receipts: any[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    const info = (await get(`${t.url}/v1/log`)).json;
    vkey = info.verifier_key;
    base = info.tree_size;
    // 300 single appends, concurrently (group commit) plus batches, crossing a tile boundary.
    const singles = await Promise.all(Array.from({ length: 300 }, (_, i) => post(`${t.url}/v1/events`, t.agentToken, sampleEvent(i))));
    for (const r of singles) {
      expect(r.status).toBe(201);
      receipts.push(r.json);
    }
    const batch = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: 250 }, (_, i) => sampleEvent(1000 + i)) });
    expect(batch.status).toBe(200);
    for (const r of batch.json.results) {
      expect(r.status).toBe(201);
      receipts.push(r);
    }
  });
  afterAll(() => t.close());

  it('every receipt verifies offline with the verifier library', () => {
    const indexes = new Set<number>();
    for (const r of receipts) {
      const v = verifyReceipt(r.tlog_proof, vkey);
      expect(v.index).toBe(r.index);
      expect(toBase64(v.leafHash)).toBe(r.leaf_hash);
      expect(v.record.tenant).toBe('acme');
      expect(v.record.event.event_id).toBe(r.event_id);
      expect(v.record.logged_at).toBe(r.logged_at);
      indexes.add(r.index);
    }
    expect(indexes.size).toBe(550);
    expect(Math.max(...indexes)).toBe(base + 549);
  });

  it('the public checkpoint verifies and every entry is in the tree rebuilt from the tiles', async () => {
    const cp = await get(`${t.url}/checkpoint`);
    expect(cp.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const checkpoint = verifyCheckpoint(new TextDecoder().decode(cp.body), vkey);
    expect(checkpoint.treeSize).toBe(base + 550);
    // Level-0 tiles: one full, one partial of width base + 550 - 512.
    const full0 = await get(`${t.url}/tile/0/000`);
    const full1 = await get(`${t.url}/tile/0/001`);
    const part = await get(`${t.url}/tile/0/002.p/${base + 38}`);
    expect(full0.status).toBe(200);
    expect(full0.body.length).toBe(8192);
    expect(full0.headers.get('cache-control')).toContain('immutable');
    expect(part.body.length).toBe((base + 38) * 32);
    const all = new Uint8Array([...full0.body, ...full1.body, ...part.body]);
    const hashes = Array.from({ length: base + 550 }, (_, i) => all.subarray(i * 32, (i + 1) * 32));
    expect(toBase64(rootFromLeafHashes(hasher, hashes))).toBe(toBase64(checkpoint.rootHash));
    for (const r of receipts) expect(toBase64(hashes[r.index]!)).toBe(r.leaf_hash);
    // Level-1 partial tile: the roots of the two full level-0 tiles.
    const l1 = await get(`${t.url}/tile/1/000.p/2`);
    expect(l1.body.length).toBe(64);
    // Tiles beyond the tree are 404; non-canonical paths are 400.
    expect((await get(`${t.url}/tile/0/002`)).status).toBe(404);
    expect((await get(`${t.url}/tile/0/002.p/${base + 39}`)).status).toBe(404);
    expect((await get(`${t.url}/tile/0/2`)).status).toBe(400);
    expect((await get(`${t.url}/tile/0/000.p/256`)).status).toBe(400);
  });

  it('entry bundles match the leaf hashes (global auditor key) and need auth', async () => {
    expect((await get(`${t.url}/tile/entries/000`)).status).toBe(401);
    expect((await get(`${t.url}/tile/entries/000`, t.agentToken)).status).toBe(403);
    const b = await get(`${t.url}/tile/entries/002.p/38`, t.adminToken);
    expect(b.status).toBe(200);
    const leaves = parseEntryBundle(b.body)!;
    expect(leaves).toHaveLength(38);
    const tile = await get(`${t.url}/tile/0/002.p/38`);
    leaves.forEach((leaf, i) => expect(toBase64(hasher.hashLeaf(leaf))).toBe(toBase64(tile.body.subarray(i * 32, (i + 1) * 32))));
    expect(TILE_WIDTH).toBe(256);
  });

  it('serves inclusion proofs by index and by leaf hash, and consistency proofs', async () => {
    const cp = verifyCheckpoint(new TextDecoder().decode((await get(`${t.url}/checkpoint`)).body), vkey);
    const r = receipts[17];
    const byIndex = await get(`${t.url}/v1/proofs/inclusion?index=${r.index}&tree_size=${cp.treeSize}`);
    expect(byIndex.status).toBe(200);
    const byHash = await get(`${t.url}/v1/proofs/inclusion?leaf_hash=${encodeURIComponent(r.leaf_hash)}&tree_size=${cp.treeSize}`);
    expect(byHash.json).toEqual(byIndex.json);
    verifyInclusion(r.index, cp.treeSize, fromBase64(r.leaf_hash)!, byIndex.json.proof.map(fromBase64), cp.rootHash);

    // Consistency from an old receipt's checkpoint to the latest one.
    const old = parseTlogProof(receipts[0].tlog_proof);
    const oldCp = verifyCheckpoint(old.checkpoint, vkey);
    const c = await get(`${t.url}/v1/proofs/consistency?from=${oldCp.treeSize}&to=${cp.treeSize}`);
    expect(c.status).toBe(200);
    verifyConsistency(oldCp.treeSize, cp.treeSize, c.json.proof.map(fromBase64), oldCp.rootHash, cp.rootHash);
  });

  it('reads entries (own tenant only) and fresh receipts', async () => {
    const r = receipts[5];
    const e = await get(`${t.url}/v1/entries/${r.index}`, t.auditorToken);
    expect(e.status).toBe(200);
    expect(e.json.record.event.event_id).toBe(r.event_id);
    expect(e.json.leaf_hash).toBe(r.leaf_hash);
    const fresh = await get(`${t.url}/v1/events/${r.event_id}/receipt`, t.agentToken);
    expect(fresh.status).toBe(200);
    expect(verifyReceipt(fresh.json.tlog_proof, vkey).index).toBe(r.index);
    // Another tenant's auditor sees 404, not 403.
    const other = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'auditor', tenant: 'globex' });
    expect((await get(`${t.url}/v1/entries/${r.index}`, other.json.token)).status).toBe(404);
    expect((await get(`${t.url}/v1/events/${r.event_id}/receipt`, other.json.token)).status).toBe(404);
  });

  it('idempotent retries: same content → 200 and the same index; different content → 409', async () => {
    const ev = sampleEvent(5000, { event_id: '01890a5d-ac96-774b-bcce-b302099a8057' });
    const first = await post(`${t.url}/v1/events`, t.agentToken, ev);
    expect(first.status).toBe(201);
    // Key order must not matter: the canonical encoding is what is compared.
    const reordered = Object.fromEntries(Object.entries(ev).reverse());
    const again = await post(`${t.url}/v1/events`, t.agentToken, reordered);
    expect(again.status).toBe(200);
    expect(again.json.index).toBe(first.json.index);
    const changed = await post(`${t.url}/v1/events`, t.agentToken, { ...ev, risk: { score: 99 } });
    expect(changed.status).toBe(409);
    expect(changed.json.error.code).toBe('EVENT_CONFLICT');
    // Concurrent duplicates land once.
    const ev2 = sampleEvent(5001, { event_id: '01890a5d-ac96-774b-bcce-b302099a8058' });
    const many = await Promise.all(Array.from({ length: 20 }, () => post(`${t.url}/v1/events`, t.agentToken, ev2)));
    const idx = new Set(many.map((m) => m.json.index));
    expect(idx.size).toBe(1);
    expect(many.filter((m) => m.status === 201)).toHaveLength(1);
  });
});
