/**
 * Entry retention: leaf bytes past retention are pruned (410 PRUNED), the
 * hashes stay so every receipt, proof and verify-store still pass, and
 * legal holds on a run or a subject keep their entries.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { verifyStore } from '../../src/log/fsck.js';
import { LogStore } from '../../src/storage/store.js';
import { join } from 'node:path';
import { rfc6962Hasher } from '../../src/merkle/index.js';
import { nodeSha256 } from '../../src/server.js';
import { parseVerifierKey } from '../../src/note/index.js';
import { verifyCheckpoint, verifyInclusion, verifyReceipt } from '../../src/verifier/index.js';
import { del, get, makeKey, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';
import { byteSearch } from './helpers.js';

const DAY = 86_400_000;

describe('entry pruning', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  let vkey: string;
  const r: Record<string, any> = {};

  beforeAll(async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    const add = async (name: string, extra: Record<string, unknown>) => {
      const res = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, extra));
      expect(res.status).toBe(201);
      r[name] = res.json;
    };
    await add('op', { retention: 'operational', run_id: 'run-free' });
    await add('op2', { retention: 'operational', run_id: 'run-free' });
    await add('heldRun', { retention: 'operational', run_id: 'run-held' });
    await add('heldSubject', { retention: 'operational', run_id: 'run-free', pii: { email: { subject: 'held-person', value: 'held@example.org' } } });
    await add('compliance', { retention: 'compliance', run_id: 'run-free' });
    await add('default', { run_id: 'run-free' }); // default class: compliance
    expect((await post(`${t.url}/v1/runs/run-held/hold`, privacy, { reason: 'case 12' })).status).toBe(201);
    expect((await post(`${t.url}/v1/subjects/held-person/hold`, privacy, {})).status).toBe(201);
    for (let i = 0; i < 300; i++) await add(`fill${i % 2}`, { run_id: 'run-fill' }); // later entries: a full tile after the pruned ones
  });
  afterAll(() => t.close());

  it('a dry run counts; apply prunes only expired, unheld entries', async () => {
    now += 31 * DAY;
    const dry = await post(`${t.url}/v1/retention/run`, t.adminToken, '');
    // The dry run lists the entries it would prune, as index ranges.
    expect(dry.json.entries).toEqual({ pruned: 2, held: 2, ranges: [[r.op.index, r.op2.index]] });
    expect((await get(`${t.url}/v1/entries/${r.op.index}`, t.auditorToken)).status).toBe(200);
    const applied = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect(applied.json.entries).toEqual({ pruned: 2, held: 2 });

    for (const name of ['op', 'op2']) {
      const e = await get(`${t.url}/v1/entries/${r[name].index}`, t.auditorToken);
      expect(e.status).toBe(410);
      expect(e.json.error.code).toBe('PRUNED');
      expect((await get(`${t.url}/v1/events/${r[name].event_id}/receipt`, t.agentToken)).status).toBe(410);
    }
    for (const name of ['heldRun', 'heldSubject', 'compliance', 'default']) expect((await get(`${t.url}/v1/entries/${r[name].index}`, t.auditorToken)).status).toBe(200);
    const allTenants = await makeKey(t.url, t.adminToken, 'auditor', '*');
    const bundle = await get(`${t.url}/tile/entries/000`, allTenants);
    expect(bundle.status).toBe(410);
  });

  it("another tenant's pruned entry is not found, like its stored entries: no prune time, no retention hint", async () => {
    const beta = await makeKey(t.url, t.adminToken, 'auditor', 'beta');
    const stored = await get(`${t.url}/v1/entries/${r.compliance.index}`, beta);
    const pruned = await get(`${t.url}/v1/entries/${r.op.index}`, beta);
    expect(stored.status).toBe(404);
    expect(pruned.status).toBe(404);
    expect(pruned.json.error).toEqual({ ...stored.json.error, message: `no entry at index ${r.op.index}` });
    expect(JSON.stringify(pruned.json)).not.toMatch(/prun|retention/i);
    // Keys that see the tenant still learn it was pruned.
    const allTenants = await makeKey(t.url, t.adminToken, 'auditor', '*');
    expect((await get(`${t.url}/v1/entries/${r.op.index}`, allTenants)).status).toBe(410);
    expect((await get(`${t.url}/v1/entries/${r.op.index}?tenant=beta`, allTenants)).status).toBe(404);
    expect((await get(`${t.url}/v1/entries/${r.op.index}?tenant=acme`, allTenants)).status).toBe(410);
  });

  it('receipts and proofs of pruned entries still verify', async () => {
    const cp = verifyCheckpoint(new TextDecoder().decode((await get(`${t.url}/checkpoint`)).body), vkey);
    for (const name of ['op', 'op2']) {
      expect(verifyReceipt(r[name].tlog_proof, vkey).index).toBe(r[name].index);
      const p = await get(`${t.url}/v1/proofs/inclusion?index=${r[name].index}&tree_size=${cp.treeSize}`);
      verifyInclusion(r[name].index, cp.treeSize, fromBase64(r[name].leaf_hash)!, p.json.proof.map(fromBase64), cp.rootHash);
    }
  });

  it('verify-store accepts a store with pruned entries (their hashes still rebuild the root)', async () => {
    const dir = t.dataDir;
    await t.close({ keepData: true });
    const store = await LogStore.open(join(dir, 'log'));
    const report = await verifyStore(store, rfc6962Hasher(nodeSha256), parseVerifierKey(vkey));
    await store.close();
    expect(report.problems).toEqual([]);
    t = await startTestServer({}, dir);
  });
});

describe('a legal hold acknowledged while a prune is running', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  let privacy: string;
  const idx: Record<string, number> = {};

  beforeAll(async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    for (const run of ['run-late-hold', 'läuf 7'])
      idx[run] = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'operational', run_id: run }))).json.index;
  });
  afterAll(() => t.close());

  it("keeps the run's entries: each batch re-checks holds in the turn hold changes take", async () => {
    now += 31 * DAY;
    // The scan reads "not held"; the hold is then set and acknowledged before the batch is written.
    const vault = t.server.vault as unknown as { runHeld: (tenant: string, run: string) => Promise<boolean> };
    const runHeld = vault.runHeld.bind(vault);
    let first = true;
    vault.runHeld = async (tenant, run) => {
      const stale = await runHeld(tenant, run);
      if (first && run === 'run-late-hold') {
        first = false;
        expect((await post(`${t.url}/v1/runs/run-late-hold/hold`, privacy, { reason: 'late' })).status).toBe(201);
      }
      return stale;
    };
    try {
      const applied = await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
      expect(applied.json.entries).toEqual({ pruned: 1, held: 1 });
    } finally {
      vault.runHeld = runHeld;
    }
    expect((await get(`${t.url}/v1/entries/${idx['run-late-hold']}`, t.auditorToken)).status).toBe(200);
    expect((await get(`${t.url}/v1/entries/${idx['läuf 7']}`, t.auditorToken)).status).toBe(410);
  });

  it('holds any run id an event can carry (spaces, non-ASCII)', async () => {
    const id = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { retention: 'operational', run_id: 'läuf 8' }))).json.index;
    expect((await post(`${t.url}/v1/runs/${encodeURIComponent('läuf 8')}/hold`, privacy, {})).status).toBe(201);
    now += 31 * DAY;
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.entries.held).toBeGreaterThanOrEqual(1);
    expect((await get(`${t.url}/v1/entries/${id}`, t.auditorToken)).status).toBe(200);
  });

  it("keeps the server's own entries about a held run or subject (hold.set) past the compliance retention", async () => {
    const person = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(3, { pii: { email: { subject: 'kit', value: 'kit@example.org' } } }))).json.index;
    expect((await post(`${t.url}/v1/subjects/kit/hold`, privacy, { reason: 'case 31' })).status).toBe(201);
    const holds = (await get(`${t.url}/v1/events?action=hold.set`, t.auditorToken)).json.events.map((e: any) => e.index);
    expect(holds).toHaveLength(3); // run-late-hold, läuf 8, kit
    now += 366 * DAY; // past the compliance class (365 days here)
    await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    // Before, a standing hold's own evidence was pruned with the rest of its class.
    for (const i of holds) expect((await get(`${t.url}/v1/entries/${i}`, t.auditorToken)).status).toBe(200);
    expect((await get(`${t.url}/v1/entries/${person}`, t.auditorToken)).status).toBe(200);
    // The key events of the set-up (compliance class, about keys) are not held. Entry 0 is
    // the admin key's, logged under the system tenant: pruned, and not found to acme's keys.
    const allTenants = await makeKey(t.url, t.adminToken, 'auditor', '*');
    expect((await get(`${t.url}/v1/entries/0`, allTenants)).status).toBe(410);
    expect((await get(`${t.url}/v1/entries/0`, t.auditorToken)).status).toBe(404);
  });
});

describe('pruned leaves leave the files', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 }, undefined, { now: () => now });
  });
  afterAll(() => t.close());

  it('no byte of a pruned leaf is left in the log database (write-ahead log, tables) once the prune answers', async () => {
    // metadata is not indexed: these words are only in the leaves.
    const words = { a: 'zq-prune-word-4417', b: 'zq-prune-word-8830' };
    const idx: number[] = [];
    for (const w of Object.values(words)) idx.push((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'operational', metadata: { note: w } }))).json.index);
    const kept = 'zq-kept-word-1290';
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { retention: 'compliance', metadata: { note: kept } }));
    expect(await byteSearch(t.dataDir, words)).not.toEqual([]);
    now += 31 * DAY;
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.entries).toEqual({ pruned: 2, held: 0 });
    for (const i of idx) expect((await get(`${t.url}/v1/entries/${i}`, t.auditorToken)).status).toBe(410);
    // Before, the deletions only hid them: the leaves stayed in the write-ahead log and tables.
    expect(await byteSearch(t.dataDir, words)).toEqual([]);
    expect(await byteSearch(t.dataDir, { kept })).not.toEqual([]);
  });
});

describe('a legal hold on a subject whose values retention already erased', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  let privacy: string;

  beforeAll(async () => {
    t = await startTestServer({ piiRetentionDays: 90, retentionOperationalDays: 30, retentionComplianceDays: 365, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
  });
  afterAll(() => t.close());

  it('covers the entries that name its old pseudonym, and its data if it comes back, until lifted', async () => {
    const old = (await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'compliance', pii: { email: { subject: 'ana', value: 'ana@example.org' } } }))).json.index;
    now += 91 * 86_400_000;
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).json.pii).toMatchObject({ subjects: 1, values: 1 });
    // Before, this was 404 (no record left), and the old entry was later pruned with its class.
    const hold = await post(`${t.url}/v1/subjects/ana/hold`, privacy, { reason: 'litigation 7' });
    expect(hold.status).toBe(201);
    const oldRef = (await get(`${t.url}/v1/entries/${old}`, t.auditorToken)).json.record.event.pii.email;
    expect(hold.json.pseudonym).toBe(oldRef.subject);
    // The person comes back (a new pseudonym): erasing the new data is refused while the hold stands.
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { pii: { email: { subject: 'ana', value: 'ana.new@example.org' } } }))).status).toBe(201);
    expect((await del(`${t.url}/v1/subjects/ana?reason=DSR`, privacy)).status).toBe(409);
    // …and access shows the hold, and setting it again changes (and logs) nothing.
    expect((await get(`${t.url}/v1/subjects/ana?purpose=check`, privacy)).json.hold).toMatchObject({ reason: 'litigation 7' });
    const again = await post(`${t.url}/v1/subjects/ana/hold`, privacy, { reason: 'litigation 7' });
    expect(again.status).toBe(200);
    expect(again.json.changed).toBe(false);
    now += 300 * 86_400_000; // the old entry is past its compliance class
    await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect((await get(`${t.url}/v1/entries/${old}`, t.auditorToken)).status).toBe(200);
    // Lifted, the next run prunes it.
    const lift = await fetch(`${t.url}/v1/subjects/ana/hold`, { method: 'DELETE', headers: { authorization: `Bearer ${privacy}` } });
    expect(lift.status).toBe(200);
    expect((await lift.json()).changed).toBe(true);
    await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    expect((await get(`${t.url}/v1/entries/${old}`, t.auditorToken)).status).toBe(410);
  });
});

describe('a prune cut off before its compaction', () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);
  afterAll(() => t.close());

  it('is compacted at the next start: no byte of its leaves is left', async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, undefined, { now: () => now });
    const words = { a: 'zq-cutoff-word-5521' };
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { retention: 'operational', metadata: { note: words.a } }))).status).toBe(201);
    now += 31 * DAY;
    const log = t.server.log as unknown as { purgePruned: (a: number, b: number) => Promise<void> };
    const purge = log.purgePruned;
    log.purgePruned = () => Promise.reject(new Error('stopped before the compaction (test)'));
    expect((await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '')).status).toBe(500);
    log.purgePruned = purge;
    expect(await byteSearch(t.dataDir, words)).not.toEqual([]);
    const dir = t.dataDir;
    await t.close({ keepData: true });
    // Before, the next runs skipped the pruned entry and nothing compacted its range again.
    t = await startTestServer({ retentionOperationalDays: 30, retentionSweepSeconds: 0 }, dir, { now: () => now });
    expect(await byteSearch(t.dataDir, words)).toEqual([]);
  });
});

describe("what counts as the server's erasure evidence", () => {
  let t: TestServer;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    t = await startTestServer({ retentionOperationalDays: 30, retentionComplianceDays: 60, retentionSweepSeconds: 0 }, undefined, { now: () => now });
  });
  afterAll(() => t.close());

  it("a client's own pii.erase event is pruned like any other; the server's erasure entry is kept", async () => {
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    const client = await post(`${t.url}/v1/events`, t.agentToken, { ...sampleEvent(1), actor: { type: 'system', id: 'crm-cleanup' }, action: { type: 'pii.erase' }, retention: 'operational' });
    expect(client.status).toBe(201);
    expect((await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(2, { pii: { email: { subject: 'evidence-person', value: 'ev@example.org' } } }))).status).toBe(201);
    const erased = await del(`${t.url}/v1/subjects/evidence-person?reason=DSR-9`, privacy);
    expect(erased.status).toBe(200);
    now += 61 * DAY;
    await post(`${t.url}/v1/retention/run?apply=true`, t.adminToken, '');
    // Before, any system actor's pii.erase read as evidence and was never pruned.
    expect((await get(`${t.url}/v1/entries/${client.json.index}`, t.auditorToken)).status).toBe(410);
    expect((await get(`${t.url}/v1/entries/${erased.json.receipt.index}`, t.auditorToken)).status).toBe(200);
  });
});
