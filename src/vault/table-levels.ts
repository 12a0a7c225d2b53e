/**
 * Where LevelDB keeps a key range's table files, read from its
 * `leveldb.sstables` property: one `--- level N ---` line per level, then
 * one line per file, `number:size['smallest' @ seq : type .. 'largest' @ seq : type]`,
 * keys printed with bytes outside ' '..'~' as `\xNN` (LevelDB's EscapeString).
 *
 * The purge uses it to see whether a compaction reached deep enough
 * (vault.ts purgeRange). A key holding a `\` followed by `x` and two hex
 * digits reads back as another byte (LevelDB does not escape `\`): such a
 * misread can only cost or save one extra compaction pass, never a
 * deletion.
 */

import { compareBytes } from '../bytes/index.js';

const LEVEL = /^--- level (\d+) ---$/;
const FILE = /^\s*\d+:\d+\['(.*)' @ \d+ : \d+ \.\. '(.*)' @ \d+ : \d+\]$/;

/** The deepest level with a table file whose key span meets [gte, lt); -1 when none does. */
export function deepestLevelOverlapping(sstables: string, r: { gte: Uint8Array; lt: Uint8Array }): number {
  let level = -1;
  let deepest = -1;
  for (const line of sstables.split('\n')) {
    const l = LEVEL.exec(line);
    if (l) {
      level = Number(l[1]);
      continue;
    }
    const f = FILE.exec(line);
    if (!f || level <= deepest) continue;
    const smallest = unescape(f[1]!);
    const largest = unescape(f[2]!);
    if (compareBytes(smallest, r.lt) < 0 && compareBytes(largest, r.gte) >= 0) deepest = level;
  }
  return deepest;
}

function unescape(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(s.charCodeAt(i) & 0xff);
  }
  return Uint8Array.from(out);
}
