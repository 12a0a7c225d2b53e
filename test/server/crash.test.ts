/**
 * Crash test: load a server child process concurrently, kill -9 it
 * mid-flight, restart it, and check that every receipt acknowledged before
 * the kill is still included in — and consistent with — the new checkpoint.
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { parseTlogProof } from '../../src/note/index.js';
import { verifyCheckpoint, verifyConsistency, verifyInclusion, verifyReceipt } from '../../src/verifier/index.js';
import { spawnServer, type Child } from '../child.js';
import { get, post, sampleEvent, tempDir } from '../helpers.js';

describe('kill -9 under load loses no acknowledged event', () => {
  let dir: string;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('survives three kill -9 cycles with every acknowledged receipt provable', async () => {
    dir = await tempDir('tlog-crash-');
    const acked: any[] = [];
    let vkey: string | undefined;
    let agentToken: string | undefined;
    let lastSize = 0;
    let lastRoot: Uint8Array | undefined;

    for (let cycle = 0; cycle < 3; cycle++) {
      child = await spawnServer(dir);
      const url = child.url;
      const info = await get(`${url}/v1/log`);
      // Same identity after every restart.
      vkey ??= info.json.verifier_key;
      expect(info.json.verifier_key).toBe(vkey);

      // Everything acknowledged so far is in the restarted log.
      const cp = verifyCheckpoint(new TextDecoder().decode((await get(`${url}/checkpoint`)).body), vkey!);
      expect(cp.treeSize).toBeGreaterThanOrEqual(acked.length);
      if (lastRoot) {
        const c = await get(`${url}/v1/proofs/consistency?from=${lastSize}&to=${cp.treeSize}`);
        verifyConsistency(lastSize, cp.treeSize, c.json.proof.map(fromBase64), lastRoot, cp.rootHash);
      }
      for (const r of acked) {
        verifyReceipt(r.tlog_proof, vkey!);
        expect(r.index).toBeLessThan(cp.treeSize);
        const p = await get(`${url}/v1/proofs/inclusion?index=${r.index}&tree_size=${cp.treeSize}`);
        verifyInclusion(r.index, cp.treeSize, fromBase64(r.leaf_hash)!, p.json.proof.map(fromBase64), cp.rootHash);
        const rcpCp = verifyCheckpoint(parseTlogProof(r.tlog_proof).checkpoint, vkey!);
        const c = await get(`${url}/v1/proofs/consistency?from=${rcpCp.treeSize}&to=${cp.treeSize}`);
        verifyConsistency(rcpCp.treeSize, cp.treeSize, c.json.proof.map(fromBase64), rcpCp.rootHash, cp.rootHash);
      }

      if (!agentToken) {
        const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
        agentToken = (await post(`${url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json.token;
      }

      // Load: 24 workers appending singles and small batches until the kill.
      let stop = false;
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            if (i % 4 === 3) {
              const r = await post(`${url}/v1/events/batch`, agentToken!, { events: [0, 1, 2, 3, 4].map((k) => sampleEvent(w * 1e6 + i * 10 + k)) });
              if (r.status === 200) for (const x of r.json.results) if (x.status === 201) acked.push(x);
            } else {
              const r = await post(`${url}/v1/events`, agentToken!, sampleEvent(w * 1e6 + i * 10));
              if (r.status === 201) acked.push(r.json);
            }
          } catch {
            return; // connection cut by the kill: not acknowledged
          }
        }
      };
      const before = acked.length;
      const workers = Array.from({ length: 24 }, (_, w) => worker(cycle * 100 + w));
      await new Promise((r) => setTimeout(r, 1200 + cycle * 300));
      child.proc.kill('SIGKILL');
      await child.exited;
      stop = true;
      await Promise.all(workers);
      expect(acked.length).toBeGreaterThan(before);
      lastSize = cp.treeSize;
      lastRoot = cp.rootHash;
      child = undefined;
    }

    // Final restart: the full set once more, and no index was acknowledged twice.
    child = await spawnServer(dir);
    const cp = verifyCheckpoint(new TextDecoder().decode((await get(`${child.url}/checkpoint`)).body), vkey!);
    const seen = new Set<number>();
    for (const r of acked) {
      expect(seen.has(r.index)).toBe(false);
      seen.add(r.index);
      const p = await get(`${child.url}/v1/proofs/inclusion?index=${r.index}&tree_size=${cp.treeSize}`);
      verifyInclusion(r.index, cp.treeSize, fromBase64(r.leaf_hash)!, p.json.proof.map(fromBase64), cp.rootHash);
    }
    child.proc.kill('SIGTERM');
    await child.exited;
    child = undefined;
  });
});
