/** Cursor paging while appends continue: no duplicates, no gaps, in both orders. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord } from '../../src/events/index.js';
import { entryKey } from '../../src/storage/layout.js';
import { get, post } from '../helpers.js';
import { buildLog, randomEvent, rng, startQueryServer, type QueryServer } from './helpers.js';

let qs: QueryServer;
beforeAll(async () => {
  qs = await startQueryServer();
  await buildLog(qs, 2000, 11, ['acme']);
}, 60_000);
afterAll(async () => qs?.close());

/** Indexes of acme entries with actor bot-a, from the leaves as stored now. */
async function truth(): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  for await (const leaf of qs.server.log.store.db.values({ gte: entryKey(0), lt: entryKey(qs.server.log.head.treeSize) })) {
    const r = decodeRecord(leaf);
    if (r.tenant === 'acme' && (r.event.actor as { id: unknown }).id === 'bot-a') out.push(i);
    i++;
  }
  return out;
}

describe('paging during concurrent appends', () => {
  it.each(['asc', 'desc'] as const)('%s: every match present at the start appears exactly once, in order', async (order) => {
    const auditor = await qs.token('auditor', 'acme');
    const agent = await qs.token('agent', 'acme');
    const before = await truth();
    let stop = false;
    const r = rng(order === 'asc' ? 1 : 2);
    const writer = (async () => {
      // Bounded, so the asc reader (which follows new appends) always catches up.
      for (let k = 0; !stop && k < 40; k++) {
        const res = await post(`${qs.url}/v1/events/batch`, agent, { events: Array.from({ length: 20 }, (_, j) => ({ ...randomEvent(r, k * 20 + j), actor: { type: 'agent', id: 'bot-a' } })) });
        expect(res.status).toBe(200);
      }
    })();
    const got: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qp = new URLSearchParams({ actor: 'bot-a', limit: '25', order, ...(cursor ? { cursor } : {}) });
      const res = await get(`${qs.url}/v1/events?${qp}`, auditor);
      expect(res.status).toBe(200);
      got.push(...res.json.events.map((h: any) => h.index));
      cursor = res.json.next_cursor;
      pages++;
      // Let the writer land commits between pages.
      await new Promise((s) => setTimeout(s, 2));
    } while (cursor !== null && pages < 5000);
    expect(cursor).toBeNull();
    stop = true;
    await writer;

    expect(new Set(got).size).toBe(got.length);
    const sorted = [...got].sort((a, b) => (order === 'asc' ? a - b : b - a));
    expect(got).toEqual(sorted);
    // No gaps: every match that existed before paging started was returned…
    for (const i of before) expect(got).toContain(i);
    // …and between the first and last index returned, exactly the matches now stored.
    const after = await truth();
    const lo = Math.min(...got);
    const hi = Math.max(...got);
    expect([...got].sort((a, b) => a - b)).toEqual(after.filter((i) => i >= lo && i <= hi));
    expect(after.length).toBeGreaterThan(before.length);
  }, 120_000);
});
