/**
 * `agent-tlog monitor --once` against real servers on loopback: an honest log
 * (and resuming), a split view, a rollback, and tampered storage. Evidence
 * files are checked the way a third party would: with the verifier key only.
 */

import { copyFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { TlogError } from '../../src/errors.js';
import { entryKey, tileKey } from '../../src/storage/layout.js';
import { ed25519Signer, formatVerifierKey } from '../../src/note/index.js';
import { LogStore } from '../../src/storage/store.js';
import { verifyCheckpoint, verifyConsistency } from '../../src/verifier/index.js';
import { CLI } from '../child.js';
import { get, post, sampleEvent, startTestServer, tempDir, type TestServer } from '../helpers.js';
import { addEvents, allTenantsAuditor, runCli } from './helpers.js';

let work: string;
beforeAll(async () => {
  work = await tempDir('tlog-monitor-');
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function monitorOnce(t: TestServer, vkey: string, token: string, name: string, extra: string[] = []) {
  const evidence = join(work, `${name}.evidence.json`);
  const r = await runCli(['monitor', t.url, '--once', '--key', vkey, '--state', join(work, `${name}.state.json`), '--evidence', evidence, '--token', token, ...extra]);
  return { ...r, evidence };
}

const readJson = async (p: string) => JSON.parse(await readFile(p, 'utf8'));

describe('monitor --once on an honest log', () => {
  let t: TestServer;
  let vkey: string;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer();
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    token = await allTenantsAuditor(t);
  });
  afterAll(() => t.close());

  it('--check-leaves also checks every leaf as a canonical record, on the same honest log', async () => {
    await addEvents(t, 40, 5000);
    const size = (await get(`${t.url}/v1/log`)).json.tree_size as number;
    const r = await monitorOnce(t, vkey, token, 'check-leaves', ['--check-leaves']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${size} new entries verified`);
  });

  it('verifies from leaf 0, then resumes from its state file with only the new entries', async () => {
    await addEvents(t, 300);
    const first = await monitorOnce(t, vkey, token, 'honest');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // 300 events plus the keys' system events, if any: the size comes from the log.
    const size1 = (await get(`${t.url}/v1/log`)).json.tree_size as number;
    expect(first.stdout).toContain(`tree size ${size1},`);
    expect(first.stdout).toContain(`${size1} new entries verified`);

    await addEvents(t, 220, 1000);
    const size2 = (await get(`${t.url}/v1/log`)).json.tree_size as number;
    const second = await monitorOnce(t, vkey, token, 'honest');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`tree size ${size2},`);
    expect(second.stdout).toContain(`${size2 - size1} new entries verified`);

    const again = await monitorOnce(t, vkey, token, 'honest');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 new entries verified');
  });

  it('reads a partial tile the log deleted (404) from the full tile that replaced it; a full tile that is not one is BAD_TILE, with evidence', async () => {
    // A checkpoint whose right edge is a partial tile, then appends past that tile's end, so the
    // full tile exists: the proxy serves the old checkpoint and answers 404 for the partial tiles
    // whose full tile exists, as a log that deleted them may (c2sp.org/tlog-tiles).
    await addEvents(t, 10, 7000);
    const old = (await get(`${t.url}/checkpoint`)).body;
    const size = verifyCheckpoint(new TextDecoder().decode(old), vkey).treeSize;
    expect(size % 256).not.toBe(0);
    await addEvents(t, 256 - (size % 256) + 5, 8000);
    let full: 'as served' | 'short' | 'long' = 'as served';
    const proxy = createServer(async (req, res) => {
      if (req.url === '/checkpoint') return void res.end(old);
      // Only where the full tile now exists (level 0 and the bundles; the level-1 tile is still partial).
      if (req.url!.includes('.p/') && /^\/tile\/(0|entries)\//.test(req.url!)) return void res.writeHead(404).end();
      const r = await fetch(t.url + req.url, { headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} });
      let b = Buffer.from(await r.arrayBuffer());
      if (req.url!.startsWith('/tile/0/') && full === 'short') b = b.subarray(0, 32 * 8);
      if (req.url!.startsWith('/tile/0/') && full === 'long') b = Buffer.concat([b, Buffer.from([1, 2, 3])]);
      res.writeHead(r.status).end(b);
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const run = () =>
        runCli(['monitor', url, '--once', '--key', vkey, '--state', join(work, `gone-${full}.state.json`), '--evidence', join(work, `gone-${full}.evidence.json`), '--token', token]);
      const r = await run();
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${size} new entries verified`);
      for (const mode of ['short', 'long'] as const) {
        full = mode;
        const bad = await run();
        expect(bad.code, mode).toBe(1);
        expect(bad.stderr).toContain('BAD_TILE');
        const ev = await readJson(join(work, `gone-${mode}.evidence.json`));
        expect(ev).toMatchObject({ kind: 'bad-tile', code: 'BAD_TILE', tile: { path: expect.stringMatching(/^tile\/0\/\d+$/) } });
      }
    } finally {
      await new Promise((ok) => (proxy.close(ok), proxy.closeAllConnections()));
    }
  });

  it('a tile fetched ahead that fails is LOG_UNREACHABLE (exit 2), never a crash, whenever it fails', async () => {
    // The second level-0 tile fails at once, while the first is still being checked: its
    // rejection comes before the loop awaits it.
    await addEvents(t, 300, 9000);
    const proxy = createServer(async (req, res) => {
      if (/^\/tile\/0\/001/.test(req.url!)) return void res.writeHead(503).end('busy');
      if (/^\/tile\/(0\/000|entries\/000)/.test(req.url!)) await new Promise((ok) => setTimeout(ok, 300));
      const r = await fetch(t.url + req.url, { headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} });
      res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await runCli(['monitor', url, '--once', '--key', vkey, '--state', join(work, 'ahead.state.json'), '--token', token]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^agent-tlog: LOG_UNREACHABLE: couldn't fetch tile\/0\/001(\.p\/\d+)?: HTTP 503/);
      expect(r.stderr).not.toContain('    at ');
    } finally {
      await new Promise((ok) => (proxy.close(ok), proxy.closeAllConnections()));
    }
  });

  it('without --once it follows the log, verifying each new tree as it appears', async () => {
    const state = join(work, 'follow.state.json');
    const proc = spawn(process.execPath, [CLI, 'monitor', t.url, '--key', vkey, '--state', state, '--token', token, '--interval', '0.2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const seen = (re: RegExp) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`monitor never printed ${re}: ${out}`)), 20_000);
          const check = () => {
            if (re.test(out)) {
              clearTimeout(timer);
              proc.stdout!.off('data', onData);
              resolve();
            }
          };
          const onData = (d: Buffer) => {
            out += d.toString();
            check();
          };
          proc.stdout!.on('data', onData);
          check();
        });
      const size1 = (await get(`${t.url}/v1/log`)).json.tree_size as number;
      await seen(new RegExp(`tree size ${size1},`));
      await addEvents(t, 30, 5000);
      const size2 = (await get(`${t.url}/v1/log`)).json.tree_size as number;
      await seen(new RegExp(`tree size ${size2},`));
      expect(proc.exitCode).toBe(null);
    } finally {
      proc.kill('SIGTERM');
    }
  });

  it('refuses without a cross-tenant token (entry bundles), exit 2, and keeps no state', async () => {
    const r = await monitorOnce(t, vkey, t.auditorToken, 'notoken');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LOG_UNREACHABLE');
    expect(r.stderr).toContain('403');
    expect(existsSync(join(work, 'notoken.state.json'))).toBe(false);
  });

  it('refuses a checkpoint signed by another key (exit 1, no evidence)', async () => {
    const other = ed25519Signer('test.example/log', new Uint8Array(32).fill(9));
    const r = await monitorOnce(t, formatVerifierKey(other.name, other.publicKey), token, 'otherkey');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UNKNOWN_KEY');
  });
});

