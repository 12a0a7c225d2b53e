/**
 * The vault in process, on a real LevelDB in a temp folder: the cache of
 * unwrapped subject keys against erasure, new subjects written with their
 * first values, coalesced subject reads, group commit.
 */

import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { TlogError } from '../../src/errors.js';
import { subjectKey } from '../../src/vault/layout.js';
import { decodeSubject } from '../../src/vault/records.js';
import { Vault, type PiiItem } from '../../src/vault/vault.js';
import { tempDir } from '../helpers.js';

const MASTER = new Uint8Array(32).fill(42);
const item = (subject: string, value: string, name = 'email'): PiiItem => ({ name, path: `pii.${name}`, subject, value });

describe('vault', () => {
  let dir: string | undefined;
  let vault: Vault | undefined;
  const open = async () => (vault = await Vault.open(dir!, { masterKey: MASTER, retentionMs: 86_400_000 }));
  const db = () => (vault as unknown as { db: { get(k: Uint8Array): Promise<Uint8Array | undefined> } }).db;
  afterEach(async () => {
    await vault?.close();
    vault = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
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
});
