/**
 * kill -9 `agent-tlog reindex` at precise points (test/kill-hook.mjs): right
 * after it cleared the index range, and right after its first rebuild batch.
 * The marker it wrote first is there; the server never serves the partial
 * indexes: start-up redoes the reindex (and a kill during that redo is
 * redone again at the next start), queries answer in full, and
 * `reindex --check` agrees. Without the marker the server would have started
 * on an empty index and answered every query with nothing.
 */

import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFormat } from '../../src/query/block-indexer.js';
import { INDEX_RANGE } from '../../src/query/keys.js';
import { compareIndexes } from '../../src/query/reindex.js';
import { REINDEX_KEY } from '../../src/storage/layout.js';
import { LogStore } from '../../src/storage/store.js';
import { CLI, killAt, spawnServer, type Child } from '../child.js';
import { get, post, tempDir } from '../helpers.js';

const run = promisify(execFile);
const N = 10_000;

/** Runs `agent-tlog reindex` with the kill hook armed; resolves with how it ended and its stderr. */
function killedReindex(dir: string, spec: string): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  const k = killAt(spec);
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [...k.nodeArgs, CLI, 'reindex', '--data', dir], { env: k.env }, (_e, _out, stderr) => resolve({ signal: p.signalCode, stderr }));
  });
}

async function stopped(child: Child): Promise<void> {
  child.proc.kill('SIGTERM');
  await child.exited;
}

describe('kill -9 during reindex', () => {
  let dir: string;
  let child: Child | undefined;
  let auditor: string;

  beforeAll(async () => {
    dir = await tempDir('tlog-reindex-kill-');
    child = await spawnServer(dir, ['--rate-append-key', 'off', '--rate-append-tenant', 'off']);
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const agent = (await post(`${child.url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json.token;
    auditor = (await post(`${child.url}/v1/keys`, admin, { role: 'auditor', tenant: 'acme' })).json.token;
    // A distinct target resource per entry (a list and a word each): over 20,000 index keys, so
    // the rebuild writes more than one batch and the kill after its first one is mid-rebuild.
    for (let i = 0; i < N; i += 1000) {
      const events = Array.from({ length: 1000 }, (_, k) => ({
        actor: { type: 'agent', id: `a${(i + k) % 7}` },
        action: { type: 'tool.call', name: 'x' },
        run_id: `run-${(i + k) % 50}`,
        target: { system: 'erp', resource: `r${i + k}` },
      }));
      expect((await post(`${child.url}/v1/events/batch`, agent, { events })).status).toBe(200);
    }
    expect((await runHits(child)).length).toBe(N / 50);
    await stopped(child);
    child = undefined;
  }, 60_000);

  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function runHits(c: Child): Promise<number[]> {
    const r = await get(`${c.url}/v1/events?run_id=run-3&limit=1000`, auditor);
    expect(r.status).toBe(200);
    return r.json.events.map((e: { index: number }) => e.index);
  }

  /** The restarted server finds every run's entries; stopped, the indexes check whole. */
  async function servesWhole(): Promise<void> {
    expect((await runHits(child!)).length).toBe(N / 50);
    await stopped(child!);
    child = undefined;
    const check = await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir]);
    expect(check.stdout).toMatch(/^ok: /);
  }

  /** The data folder after the kill: the marker, the partial index, and the check that refuses it. */
  async function inspect(): Promise<{ indexKeys: number; missing: number }> {
    const store = await LogStore.open(join(dir, 'log'));
    try {
      expect(await store.db.get(REINDEX_KEY)).toBeDefined();
      let indexKeys = 0;
      for await (const _ of store.db.keys(INDEX_RANGE)) indexKeys++;
      const size = (await store.readHead())!.treeSize;
      // What Log.open's indexer runs at start-up: refused, never initialised as a fresh index.
      await expect(checkFormat(store, size)).rejects.toMatchObject({ code: 'QUERY_INDEX_STALE' });
      return { indexKeys, missing: (await compareIndexes(store)).missing };
    } finally {
      await store.close();
    }
  }

  for (const [point, spec] of [
    ['after it cleared the indexes', 'clear:78'],
    ['after its first rebuild batch', 'batch:78:1'],
  ] as const) {
    it(`killed ${point}: the server redoes the reindex at start-up and answers in full`, async () => {
      const k = await killedReindex(dir, spec);
      expect(k.signal).toBe('SIGKILL');
      expect(k.stderr).toContain(`kill-hook: ${spec}`);
      const left = await inspect();
      expect(left.missing).toBeGreaterThan(0);
      if (spec.startsWith('clear')) expect(left.indexKeys).toBe(0);
      else expect(left.indexKeys).toBeGreaterThan(0);

      child = await spawnServer(dir);
      expect(child.stdout()).toContain('finished rebuilding the query indexes');
      await servesWhole();
    }, 60_000);
  }

  it('a kill during the start-up redo is redone at the next start', async () => {
    const k = await killedReindex(dir, 'clear:78');
    expect(k.signal).toBe('SIGKILL');
    // The server's own redo, killed right after its clear: it never listened.
    await expect(spawnServer(dir, [], killAt('clear:78'))).rejects.toThrow(/exited with SIGKILL/);
    const left = await inspect();
    expect(left.indexKeys).toBe(0);
    child = await spawnServer(dir);
    await servesWhole();
  }, 60_000);

  it('reindex --check names a cut-off reindex', async () => {
    expect((await killedReindex(dir, 'batch:78:1')).signal).toBe('SIGKILL');
    const bad = await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir]).catch((e: { stdout: string; code: number }) => e);
    expect((bad as { code?: number }).code).toBe(1);
    expect(bad.stdout).toMatch(/^MISMATCH: /);
    expect(bad.stdout).toMatch(/a reindex was cut off/);
    const fixed = await run(process.execPath, [CLI, 'reindex', '--data', dir]);
    expect(fixed.stdout).toMatch(/^ok: rebuilt/m);
    expect((await run(process.execPath, [CLI, 'reindex', '--check', '--data', dir])).stdout).toMatch(/^ok: /);
  }, 60_000);
});
