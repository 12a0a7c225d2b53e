/**
 * The vault's group writer on a real LevelDB: staged ops are written only
 * when asked for, whatever else is written meanwhile; asking during a write
 * gets the next one; a taken op can no longer be withdrawn.
 */

import { rm } from 'node:fs/promises';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupWriter, type VaultOp, type WriterItem } from '../../src/vault/writer.js';
import { tempDir } from '../helpers.js';

type Bytes = Uint8Array;
const key = (s: string) => new TextEncoder().encode(s);
const put = (k: string): VaultOp[] => [{ type: 'put', key: key(k), value: key(`value of ${k}`) }];

/**
 * `ops` held by a writer item until start() asks for them, as the vault's
 * staged values are; `done` never settles unless started.
 */
function stage(w: GroupWriter, ops: VaultOp[]) {
  const item: WriterItem = { ops };
  let done: Promise<void> = new Promise<void>(() => {});
  return {
    get done() {
      return done;
    },
    start: () => {
      done = w.start(item);
      done.catch(() => {});
    },
    withdraw: () => w.withdraw(item),
  };
}

describe('vault group writer', () => {
  let dir: string | undefined;
  let db: Level<Bytes, Bytes> | undefined;
  const open = async () => {
    dir = await tempDir('tlog-writer-');
    db = new Level<Bytes, Bytes>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return { db, w: new GroupWriter(db) };
  };
  const has = async (k: string) => (await db!.get(key(k))) !== undefined;
  afterEach(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    db = undefined;
    dir = undefined;
  });

  it('a write does not take staged ops nobody asked for; they can still be withdrawn and never reach the disk', async () => {
    const { w } = await open();
    const staged = stage(w, put('staged'));
    await w.write(put('other'));
    expect(await has('other')).toBe(true);
    expect(await has('staged')).toBe(false);
    expect(staged.withdraw()).toBe(true);
    await w.write(put('later'));
    expect(await has('staged')).toBe(false);
  });

  it('ops asked for during a write go in the next one, and a taken op cannot be withdrawn', async () => {
    const { w } = await open();
    const a = stage(w, put('a'));
    const b = stage(w, put('b'));
    a.start();
    // start() runs the flush a microtask later: until then a can still be withdrawn.
    await Promise.resolve();
    // a's batch is in flight; b is still queued.
    expect(a.withdraw()).toBe(false);
    b.start();
    await Promise.all([a.done, b.done]);
    expect(await has('a')).toBe(true);
    expect(await has('b')).toBe(true);
  });

  it('writes started in one synchronous pass (a log flush starting its entries\' values) share one synced batch', async () => {
    const { db, w } = await open();
    let batches = 0;
    const batch = db.batch.bind(db) as () => ReturnType<typeof db.batch>;
    (db as { batch: unknown }).batch = () => {
      batches++;
      return batch();
    };
    const staged = ['a', 'b', 'c'].map((k) => stage(w, put(k)));
    for (const s of staged) s.start();
    await Promise.all(staged.map((s) => s.done));
    expect(batches).toBe(1);
    for (const k of ['a', 'b', 'c']) expect(await has(k)).toBe(true);
  });

  it('a write asked for cannot be withdrawn, even before its flush has run: whoever awaits it is not left hanging', async () => {
    const { w } = await open();
    const a = stage(w, put('a'));
    a.start();
    expect(a.withdraw()).toBe(false);
    await a.done;
    expect(await has('a')).toBe(true);
  });

  it('a failed batch rejects the ops it took, and the writer goes on with the next', async () => {
    const { db, w } = await open();
    const a = stage(w, put('a'));
    a.start();
    const b = stage(w, put('b'));
    await a.done;
    // A closed database fails every batch.
    await db.close();
    b.start();
    await expect(b.done).rejects.toThrow();
    await db.open();
    const c = stage(w, put('c'));
    c.start();
    await c.done;
    expect(await has('c')).toBe(true);
    expect(await has('b')).toBe(false);
  });
});
