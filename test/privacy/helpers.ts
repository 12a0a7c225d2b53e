/** Shared helpers for the personal-data tests: byte search over a data folder. */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodedParts } from './leveldb-files.js';

async function* files(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/**
 * Every (file, needle label) where a needle's bytes occur in a file under
 * `dir`: in its raw bytes, or in what LevelDB's files hold once decoded
 * (snappy-compressed blocks, prefix-compressed keys, log records split
 * across blocks: leveldb-files.ts), where a raw search can miss them.
 */
export async function byteSearch(dir: string, needles: Record<string, Uint8Array | string>): Promise<string[]> {
  const hits: string[] = [];
  const bufs = Object.entries(needles).map(([label, n]) => [label, Buffer.from(typeof n === 'string' ? new TextEncoder().encode(n) : n)] as const);
  for await (const f of files(dir)) {
    const data = await readFile(f);
    const parts = decodedParts(f, data).map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    for (const [label, n] of bufs) if (data.includes(n) || parts.some((x) => x.includes(n))) hits.push(`${label} in ${f.slice(dir.length)}`);
  }
  return hits;
}

/** Lists the files under `dir` (relative), for messages. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of files(dir)) out.push(f.slice(dir.length));
  return out;
}
