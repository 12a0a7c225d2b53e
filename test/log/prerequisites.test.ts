/**
 * Prerequisites: an entry whose leaf points at values stored elsewhere (the
 * vault) is committed only once the flush that takes it has made them
 * durable, one write per flush; a failed write fails its entries alone; an
 * entry that will not be committed withdraws its values. Real LevelDB.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/index.js';
import type { Log, SealedEvent } from '../../src/log/log.js';
import { sampleEvent } from '../helpers.js';
import { openTestLog } from './open-log.js';

const ORIGIN = 'test.example/prerequisites';
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function openLog(maxPending = 100, maxBatch = 100): Promise<Log> {
  const t = await openTestLog(ORIGIN, maxPending, maxBatch);
  cleanup = t.close;
  return t.log;
}

const ev = (i: number) => parseEvent(sampleEvent(i));

/** A controllable stand-in for the vault's staged write of one event's values. */
function values() {
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const v = {
    started: 0,
    withdrawn: 0,
    settle,
    durable: () => {
      v.started++;
      return done;
    },
    withdraw: () => void v.withdrawn++,
  };
  return v;
}

const sealedWith = (i: number, v: SealedEvent['values']) => async (): Promise<SealedEvent> => ({ event: ev(i), values: v });

describe('prerequisites of a commit', () => {
  it('nothing is committed until the values the flush started are durable', async () => {
    const log = await openLog();
    const v = values();
    let settled = false;
    const p = log.append('t', ev(1), { assignedId: true, seal: sealedWith(1, v) }).finally(() => (settled = true));
    // Let the flush start: it asks for the write and waits.
    await new Promise((r) => setTimeout(r, 50));
    expect(v.started).toBe(1);
    expect(settled).toBe(false);
    expect(log.head.treeSize).toBe(0);
    v.settle.resolve();
    const a = await p;
    expect(a.index).toBe(0);
    expect(log.head.treeSize).toBe(1);
    expect(v.withdrawn).toBe(0);
  });

  it('a failed values write fails its own entry; the rest of the flush commits', async () => {
    const log = await openLog();
    const bad = values();
    const good = values();
    const plain = log.append('t', ev(0), { assignedId: true });
    const pb = log.append('t', ev(1), { assignedId: true, seal: sealedWith(1, bad) });
    const pg = log.append('t', ev(2), { assignedId: true, seal: sealedWith(2, good) });
    await new Promise((r) => setTimeout(r, 50));
    bad.settle.reject(new Error('vault write failed'));
    good.settle.resolve();
    await expect(pb).rejects.toThrow('vault write failed');
    const [a, c] = await Promise.all([plain, pg]);
    expect([a.index, c.index].sort()).toEqual([0, 1]);
    expect(log.head.treeSize).toBe(2);
    // Asked to withdraw (a no-op for a write a flush already took); the good one is not.
    expect(bad.withdrawn).toBe(1);
    expect(good.withdrawn).toBe(0);
  });

  it('an entry refused by a full pool withdraws its values, never starting their write', async () => {
    const log = await openLog(4, 100);
    const queued = [values(), values()];
    const first = [0, 1].map((i) => log.append('t', ev(i), { assignedId: true, seal: sealedWith(i, queued[i]!) }));
    const refused = values();
    // A tenant may hold 2 of the pool's 4, and the flush that would take them runs only after this turn.
    const third = log.append('t', ev(2), { assignedId: true, seal: sealedWith(2, refused) });
    await expect(third).rejects.toMatchObject({ code: 'OVERLOADED' });
    expect(refused.withdrawn).toBe(1);
    expect(refused.started).toBe(0);
    // One flush started both queued writes and commits both once they are durable.
    await new Promise((r) => setTimeout(r, 50));
    expect(queued.map((v) => v.started)).toEqual([1, 1]);
    for (const v of queued) v.settle.resolve();
    expect((await Promise.all(first)).map((a) => a.index).sort()).toEqual([0, 1]);
    expect(queued.map((v) => v.withdrawn)).toEqual([0, 0]);
  });
});
