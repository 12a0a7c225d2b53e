import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./heap-probe.mjs', import.meta.url));

// 40,000 entries fill 156 hash tiles, all within the tile cache: with a tile
// as one buffer the heap stays flat; with a Uint8Array per node it grew
// ~300 bytes per entry.
describe('the open log keeps no per-entry heap objects', () => {
  it('heap growth per appended entry stays under 50 bytes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', probe], { timeout: 120_000 });
    const { heapPerEntry } = JSON.parse(stdout.trim().split('\n').pop()!) as { heapPerEntry: number };
    expect(heapPerEntry).toBeLessThan(50);
  }, 120_000);
});
