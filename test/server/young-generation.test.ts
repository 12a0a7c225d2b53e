import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./promotion-probe.mjs', import.meta.url));

async function promotedPerRequest(mode: string): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', probe, mode], { timeout: 60_000 });
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { promotedPerRequest: number }).promotedPerRequest;
}

// Request objects must die in the young generation. Express swaps their
// prototypes, which in V8 makes them survive scavenges and get promoted: a
// flood then turned every scavenge into a 10–40 ms pause (request-classes.ts).
describe('requests die young', () => {
  it('a bare express app promotes kilobytes per request (the probe sees the effect)', async () => {
    expect(await promotedPerRequest('express')).toBeGreaterThan(2_000);
  }, 60_000);

  it('the server promotes next to nothing per request', async () => {
    // The least of three probes: a one-off promotion during one (start-up work finishing on a
    // busy CI machine: 1,642 bytes/request once, against ~110 usually) is no per-request cost.
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await promotedPerRequest('server'));
    expect(Math.min(...runs)).toBeLessThan(500);
  }, 120_000);
});
