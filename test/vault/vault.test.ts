/**
 * The vault in process, on a real LevelDB in a temp folder: the cache of
 * unwrapped subject keys against erasure, new subjects written with their
 * first values, coalesced subject reads, group commit.
 */

import { rm } from 'node:fs/promises';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { seal as aesSeal } from '../../src/vault/crypto.js';
import { bucketEnd, erasedSubjectKey, expiredRange, parseRetentionKey, prefixRange, recordKey, RETENTION_BUCKET_MS, retentionKey, subjectKey, valueRange, VP } from '../../src/vault/layout.js';
import { decodeSubject } from '../../src/vault/records.js';
import { piiCommitment } from '../../src/events/pii.js';
import { encodeCanonical } from '../../src/events/index.js';
import { nodeSha256 } from '../../src/server.js';
import { Vault, type PiiItem } from '../../src/vault/vault.js';
import { tempDir } from '../helpers.js';
import { byteSearch } from '../privacy/helpers.js';

const MASTER = new Uint8Array(32).fill(42);
const item = (subject: string, value: string, name = 'email'): PiiItem => ({ name, path: `pii.${name}`, subject, value });
const DAY = 86_400_000;
const ascii = (s: string) => new TextEncoder().encode(s);

/** A value record as the previous version wrote it (format 1: one value, keyed and bound by its pointer). */
function formatOneRecord(key: Uint8Array, pointer: string, eventId: string, value: string, createdAt: number, expiresAt: number): Uint8Array {
  const salt = new Uint8Array(32).fill(5);
  const u64 = (n: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    return [...b];
  };
  const str = (x: string) => [0, x.length, ...ascii(x)];
  const commitment = piiCommitment(nodeSha256, salt, value);
  const sealed = aesSeal(key, new Uint8Array([...salt, ...encodeCanonical(value)]), ascii(pointer));
  return new Uint8Array([1, ...u64(createdAt), ...u64(expiresAt), ...commitment, ...str('email'), ...str('pii.email'), ...str(eventId), ...sealed]);
}