describe('split view: two servers share a key but not a history', () => {
  let a: TestServer;
  let b: TestServer;
  let vkey: string;
  let tokenA: string;
  let tokenB: string;
  beforeAll(async () => {
    a = await startTestServer();
    const dirB = await tempDir();
    await copyFile(join(a.dataDir, 'log.key'), join(dirB, 'log.key'));
    b = await startTestServer({}, dirB);
    vkey = (await get(`${a.url}/v1/log`)).json.verifier_key;
    expect((await get(`${b.url}/v1/log`)).json.verifier_key).toBe(vkey);
    tokenA = await allTenantsAuditor(a);
    tokenB = await allTenantsAuditor(b);
    await addEvents(a, 10);
    await addEvents(b, 40, 500, { run_id: 'the-other-history' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('the monitor that trusted A catches B: LOG_FORK, with two validly signed conflicting checkpoints', async () => {
    expect((await monitorOnce(a, vkey, tokenA, 'split')).code).toBe(0);
    const r = await monitorOnce(b, vkey, tokenB, 'split');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LOG_FORK');
    const ev = await readJson(r.evidence);
    expect(ev.code).toBe('LOG_FORK');
    expect(ev.checkpoints).toHaveLength(2);
    const [c1, c2] = ev.checkpoints.map((n: string) => verifyCheckpoint(n, vkey));
    expect(c1.treeSize).toBeLessThan(c2.treeSize);
    // The conflict is checkable from the evidence alone: B's proof does not link A's root to B's.
    const proof = ev.consistency_proof.proof.map((h: string) => fromBase64(h)!);
    expect(ev.consistency_proof).toMatchObject({ from: c1.treeSize, to: c2.treeSize });
    expect(() => verifyConsistency(c1.treeSize, c2.treeSize, proof, c1.rootHash, c2.rootHash)).toThrow(TlogError);
    // The trusted state did not move.
    expect((await monitorOnce(a, vkey, tokenA, 'split')).code).toBe(0);
  });

  it('equal sizes with different roots are a fork too', async () => {
    // Its own state file: trust A first, so this test does not lean on the one above.
    expect((await monitorOnce(a, vkey, tokenA, 'split-equal')).code).toBe(0);
    const sizeA = (await get(`${a.url}/v1/log`)).json.tree_size as number;
    const dirC = await tempDir();
    await copyFile(join(a.dataDir, 'log.key'), join(dirC, 'log.key'));
    const c = await startTestServer({}, dirC);
    try {
      // Creating a key is itself a logged (system) event: make the token before
      // filling C up to A's size, so that nothing grows C between the fill and the monitor.
      const tokenC = await allTenantsAuditor(c);
      const now = (await get(`${c.url}/v1/log`)).json.tree_size as number;
      expect(now).toBeLessThan(sizeA);
      await addEvents(c, sizeA - now, 900, { run_id: 'third' });
      expect((await get(`${c.url}/v1/log`)).json.tree_size).toBe(sizeA);
      const r = await monitorOnce(c, vkey, tokenC, 'split-equal');
      expect(r.code).toBe(1);
      const ev = await readJson(r.evidence);
      expect(ev.code).toBe('LOG_FORK');
      const [c1, c2] = ev.checkpoints.map((n: string) => verifyCheckpoint(n, vkey));
      expect(c1.treeSize).toBe(c2.treeSize);
      expect(Buffer.from(c1.rootHash).equals(Buffer.from(c2.rootHash))).toBe(false);
    } finally {
      await c.close();
    }
  });
});

describe('rollback: a server restored from an old copy of its data folder', () => {
  it('is caught: LOG_ROLLBACK with the newer and the older signed checkpoints', async () => {
    let t = await startTestServer();
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const dir = t.dataDir;
    await addEvents(t, 5);
    await t.close({ keepData: true });
    const backup = join(work, 'backup');
    await cp(dir, backup, { recursive: true });

    t = await startTestServer({}, dir);
    const token = await allTenantsAuditor(t);
    await addEvents(t, 20, 100);
    expect((await monitorOnce(t, vkey, token, 'rollback')).code).toBe(0);
    await t.close({ keepData: true });
    await rm(dir, { recursive: true, force: true });
    await cp(backup, dir, { recursive: true });

    t = await startTestServer({}, dir);
    try {
      const r = await monitorOnce(t, vkey, await allTenantsAuditor(t), 'rollback');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('LOG_ROLLBACK');
      const ev = await readJson(r.evidence);
      expect(ev.code).toBe('LOG_ROLLBACK');
      const [newer, older] = ev.checkpoints.map((n: string) => verifyCheckpoint(n, vkey));
      expect(older.treeSize).toBeLessThan(newer.treeSize);

      // Growing the restored log past the old size makes it a fork instead.
      await addEvents(t, 40, 300);
      const r2 = await monitorOnce(t, vkey, await allTenantsAuditor(t), 'rollback');
      expect(r2.code).toBe(1);
      expect((await readJson(r2.evidence)).code).toBe('LOG_FORK');
    } finally {
      await t.close();
    }
  });
});

describe('tampered storage', () => {
  /** A log of 300+ entries (tile 0 is full, so start-up, which reads only partial tiles, still succeeds). */
  async function tampered(edit: (store: LogStore, receipts: any[]) => Promise<void>) {
    let t = await startTestServer();
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const receipts = await addEvents(t, 300);
    await t.close({ keepData: true });
    const store = await LogStore.open(join(t.dataDir, 'log'));
    try {
      await edit(store, receipts);
    } finally {
      await store.close();
    }
    t = await startTestServer({}, t.dataDir);
    return { t, vkey, receipts, token: await allTenantsAuditor(t) };
  }

  /** Flips a letter inside a text string of entry `i`: still canonical CBOR, a different leaf. */
  async function flipLeaf(store: LogStore, i: number) {
    const leaf = (await store.readEntry(i))!;
    const at = Buffer.from(leaf).indexOf('invoice/');
    expect(at, `entry ${i} is one of the test's events`).toBeGreaterThanOrEqual(0);
    leaf[at]! ^= 0x01; // 'i' → 'h'
    await store.db.put(entryKey(i), leaf);
  }

  it('a flipped byte in a stored leaf: monitor BAD_TILE naming the entry; verify-receipt BAD_PROOF', async () => {
    // The log starts with system entries (key creations), so the 8th event's
    // index comes from its receipt, not from its position in the batch.
    let index = -1;
    const { t, vkey, receipts, token } = await tampered((s, rs) => {
      index = rs[7].index as number;
      return flipLeaf(s, index);
    });
    try {
      expect(index).toBeGreaterThanOrEqual(7);
      expect(index).toBeLessThan(256); // inside tile 0, as the paths below say
      const r = await monitorOnce(t, vkey, token, 'tamper-leaf');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('BAD_TILE');
      const ev = await readJson(r.evidence);
      expect(ev).toMatchObject({ code: 'BAD_TILE', index, tile: { path: 'tile/0/000' }, bundle: { path: 'tile/entries/000' } });
      verifyCheckpoint(ev.checkpoints[0], vkey);

      const eventId = receipts[7].event_id;
      const fresh = await get(`${t.url}/v1/events/${eventId}/receipt`, t.agentToken);
      expect(fresh.status).toBe(200);
      const file = join(work, 'tampered-receipt.json');
      await writeFile(file, JSON.stringify(fresh.json));
      const v = await runCli(['verify-receipt', file, '--key', vkey]);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain('BAD_PROOF');
    } finally {
      await t.close();
    }
  });

  it('a flipped leaf beside a pruned one: the bundle answers 410, the entries are read one by one, and the monitor still finds it', async () => {
    let index = -1;
    const { t, vkey, token } = await tampered(async (s, rs) => {
      index = rs[7].index as number;
      await flipLeaf(s, index);
      // The next entry "pruned": its leaf gone, a marker in its place, so its bundle answers 410.
      const next = index + 1;
      const leafHash = (await s.readTile(0, 0))!.subarray(next * 32, next * 32 + 32);
      await s.prune([{ index: next, leafHash, prunedAt: Date.now() }]);
    });
    try {
      expect((await get(`${t.url}/tile/entries/000`, token)).status).toBe(410);
      const r = await monitorOnce(t, vkey, token, 'tamper-beside-pruned');
      // Before, the whole bundle went in by its hashes and the monitor answered ok.
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('BAD_TILE');
      expect(await readJson(r.evidence)).toMatchObject({ code: 'BAD_TILE', index, bundle: { path: `v1/entries/${index}` } });
    } finally {
      await t.close();
    }
  });

  it('a flipped byte in a stored full hash tile: monitor BAD_TILE; receipts built from it fail BAD_PROOF', async () => {
    const { t, vkey, receipts, token } = await tampered(async (s) => {
      const tile = (await s.readTile(0, 0))!;
      tile[200 * 32 + 5]! ^= 0x40;
      await s.db.put(tileKey(0, 0), tile);
    });
    try {
      const r = await monitorOnce(t, vkey, token, 'tamper-tile');
      expect(r.code).toBe(1);
      const ev = await readJson(r.evidence);
      expect(ev).toMatchObject({ code: 'BAD_TILE', index: 200, tile: { path: 'tile/0/000' } });

      const fresh = await get(`${t.url}/v1/events/${receipts[5].event_id}/receipt`, t.agentToken);
      const file = join(work, 'tampered-tile-receipt.txt');
      await writeFile(file, fresh.json.tlog_proof);
      const v = await runCli(['verify-receipt', file, '--key', vkey]);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain('BAD_PROOF');
    } finally {
      await t.close();
    }
  });
});

describe('monitor --once on a log with pruned entries', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  afterAll(() => t.close());

  it('reads a bundle that answers 410 entry by entry, takes only the pruned entry by its hash, names it, and still checks the root', async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const token = await allTenantsAuditor(t);
    // One operational entry in the first bundle; the rest compliance (the default class).
    const pruned = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'operational' }))).json.index;
    await addEvents(t, 300);
    now += 31 * 86_400_000;
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.entries.pruned).toBe(1);
    expect((await get(`${t.url}/tile/entries/000`, token)).status).toBe(410);
    const size = (await get(`${t.url}/v1/log`)).json.tree_size as number;
    // Before, the monitor stopped: LOG_UNREACHABLE … tile/entries/000: HTTP 410.
    const r = await monitorOnce(t, vkey, token, 'pruned');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tree size ${size},`);
    // The bundle's other entries are read one by one and checked; only the pruned one is not.
    expect(r.stdout).toContain(`${size - 1} new entries verified (1 more pruned, taken by their hashes only: ${pruned})`);
  });
});
