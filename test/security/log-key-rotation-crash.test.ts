/**
 * A rotation cut off at any step leaves a folder the server starts from,
 * and never a previous key without an overlap end (it would co-sign for
 * ever). The cut is a failed file write: each step writes one file whole or
 * not at all (src/secret-file.ts), so a failure before a write is what a
 * kill -9 there leaves.
 */

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadLogKeys, rotateLogKey } from '../../src/log/log-keys.js';
import { startServer } from '../../src/server.js';
import { tempDir } from '../helpers.js';

const cut = vi.hoisted(() => ({ at: Infinity, writes: 0 }));
vi.mock('../../src/secret-file.js', async (original) => {
  const m = await original<typeof import('../../src/secret-file.js')>();
  return {
    ...m,
    writeFileAtomic: async (...a: Parameters<typeof m.writeFileAtomic>) => {
      if (++cut.writes >= cut.at) throw new Error('cut off');
      return m.writeFileAtomic(...a);
    },
  };
});

const ORIGIN = 'crash.example/log';
const HOUR = 3_600_000;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function startedOnce(): Promise<string> {
  const d = await tempDir('tlog-rotcut-');
  dirs.push(d);
  const s = await startServer(loadConfig({}, { port: 0, dataDir: d, logLevel: 'silent', origin: ORIGIN }));
  await s.close();
  return d;
}

describe('a log-key rotation cut off', () => {
  // The rotation's writes: 1 the previous key, 2 the history with its overlap end, 3 the new key, 4 the history with the new key.
  it.each([1, 2, 3, 4])('before write %i: the server starts, and a previous key has its overlap end', async (at) => {
    const d = await startedOnce();
    const before = await loadLogKeys(d, ORIGIN);
    const now = Date.UTC(2026, 11, 7);
    cut.writes = 0;
    cut.at = at;
    await expect(rotateLogKey(d, ORIGIN, { overlapMs: 24 * HOUR, now: () => now })).rejects.toThrow('cut off');
    cut.at = Infinity;
    const after = await loadLogKeys(d, ORIGIN);
    if (at <= 3) {
      // The new key was never written: the old one is still the only signer.
      expect(after.active.verifierKey).toBe(before.active.verifierKey);
      expect(after.previous).toBeUndefined();
    } else {
      expect(after.active.verifierKey).not.toBe(before.active.verifierKey);
      expect(after.previous?.signer.verifierKey).toBe(before.active.verifierKey);
      expect(after.previous?.cosignUntil).toBe(now + 24 * HOUR);
    }
    const s = await startServer(loadConfig({}, { port: 0, dataDir: d, logLevel: 'silent', origin: ORIGIN }));
    await s.close();
    if (at <= 3) {
      // Run again, the rotation is made whole.
      const r = await rotateLogKey(d, ORIGIN, { overlapMs: 24 * HOUR, now: () => now });
      expect(r.previous).toBe(before.active.verifierKey);
    } else {
      // The rotation took effect (only the new key's date was not written): its overlap runs, and ends.
      await expect(rotateLogKey(d, ORIGIN, { overlapMs: 24 * HOUR, now: () => now })).rejects.toThrow('--finish');
    }
  });
});