describe('vault', () => {
  let dir: string | undefined;
  let vault: Vault | undefined;
  const open = async () => (vault = await Vault.open(dir!, { masterKey: MASTER, retentionMs: 86_400_000 }));
  const db = () => (vault as unknown as { db: { get(k: Uint8Array): Promise<Uint8Array | undefined> } }).db;
  /** A vault on a fresh folder with a 10-day retention and the clock `now` (the retention tests). */
  const openClocked = async (now: () => number) => {
    dir = await tempDir('tlog-vault-');
    return (vault = await Vault.open(dir, { masterKey: MASTER, retentionMs: 10 * DAY, now }));
  };
  const keysIn = async (range: object): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for await (const k of (db() as unknown as { keys(r: object): AsyncIterable<Uint8Array> }).keys(range)) out.push(k);
    return out;
  };
  /** Every retention key in the vault, parsed. */
  const retentionKeys = async () => (await keysIn(prefixRange(VP.retention))).map(parseRetentionKey);
  afterEach(async () => {
    await vault?.close();
    vault = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("a subject's tag is HMAC-SHA-256(vault key, 'subject' 0x00 tenant 0x00 subject id), the bytes spec/privacy.md fixes (tags on disk depend on them)", async () => {
    dir = await tempDir('tlog-vault-');
    await open();
    for (const [tenant, subject] of [['acme', 'jane@example.org'], ['t-2', 'Zoë Ångström'], ['acme', '12345']]) {
      const expected = hmac(sha256, MASTER, new Uint8Array([...ascii('subject'), 0, ...ascii(tenant!), 0, ...ascii(subject!)]));
      expect(vault!.tagOf(tenant!, subject!)).toEqual(expected);
    }
  });

  it("an erased subject's cached key is unusable: erasure evicts it, a seal with the old handle is refused", async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const h = (await v.resolve('acme', ['ada']))!.get('ada')!;
    await v.seal('acme', 'ev-1', [item('ada', 'ada@example.org')], new Map([['ada', h]]));
    // Cached: a second resolve hands back the very same unwrapped key.
    expect((await v.resolve('acme', ['ada'])).get('ada')).toBe(h);

    const out = await v.erase('acme', 'ada', (pseudonym, values) => ({ pseudonym, values }));
    expect(out.state).toBe('erased');
    // The old handle (as held by an event resolved before the erasure) cannot seal anything.
    const late = v.seal('acme', 'ev-2', [item('ada', 'ada@example.org')], new Map([['ada', h]]));
    await expect(late).rejects.toSatisfy((e: unknown) => e instanceof TlogError && e.code === 'EVENT_CONFLICT');
    expect((await v.view('acme', 'ada')).state).toBe('erased');
    // A new event about the same person makes a new subject: new pseudonym, new key.
    const again = (await v.resolve('acme', ['ada'])).get('ada')!;
    expect(again.pseudonym).not.toBe(h.pseudonym);
    expect(Buffer.from(again.key).equals(Buffer.from(h.key))).toBe(false);
    expect(again.tag).toEqual(h.tag);
    const view = await v.view('acme', 'ada');
    expect(view.state).toBe('erased'); // nothing sealed under the new subject yet
  });

  it("a hold on a subject erased before erased marks named the tag still covers the tombstone's pseudonym", async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const h = (await v.resolve('acme', ['eli'])).get('eli')!;
    await v.seal('acme', 'ev-1', [item('eli', 'eli@example.org')], new Map([['eli', h]]));
    expect((await v.erase('acme', 'eli', (pseudonym, values) => ({ pseudonym, values }))).state).toBe('erased');
    // The mark as the previous version wrote it: the time only.
    const z = erasedSubjectKey(h.pseudonym);
    const at = JSON.parse(new TextDecoder().decode((await db().get(z))!)).erased_at;
    await (db() as unknown as { put(k: Uint8Array, v: Uint8Array): Promise<void> }).put(z, ascii(JSON.stringify({ erased_at: at })));
    expect(await v.heldPseudonym(h.pseudonym)).toBe(false);
    const r = await v.setHold('acme', 'eli', { reason: 'case 2' }, (pseudonym) => ({ event_id: `hold-${pseudonym}` }));
    expect(r).toMatchObject({ pseudonym: h.pseudonym, changed: true });
    expect(await v.heldPseudonym(h.pseudonym)).toBe(true);
    expect(JSON.parse(new TextDecoder().decode((await db().get(z))!))).toEqual({ erased_at: at, tag: Buffer.from(h.tag).toString('hex') });

    // The same when the subject's data came back and the hold goes on its record.
    const f = (await v.resolve('acme', ['fay'])).get('fay')!;
    await v.seal('acme', 'ev-2', [item('fay', 'fay@example.org')], new Map([['fay', f]]));
    await v.erase('acme', 'fay', (pseudonym, values) => ({ pseudonym, values }));
    const zf = erasedSubjectKey(f.pseudonym);
    const atF = JSON.parse(new TextDecoder().decode((await db().get(zf))!)).erased_at;
    await (db() as unknown as { put(k: Uint8Array, v: Uint8Array): Promise<void> }).put(zf, ascii(JSON.stringify({ erased_at: atF })));
    const back = (await v.resolve('acme', ['fay'])).get('fay')!;
    await v.seal('acme', 'ev-3', [item('fay', 'fay.new@example.org')], new Map([['fay', back]]));
    expect(await v.heldPseudonym(f.pseudonym)).toBe(false);
    expect(await v.setHold('acme', 'fay', { reason: 'case 3' }, (pseudonym) => ({ event_id: `hold-${pseudonym}` }))).toMatchObject({ pseudonym: back.pseudonym, changed: true });
    expect(await v.heldPseudonym(f.pseudonym)).toBe(true);
    expect(await v.heldPseudonym(back.pseudonym)).toBe(true);
  });

  it('a new subject reaches the disk only with its first values, in the same batch', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const h = (await v.resolve('acme', ['bob'])).get('bob')!;
    expect(await db().get(subjectKey(h.tag))).toBeUndefined();
    // Concurrent first events about one person share the subject created in memory.
    const [a, b] = await Promise.all([v.resolve('acme', ['bob']), v.resolve('acme', ['bob'])]);
    expect(a.get('bob')).toBe(h);
    expect(b.get('bob')).toBe(h);
    const refs = await v.seal('acme', 'ev-1', [item('bob', 'bob@example.org'), item('bob', '+1 555 0100', 'phone')], a);
    expect(refs.map((r) => r.subject)).toEqual([h.pseudonym, h.pseudonym]);
    const stored = await db().get(subjectKey(h.tag));
    expect(stored && decodeSubject(stored).pseudonym).toBe(h.pseudonym);
    await v.seal('acme', 'ev-2', [item('bob', 'bob@example.org')], b);

    await v.close();
    const w = await open();
    const view = await w.view('acme', 'bob');
    expect(view.state).toBe('present');
    if (view.state !== 'present') return;
    expect(view.pseudonym).toBe(h.pseudonym);
    expect(view.values.map((x) => [x.event_id, x.name, x.value]).sort()).toEqual([
      ['ev-1', 'email', 'bob@example.org'],
      ['ev-1', 'phone', '+1 555 0100'],
      ['ev-2', 'email', 'bob@example.org'],
    ]);
  });

  it('a subject resolved but never sealed (a crash, a failed event) is not stored', async () => {
    dir = await tempDir('tlog-vault-');
    let v = await open();
    const h = (await v.resolve('acme', ['cy'])).get('cy')!;
    await v.close();
    v = await open();
    expect((await v.view('acme', 'cy')).state).toBe('unknown');
    expect((await v.resolve('acme', ['cy'])).get('cy')!.pseudonym).not.toBe(h.pseudonym);
  });

  it('erasing a subject whose first event is still being logged answers unknown, and that event is refused', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const handles = await v.resolve('acme', ['dee']);
    expect((await v.erase('acme', 'dee', (pseudonym, values) => ({ pseudonym, values }))).state).toBe('unknown');
    await expect(v.seal('acme', 'ev-1', [item('dee', 'dee@example.org')], handles)).rejects.toSatisfy(
      (e: unknown) => e instanceof TlogError && e.code === 'EVENT_CONFLICT',
    );
    expect((await v.view('acme', 'dee')).state).toBe('unknown');
  });

  it('many concurrent resolves (one coalesced read) and seals (group commit) keep every subject apart', async () => {
    dir = await tempDir('tlog-vault-');
    let v = await open();
    const names = Array.from({ length: 300 }, (_, i) => `person-${i}`);
    const first = await Promise.all(names.map((n) => v.resolve('acme', [n])));
    await Promise.all(first.map((hs, i) => v.seal('acme', `ev-${i}`, [item(names[i]!, `${names[i]}@example.org`)], hs)));
    const pseudonyms = first.map((hs, i) => hs.get(names[i]!)!.pseudonym);
    expect(new Set(pseudonyms).size).toBe(names.length);
    await v.close();
    v = await open();
    // Cold cache: every resolve reads the database, all in the same turn.
    const again = await Promise.all(names.map((n) => v.resolve('acme', [n])));
    expect(again.map((hs, i) => hs.get(names[i]!)!.pseudonym)).toEqual(pseudonyms);
    const views = await Promise.all(names.slice(0, 20).map((n) => v.view('acme', n)));
    views.forEach((view, i) => {
      expect(view.state).toBe('present');
      if (view.state === 'present') expect(view.values.map((x) => x.value)).toEqual([`${names[i]}@example.org`]);
    });
    // Another tenant's subject of the same id is another subject.
    expect((await v.view('other', names[0]!)).state).toBe('unknown');
  });

  it("an event about two subjects makes one record per subject, and its references keep the items' order", async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const hs = await v.resolve('acme', ['eve', 'fay']);
    const items = [item('eve', 'eve@example.org'), item('fay', 'fay@example.org', 'peer'), item('eve', '+1 555 0142', 'phone')];
    const refs = await v.seal('acme', 'ev-1', items, hs);
    expect(refs.map((r) => r.subject)).toEqual([hs.get('eve')!.pseudonym, hs.get('fay')!.pseudonym, hs.get('eve')!.pseudonym]);
    expect(new Set(refs.map((r) => r.$pii)).size).toBe(3);
    const eve = await v.view('acme', 'eve');
    const fay = await v.view('acme', 'fay');
    if (eve.state !== 'present' || fay.state !== 'present') throw new Error('not stored');
    for (const [i, view] of [[0, eve], [1, fay], [2, eve]] as const) {
      const x = view.values.find((y) => y.pointer === refs[i]!.$pii)!;
      expect([x.name, x.value, x.commitment]).toEqual([items[i]!.name, items[i]!.value, refs[i]!.commitment]);
    }
    expect([eve.values.length, fay.values.length]).toEqual([2, 1]);
    // One record per subject: each subject's range holds its record and one value record.
    const count = async (tag: Uint8Array) => {
      let n = 0;
      for await (const _ of (db() as unknown as { keys(r: object): AsyncIterable<Uint8Array> }).keys({ gt: subjectKey(tag), lt: new Uint8Array([...subjectKey(tag), 0xff]) })) n++;
      return n;
    };
    expect([await count(hs.get('eve')!.tag), await count(hs.get('fay')!.tag)]).toEqual([1, 1]);
  });

  it("retention erases whole expired records, marks each of their pointers, keeps the young ones, and reads the previous version's format 1 records", async () => {
    let now = Date.UTC(2026, 0, 1);
    const v = await openClocked(() => now);
    const hs = await v.resolve('acme', ['ann']);
    const h = hs.get('ann')!;
    const old = await v.seal('acme', 'ev-old', [item('ann', 'ann@example.org'), item('ann', '+1 555 0199', 'phone')], hs);
    // A format 1 record (and its retention key, whose value was empty) beside it, as an older vault holds.
    const legacy = 'pii_2bB5mS7qJ0g3cX9yK1vN4w';
    const put = (db() as unknown as { put(k: Uint8Array, v: Uint8Array): Promise<void> }).put.bind(db());
    await put(recordKey(h.tag, legacy), formatOneRecord(h.key, legacy, 'ev-legacy', 'ann.legacy@example.org', now, now + 10 * DAY));
    await put(retentionKey(now + 10 * DAY, h.tag, legacy), new Uint8Array(0));
    now += 20 * DAY;
    const young = await v.seal('acme', 'ev-young', [item('ann', 'ann.new@example.org')], hs);

    const before = await v.view('acme', 'ann');
    if (before.state !== 'present') throw new Error(before.state);
    expect(before.values.map((x) => [x.event_id, x.value]).sort()).toEqual([
      ['ev-legacy', 'ann.legacy@example.org'],
      ['ev-old', '+1 555 0199'],
      ['ev-old', 'ann@example.org'],
      ['ev-young', 'ann.new@example.org'],
    ]);
    // Pointers and commitments are the ones in the leaf's references.
    for (const ref of [...old, ...young]) expect(before.values.find((x) => x.pointer === ref.$pii)?.commitment).toBe(ref.commitment);

    // One subject to visit: its bucket (the hour ev-old's values expire in) and the legacy record's own key.
    const groups = await v.expired(now);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.buckets).toEqual([bucketEnd(Date.UTC(2026, 0, 11))]);
    expect(await v.expiredValues(groups[0]!.tag, now)).toBe(3);
    const out = await v.erase('', { tag: groups[0]!.tag }, (pseudonym, values, whole) => ({ pseudonym, values, whole }), { now, buckets: groups[0]!.buckets });
    expect(out).toMatchObject({ state: 'partial', values: 3, event: { values: 3, whole: false } });

    for (const ref of old) expect(await v.erasedAt(ref)).toBe(now);
    expect(await v.erasedAt({ ...old[0]!, $pii: legacy })).toBe(now);
    expect(await v.erasedAt(young[0]!)).toBeUndefined();
    const after = await v.view('acme', 'ann');
    if (after.state !== 'present') throw new Error(after.state);
    expect(after.values.map((x) => x.pointer)).toEqual([young[0]!.$pii]);
    expect(await v.expired(now)).toEqual([]);
    expect(await keysIn(expiredRange(now + 20 * DAY))).toHaveLength(1); // the young record's retention bucket only

    const whole = await v.erase('acme', 'ann', (pseudonym, values, all) => ({ pseudonym, values, all }));
    expect(whole).toMatchObject({ state: 'erased', values: 1 });
    // A whole erasure takes the buckets of the records it erased along.
    expect(await keysIn(expiredRange(now + 20 * DAY))).toHaveLength(0);
  });

  it('the retention index holds one key per subject and hour, written with the first values of that hour; a sweep visiting a subject with nothing expired yet changes nothing', async () => {
    let now = Date.UTC(2026, 0, 1, 9, 10);
    const v = await openClocked(() => now);
    const bucketEnds = async () =>
      (await retentionKeys()).map((r) => {
        if (r.kind !== 'bucket') throw new Error('a per-record retention key');
        return r.at;
      });
    const hs = await v.resolve('acme', ['bo']);
    // Withdrawn values write nothing, and do not count as the hour's key being on disk.
    (await v.stage('acme', 'ev-0', [item('bo', 'bo@example.org')], hs)).withdraw();
    await v.seal('acme', 'ev-1', [item('bo', 'bo@example.org')], hs);
    now += 20 * 60_000;
    await v.seal('acme', 'ev-2', [item('bo', 'bo@example.org')], hs);
    const firstHour = bucketEnd(Date.UTC(2026, 0, 11, 9, 10));
    expect(await bucketEnds()).toEqual([firstHour]);
    now += 60 * 60_000;
    await v.seal('acme', 'ev-3', [item('bo', 'bo@example.org')], hs);
    expect(await bucketEnds()).toEqual([firstHour, firstHour + RETENTION_BUCKET_MS]);

    // Ten days later, inside the first hour's bucket but before ev-1 expires: listed, nothing to erase.
    now = Date.UTC(2026, 0, 11, 9, 5);
    const [g] = await v.expired(now);
    expect(g!.buckets).toEqual([]);
    expect(await v.erase('', { tag: g!.tag }, (p, n) => ({ p, n }), { now, buckets: g!.buckets })).toEqual({ state: 'nothing' });
    expect(await bucketEnds()).toEqual([firstHour, firstHour + RETENTION_BUCKET_MS]);
    // After that hour: ev-1 and ev-2 go, and the hour's key with them; ev-3 and its key stay.
    now = firstHour + 1;
    const [g2] = await v.expired(now);
    expect(g2!.buckets).toEqual([firstHour]);
    expect(await v.erase('', { tag: g2!.tag }, (p, n) => ({ p, n }), { now, buckets: g2!.buckets })).toMatchObject({ state: 'partial', values: 2 });
    expect(await bucketEnds()).toEqual([firstHour + RETENTION_BUCKET_MS]);
    const left = await v.view('acme', 'bo');
    expect(left.state === 'present' && left.values.map((x) => x.event_id)).toEqual(['ev-3']);
  });

  it('staged values reach the disk only when their write is started, and hold back erasure until then; withdrawn ones never do', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const hs = await v.resolve('acme', ['eve', 'fay']);
    const kept = await v.stage('acme', 'ev-1', [item('eve', 'eve@example.org')], hs);
    const dropped = await v.stage('acme', 'ev-2', [item('fay', 'fay@example.org')], hs);
    const keyOf = (ref: { $pii: string }, who: string) => recordKey(hs.get(who)!.tag, ref.$pii);
    // Queued, not written (and a new subject's record waits with them).
    await new Promise((r) => setTimeout(r, 30));
    expect(await db().get(keyOf(kept.refs[0]!, 'eve'))).toBeUndefined();
    expect(await db().get(subjectKey(hs.get('eve')!.tag))).toBeUndefined();
    // Erasure waits for the staged write's shared lock.
    let erased = false;
    const erasing = v.erase('acme', 'eve', (pseudonym, values) => ({ pseudonym, values })).then((o) => ((erased = true), o));
    await new Promise((r) => setTimeout(r, 30));
    expect(erased).toBe(false);
    // A withdrawn write releases its lock (this erasure would wait forever otherwise) and is never written.
    dropped.withdraw();
    expect((await v.erase('acme', 'fay', (pseudonym, values) => ({ pseudonym, values }))).state).toBe('unknown');
    // Starting a write takes everything still queued: the kept values, not the withdrawn ones.
    await kept.durable();
    expect(await erasing).toMatchObject({ state: 'erased', values: 1 });
    expect(await db().get(keyOf(dropped.refs[0]!, 'fay'))).toBeUndefined();
    // Asking for withdrawn values afterwards fails: a success would let a log entry point at values never written.
    await expect(dropped.durable()).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('a vault whose tables were written with snappy (the previous default) opens, reads and erases the same', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const h = await v.resolve('acme', ['ada']);
    const refs = await v.seal('acme', 'ev-1', [item('ada', 'ada@example.org'), item('ada', '+1 555 0100', 'phone')], h);
    await v.close();
    vault = undefined;
    // Rewrite every table with snappy on, beside retention marks that compress, so snappy blocks exist.
    const { Level } = await import('level');
    const raw = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', compression: true });
    await raw.open();
    const mark = ascii(JSON.stringify({ erased_at: 1_700_000_000_000 }));
    await raw.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: ascii(`ypii_${String(i).padStart(22, '0')}`), value: mark })));
    await (raw as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
    await raw.close();

    const again = await open();
    expect(await again.erasedAt({ $pii: `pii_${String(7).padStart(22, '0')}`, subject: 'ps_x', commitment: '' })).toBe(1_700_000_000_000);
    const seen = await again.view('acme', 'ada');
    expect(seen.state).toBe('present');
    expect(seen.state === 'present' && seen.values.map((x) => x.value).sort()).toEqual(['+1 555 0100', 'ada@example.org']);
    expect(refs).toHaveLength(2);
    expect(await again.erase('acme', 'ada', (pseudonym, values) => ({ pseudonym, values }))).toMatchObject({ state: 'erased', values: 2 });
  });

  it('an erasure cut off between its shred and its purge is purged at the next start, or by the repeated request', async () => {
    /** Shreds and then "crashes": the purge throws as a kill -9 there would stop it. */
    const shredOnly = async (v: Vault, subject: string) => {
      const real = (v as unknown as { purge(tag: Uint8Array): Promise<void> }).purge;
      (v as unknown as { purge(tag: Uint8Array): Promise<void> }).purge = () => Promise.reject(new Error('crash'));
      await expect(v.erase('acme', subject, (pseudonym, values) => ({ pseudonym, values }))).rejects.toThrow('crash');
      (v as unknown as { purge(tag: Uint8Array): Promise<void> }).purge = real;
    };
    /** The sealed records of `subject`, as stored: what must leave every file. */
    const sealedOf = async (v: Vault, subject: string) => {
      const tag = v.tagOf('acme', subject);
      const out: Record<string, Uint8Array> = {};
      for await (const [k, val] of (db() as unknown as { iterator(r: object): AsyncIterable<[Uint8Array, Uint8Array]> }).iterator(valueRange(tag))) out[Buffer.from(k).toString('hex')] = val;
      return out;
    };
    dir = await tempDir('tlog-vault-');
    let v = await open();
    for (const s of ['kim', 'lee']) await v.seal('acme', `ev-${s}`, [item(s, `${s}.q8Zr3x@example.org`)], await v.resolve('acme', [s]));
    const kim = await sealedOf(v, 'kim');
    const lee = await sealedOf(v, 'lee');
    expect(Object.keys(kim)).toHaveLength(1);

    // A crash after the shred: the bytes are still in a table file, with the pending mark beside them.
    await shredOnly(v, 'kim');
    expect(await byteSearch(dir!, kim)).not.toEqual([]);
    expect(await keysIn(prefixRange(VP.purgePending))).toHaveLength(1);
    await v.close();
    // The next start finishes it.
    v = await open();
    expect(await v.finishPendingPurges()).toBe(1);
    expect(await byteSearch(dir!, kim)).toEqual([]);
    expect(await keysIn(prefixRange(VP.purgePending))).toEqual([]);
    expect(await v.finishPendingPurges()).toBe(0);

    // Without a restart, the repeated request finishes it before it answers.
    await shredOnly(v, 'lee');
    expect(await byteSearch(dir!, lee)).not.toEqual([]);
    expect((await v.erase('acme', 'lee', (pseudonym, values) => ({ pseudonym, values }))).state).toBe('already');
    expect(await byteSearch(dir!, lee)).toEqual([]);
    expect(await keysIn(prefixRange(VP.purgePending))).toEqual([]);
  });

  it('subject access during an erasure of the same subject waits for it, and neither hangs (one lock order)', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    await v.seal('acme', 'ev-1', [item('ada', 'ada@example.org')], await v.resolve('acme', ['ada']));
    // The erasure holds the subject's lock; the view arrives while it scans (it used to take
    // SCAN first, then wait for the subject, while the erasure's purge waited for SCAN).
    const erasing = v.erase('acme', 'ada', (pseudonym, values) => ({ pseudonym, values }));
    await new Promise((r) => setTimeout(r, 0));
    const viewing = v.view('acme', 'ada');
    const [erased, seen] = await Promise.all([erasing, viewing]);
    expect(erased.state).toBe('erased');
    expect(seen.state).toBe('erased');
  });

  it("a sweep's erasures only shred; one compaction at its end purges them all", async () => {
    let now = Date.UTC(2026, 0, 1);
    const v = await openClocked(() => now);
    const subjects = ['s1', 's2', 's3', 's4', 's5', 's6'];
    for (const s of subjects) await v.seal('acme', `ev-${s}`, [item(s, `${s}.w7Yq@example.org`)], await v.resolve('acme', [s]));
    const sealed: Record<string, Uint8Array> = {};
    for (const s of subjects)
      for await (const [k, val] of (db() as unknown as { iterator(r: object): AsyncIterable<[Uint8Array, Uint8Array]> }).iterator(valueRange(v.tagOf('acme', s))))
        sealed[`${s} ${Buffer.from(k).toString('hex')}`] = val;
    expect(Object.keys(sealed)).toHaveLength(6); // a value record each

    now += 11 * DAY;
    const groups = await v.expired(now);
    expect(groups).toHaveLength(6);
    await v.beginSweep();
    for (const g of groups) expect((await v.erase('', { tag: g.tag }, (p2, n) => ({ p2, n }), { now, buckets: g.buckets, deferPurge: true })).state).toBe('erased');
    // Shredded, not yet purged: the bytes are in table files, each subject marked.
    expect((await byteSearch(dir!, sealed)).length).toBeGreaterThan(0);
    expect(await keysIn(prefixRange(VP.purgePending))).toHaveLength(6);
    expect(await v.finishPendingPurges()).toBe(6);
    expect(await byteSearch(dir!, sealed)).toEqual([]);
    expect(await keysIn(prefixRange(VP.purgePending))).toEqual([]);
  });

  it('sealing leaves no plaintext in the shared off-heap slab its buffers come from', async () => {
    dir = await tempDir('tlog-vault-');
    const v = await open();
    const secret = 'grace.hopper.slab-check@example.org';
    await v.seal('acme', 'ev-slab', [item('grace', secret)], await v.resolve('acme', ['grace']));
    const { keyBytes } = await import('../../src/storage/key-bytes.js');
    const slab = keyBytes(1);
    expect(Buffer.from(slab.buffer).includes(secret)).toBe(false);
  });

  it("a sweep visiting a bucket key that outlived its subject's erasure leaves a new subject of that person alone", async () => {
    let now = Date.UTC(2026, 0, 1, 9, 10);
    const v = await openClocked(() => now);
    const sweepOnce = async () => {
      const out: string[] = [];
      for (const g of await v.expired(now)) out.push((await v.erase('', { tag: g.tag }, (p, n) => ({ p, n }), { now, buckets: g.buckets })).state);
      return out;
    };
    const hs = await v.resolve('acme', ['cy']);
    await v.seal('acme', 'ev-1', [item('cy', 'cy@example.org')], hs);
    now += 2 * DAY;
    await v.seal('acme', 'ev-2', [item('cy', 'cy@example.org')], hs);
    // ev-1 expires inside its hour: the sweep erases it and keeps the hour's key (not wholly past).
    now = Date.UTC(2026, 0, 11, 9, 20);
    expect(await sweepOnce()).toEqual(['partial']);
    // The whole erasure takes ev-2's bucket; ev-1's hour outlives it.
    expect(await v.erase('acme', 'cy', (p, n) => ({ p, n }))).toMatchObject({ state: 'erased', values: 1 });
    // The same person comes back (a new subject, not on disk until its first values).
    const again = await v.resolve('acme', ['cy']);
    expect(await sweepOnce()).toEqual(['already']);
    await expect(v.seal('acme', 'ev-3', [item('cy', 'cy.new@example.org')], again)).resolves.toHaveLength(1);
  });

  it('a handle put back in the cache after a partial erasure writes its bucket key again', async () => {
    const t0 = Date.UTC(2026, 0, 1, 9, 10);
    let now = t0;
    const v = await openClocked(() => now);
    const hs = await v.resolve('acme', ['di']);
    // ev-2 first, then (the clock stepped back) ev-1: the handle's last bucket is ev-1's.
    now += 5 * DAY;
    await v.seal('acme', 'ev-2', [item('di', 'di@example.org')], hs);
    now = t0;
    await v.seal('acme', 'ev-1', [item('di', 'di@example.org')], hs);
    const first = bucketEnd(t0 + 10 * DAY);
    now = first + 1;
    const [g] = await v.expired(now);
    expect(await v.erase('', { tag: g!.tag }, (p, n) => ({ p, n }), { now, buckets: g!.buckets })).toMatchObject({ state: 'partial', values: 1 });
    // An event resolved before the sweep seals with the old handle; the clock has stepped back past the retention.
    now = t0;
    await v.seal('acme', 'ev-3', [item('di', 'di@example.org')], hs);
    expect((await retentionKeys()).map((r) => r.at)).toContain(first);
  });
});
