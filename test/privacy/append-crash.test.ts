/**
 * kill -9 while events with personal values are being appended (new
 * subjects among them): after restart every acknowledged event's values are
 * there, no entry of the log points at a value the vault lacks, and values
 * of events that never committed are found and erased by subject.
 */

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { childKey, spawnServer, type Child } from '../child.js';
import { del, get, post, sampleEvent, tempDir } from '../helpers.js';

const SUBJECTS = Array.from({ length: 8 }, (_, i) => `crash-subject-${i}`);

describe('PII appends then kill -9', () => {
  let dir: string;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged value, leaves no dangling pointer, and orphans stay erasable', async () => {
    dir = await tempDir('tlog-append-crash-');
    child = await spawnServer(dir);
    const agent = await childKey(child, dir, 'agent', 'acme');
    const privacy = await childKey(child, dir, 'privacy', 'acme');
    const auditor = await childKey(child, dir, 'auditor', 'acme');

    // 60 events at once; the process dies as soon as 20 are acknowledged, others mid-flight.
    const acked: { event_id: string; index: number; subject: string }[] = [];
    let killed!: () => void;
    const enough = new Promise<void>((r) => (killed = r));
    const url = child.url;
    const sends = Array.from({ length: 60 }, async (_, i) => {
      const subject = SUBJECTS[i % SUBJECTS.length]!;
      const event_id = `0193b2c4-7f00-7000-8000-${String(i).padStart(12, '0')}`;
      try {
        const r = await post(`${url}/v1/events`, agent, sampleEvent(i, { event_id, pii: { email: { subject, value: `${subject}.${i}@example.org` } } }));
        if (r.status === 201) {
          acked.push({ event_id, index: r.json.index, subject });
          if (acked.length >= 20) killed();
        }
      } catch {
        // Cut off by the kill.
      }
    });
    await Promise.race([enough, Promise.all(sends)]);
    child.proc.kill('SIGKILL');
    await child.exited;
    await Promise.all(sends);
    const ackedNow = [...acked];
    expect(ackedNow.length).toBeGreaterThanOrEqual(20);

    child = await spawnServer(dir);
    const byPseudonym = new Map<string, { pointer: string; event_id: string; index?: number }[]>();
    const values = new Map<string, { pointer: string; event_id: string; index?: number }[]>();
    for (const s of SUBJECTS) {
      const r = await get(`${child.url}/v1/subjects/${s}?purpose=crash-check`, privacy);
      if (r.status === 404) continue;
      expect(r.status).toBe(200);
      byPseudonym.set(r.json.pseudonym, r.json.values);
      values.set(s, r.json.values);
    }
    // Every acknowledged event's value is in the vault, tied to its entry.
    for (const a of ackedNow) {
      const v = values.get(a.subject)?.find((x) => x.event_id === a.event_id);
      expect(v, a.event_id).toBeDefined();
      expect(v!.index).toBe(a.index);
    }
    // No entry in the log points at a value the vault lacks.
    const size = (await get(`${child.url}/v1/log`)).json.tree_size;
    let withPii = 0;
    for (let i = 0; i < size; i++) {
      const e = await get(`${child.url}/v1/entries/${i}`, auditor);
      const ref = e.json?.record?.event?.pii?.email;
      if (!ref) continue;
      withPii++;
      expect(byPseudonym.get(ref.subject)?.some((x) => x.pointer === ref.$pii), `entry ${i}`).toBe(true);
    }
    expect(withPii).toBeGreaterThanOrEqual(ackedNow.length);
    // Everything found by subject, orphans of unacknowledged events included, is erased by subject.
    for (const [s, vs] of values) {
      const r = await del(`${child.url}/v1/subjects/${s}?reason=crash-test`, privacy);
      expect(r.status).toBe(200);
      expect(r.json.values_erased).toBe(vs.length);
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    child = undefined;
  });
});
