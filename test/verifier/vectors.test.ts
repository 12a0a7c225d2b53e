/**
 * agent-tlog/verifier against the shared vectors (transparency-dev/merkle
 * proofs, tessera / witness / sum.golang.org checkpoints), and the monitor
 * reading the tessera test log as any tlog-tiles client would.
 */

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, fromHex } from '../../src/bytes/index.js';
import { LogClient } from '../../src/monitor/client.js';
import { catchUp, MonitorAlarm } from '../../src/monitor/monitor.js';
import type { MonitorState } from '../../src/monitor/state.js';
import { errorCode } from '../helpers.js';
import { hasher, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../../src/verifier/index.js';

const VECTORS = '/work/shared/vectors';
const load = async (f: string) => JSON.parse(await readFile(join(VECTORS, f), 'utf8'));
const hex = (h: string) => fromHex(h)!;


function flipped(proof: Uint8Array[], i: number): Uint8Array[] {
  return proof.map((p, j) => (j === i ? p.map((b, k) => (k === 0 ? b ^ 1 : b)) : p));
}

describe('transparency-dev/merkle proof vectors', async () => {
  const m = await load('merkle.json');
  const leaves: Uint8Array[] = m.reference_tree.leaf_inputs_hex.map(hex);
  const roots: Uint8Array[] = m.reference_tree.roots_by_size_hex.roots.map(hex);

  it('every inclusion proof verifies, and fails BAD_PROOF with any element flipped', () => {
    let n = 0;
    for (const v of m.inclusion_proofs.vectors) {
      if (v.leaf_index_0based === null) continue;
      const proof: Uint8Array[] = v.proof_hex.map(hex);
      const leafHash = hasher.hashLeaf(leaves[v.leaf_index_0based]!);
      verifyInclusion(v.leaf_index_0based, v.tree_size, leafHash, proof, roots[v.tree_size]!);
      for (let i = 0; i < proof.length; i++)
        expect(errorCode(() => verifyInclusion(v.leaf_index_0based, v.tree_size, leafHash, flipped(proof, i), roots[v.tree_size]!))).toBe('BAD_PROOF');
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(5);
  });

  it('every consistency proof verifies, and fails BAD_PROOF with any element flipped', () => {
    for (const v of m.consistency_proofs.vectors) {
      const proof: Uint8Array[] = v.proof_hex.map(hex);
      verifyConsistency(v.size1, v.size2, proof, roots[v.size1]!, roots[v.size2]!);
      for (let i = 0; i < proof.length; i++)
        expect(errorCode(() => verifyConsistency(v.size1, v.size2, flipped(proof, i), roots[v.size1]!, roots[v.size2]!))).toBe('BAD_PROOF');
    }
  });
});

describe('checkpoint vectors', async () => {
  const c = await load('checkpoint.json');

  it('the 16 tessera test-log checkpoints verify with its key', () => {
    const t = c.tessera_testdata_log;
    for (const [size, note] of Object.entries(t.checkpoints_by_size as Record<string, string>)) {
      const cp = verifyCheckpoint(note, t.vkey);
      expect(cp.origin).toBe('example.com/log/testdata');
      expect(cp.treeSize).toBe(Number(size));
    }
  });

  it('the witness "monkeys" checkpoints and their 5→8 consistency proof', () => {
    const m = c.transparency_dev_witness_monkeys;
    const a = verifyCheckpoint(m.checkpoint_size5, m.keys.monkeys.vkey);
    const b = verifyCheckpoint(m.checkpoint_size8, m.keys.monkeys.vkey);
    const proof = m.consistency_proof_5_to_8_hex.map(hex);
    verifyConsistency(5, 8, proof, a.rootHash, b.rootHash);
    expect(errorCode(() => verifyConsistency(5, 8, proof.slice(1), a.rootHash, b.rootHash))).toBe('BAD_PROOF');
  });

  it('sum.golang.org checkpoints (origin differs from the key name) verify, other signatures on them ignored', () => {
    for (const { note } of c.sum_golang_org.checkpoints) expect(verifyCheckpoint(note, c.sum_golang_org.vkey, 'go.sum database tree').origin).toBe('go.sum database tree');
  });

  it('wrong key, wrong origin and a changed body fail with their codes', () => {
    const t = c.tessera_testdata_log;
    const note: string = t.checkpoints_by_size['7'];
    const monkeys = c.transparency_dev_witness_monkeys.keys.monkeys.vkey;
    expect(errorCode(() => verifyCheckpoint(note, monkeys))).toBe('WRONG_ORIGIN');
    expect(errorCode(() => verifyCheckpoint(note, monkeys, 'example.com/log/testdata'))).toBe('UNKNOWN_KEY');
    expect(errorCode(() => verifyCheckpoint(note.replace('\n7\n', '\n8\n'), t.vkey))).toBe('BAD_SIGNATURE');
    expect(errorCode(() => verifyCheckpoint(note.replace('\n\n', '\n'), t.vkey))).toBe('MALFORMED');
  });
});

describe('the tessera test log, read over HTTP like any tlog-tiles client', () => {
  const dir = join(VECTORS, 'tessera-testdata-log');
  let server: Server;
  let url: string;
  let checkpoint = 'checkpoint';
  let tamper: ((path: string, body: Uint8Array) => Uint8Array) | undefined;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const path = (req.url ?? '/').slice(1);
      try {
        if (path.includes('..')) throw new Error('no');
        let body: Uint8Array = new Uint8Array(await readFile(join(dir, path === 'checkpoint' ? checkpoint : path)));
        if (tamper) body = tamper(path, body);
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const c = load('checkpoint.json');
  const opts = async () => ({ verifierKey: (await c).tessera_testdata_log.vkey as string, hasher, decodeLeaves: false, consistencyProofs: false });

  it('catches up checkpoint by checkpoint (1, 2, 5, 9, 15) and ends on the signed root of 15 entries', async () => {
    let state: MonitorState | undefined;
    let total = 0;
    for (const n of [1, 2, 5, 9, 15]) {
      checkpoint = `checkpoint.${n}`;
      const r = await catchUp(new LogClient(url), state, await opts());
      state = r.state;
      total += r.entries;
      expect(state.trusted.treeSize).toBe(n);
    }
    expect(total).toBe(15);
    expect(state!.edge.root()).toEqual(fromBase64('rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=')!);
  });

  it('an entry changed in transit is BAD_TILE naming its index', async () => {
    checkpoint = 'checkpoint';
    tamper = (path, body) => {
      if (path !== 'tile/entries/000.p/15') return body;
      const copy = body.slice();
      copy[copy.length - 1]! ^= 0x20; // last byte of "fivten"
      return copy;
    };
    try {
      const e = await catchUp(new LogClient(url), undefined, await opts()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(MonitorAlarm);
      expect((e as MonitorAlarm).evidence).toMatchObject({ code: 'BAD_TILE', index: 14, tile: { path: 'tile/0/000.p/15' } });
    } finally {
      tamper = undefined;
    }
  });
});
