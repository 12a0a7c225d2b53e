/** A real server with a controllable clock, and a randomized audit log built through the real append path. */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseEvent } from '../../src/events/index.js';
import { deriveIndex } from '../../src/query/block-indexer.js';
import { INDEX_RANGE } from '../../src/query/keys.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { entryKey, readU64 } from '../../src/storage/layout.js';
import type { LogStore } from '../../src/storage/store.js';
import { post, tempDir } from '../helpers.js';

export interface QueryServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  admin: string;
  /** Tokens by "role:tenant". */
  token(role: string, tenant: string): Promise<string>;
  clock: { now: number };
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startQueryServer(dataDir?: string, start = Date.UTC(2026, 10, 2, 6, 0, 0)): Promise<QueryServer> {
  const dir = dataDir ?? (await tempDir('tlog-query-'));
  const clock = { now: start };
  // Rate limits off: these tests page through thousands of results quickly.
  const config = loadConfig({}, {
    port: 0,
    dataDir: dir,
    logLevel: 'silent',
    origin: 'query.example/log',
    rateAppendKey: 'off',
    rateAppendTenant: 'off',
    rateReadKey: 'off',
    rateReadTenant: 'off',
  });
  const server = await startServer(config, { now: () => clock.now });
  const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
  const tokens = new Map<string, string>();
  return {
    server,
    url: server.url,
    dataDir: dir,
    admin,
    clock,
    async token(role, tenant) {
      const k = `${role}:${tenant}`;
      if (!tokens.has(k)) {
        const r = await post(`${server.url}/v1/keys`, admin, { role, tenant });
        if (r.status !== 201) throw new Error(`key: ${r.status}`);
        tokens.set(k, r.json.token);
      }
      return tokens.get(k)!;
    },
    async close(opts = {}) {
      await server.close();
      if (!opts.keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A small deterministic PRNG, so a failing log can be rebuilt from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const VOCAB = {
  actors: ['bot-a', 'bot-b', 'bot-c', 'ops-human', 'sched', 'triage-7', 'invoice-agent', 'x-9'],
  actionTypes: ['tool.call', 'shell', 'http.request', 'db.query', 'email.send'],
  actionNames: ['deploy', 'Approve_Invoice', 'restart', 'read-logs', 'send mail', 'drop table'],
  decisions: ['ALLOW', 'DENY', 'REQUIRE_APPROVAL'],
  approvals: ['pending', 'approved', 'denied', 'expired', 'not_required'],
  approvers: ['alice', 'bob', 'carol', 'dave'],
  systems: ['k8s', 'erp', 'github', 'postgres'],
  words: ['Host', 'db-01.prod', 'restart', 'kubectl', 'payments', 'ERROR', 'timeout', 'rollback', 'invoice', 'alpha', 'beta', 'gamma', 'Ünïcode', 'x'],
};

export function randomEvent(r: () => number, i: number): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number) => r() < p;
  const sentence = (n: number) => Array.from({ length: 1 + Math.floor(r() * n) }, () => pick(VOCAB.words)).join(' ');
  const e: Record<string, unknown> = {
    actor: { type: 'agent', id: pick(VOCAB.actors) },
    action: { type: pick(VOCAB.actionTypes), ...(maybe(0.7) ? { name: pick(VOCAB.actionNames) } : {}) },
  };
  if (maybe(0.9)) e.run_id = `run-${Math.floor(r() * 300)}`;
  if (maybe(0.6)) e.session_id = `sess-${Math.floor(r() * 40)}`;
  if (maybe(0.7)) e.target = { system: pick(VOCAB.systems), ...(maybe(0.6) ? { resource: `res/${Math.floor(r() * 60)}` } : {}) };
  if (maybe(0.8)) e.policy = { decision: pick(VOCAB.decisions), ...(maybe(0.5) ? { matched_rule: `rule.${Math.floor(r() * 6)}` } : {}) };
  if (maybe(0.3)) e.approval = { status: pick(VOCAB.approvals), ...(maybe(0.7) ? { approver: pick(VOCAB.approvers) } : {}) };
  if (maybe(0.7)) e.risk = { score: maybe(0.2) ? Math.floor(r() * 101) : Math.round(r() * 10000) / 100 };
  if (maybe(0.4)) e.command = { text: `${pick(['kubectl', 'psql', 'curl'])} ${sentence(5)}` };
  if (maybe(0.5)) e.reasoning = { summary: sentence(8) };
  if (maybe(0.6)) e.result = { status: pick(['success', 'failure', 'error', 'blocked', 'pending']), ...(maybe(0.4) ? { detail: sentence(4) } : {}) };
  e.ts = new Date(Date.UTC(2026, 10, 2) + i * 1000).toISOString();
  return e;
}

/**
 * Appends `n` random events through the server's own Log (the real
 * sequencer and commit path, no HTTP), across `tenants`, advancing the
 * clock between small groups so time filters have something to cut.
 */
export async function buildLog(qs: QueryServer, n: number, seed: number, tenants = ['acme', 'other'], pad = 0, groupMax = 200): Promise<void> {
  const r = rng(seed);
  const ids = { generateId: (() => { let k = 0; return () => `019a0000-0000-7000-8000-${(seed * 1e7 + k++).toString(16).padStart(12, '0')}`; })() };
  for (let i = 0; i < n; ) {
    const group = 1 + Math.floor(r() * groupMax);
    const pending: Promise<unknown>[] = [];
    for (let k = 0; k < group && i < n; k++, i++) {
      const tenant = tenants[Math.floor(r() * tenants.length)]!;
      const e = randomEvent(r, i);
      if (pad > 0) e.metadata = { pad: 'p'.repeat(pad) };
      pending.push(qs.server.log.append(tenant, parseEvent(e, ids), { assignedId: true }));
    }
    await Promise.all(pending);
    qs.clock.now += Math.floor(r() * 60_000);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every stored query index key and value, as hex. */
export async function storedIndex(store: LogStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of store.db.iterator(INDEX_RANGE)) out.set(hex(k), hex(v));
  return out;
}

/** What reindex derives from the stored leaves of [0, size), as hex. */
export async function derivedIndex(store: LogStore, size: number): Promise<Map<string, string>> {
  async function* leaves(): AsyncGenerator<[number, Uint8Array]> {
    for await (const [k, leaf] of store.db.iterator({ gte: entryKey(0), lt: entryKey(size) })) yield [readU64(k, 1), leaf];
  }
  const out = new Map<string, string>();
  for await (const ws of deriveIndex(leaves())) for (const w of ws) {
    expect(out.has(hex(w.key))).toBe(false);
    out.set(hex(w.key), hex(w.value));
  }
  return out;
}
