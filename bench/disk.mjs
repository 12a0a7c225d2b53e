// Disk accounting for the benchmark: folder size, and total leaf bytes in a log database.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';

export async function dirSize(dir) {
  let total = 0;
  for (const f of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    total += f.isDirectory() ? await dirSize(p) : (await stat(p)).size;
  }
  return total;
}

/** Sum of the stored leaf lengths ('e' prefix, see spec/storage.md). */
export async function leafBytes(dir) {
  const db = new Level(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  let total = 0;
  for await (const v of db.values({ gte: Uint8Array.of(0x65), lt: Uint8Array.of(0x66) })) total += v.length;
  await db.close();
  return total;
}
