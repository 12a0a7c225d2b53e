/**
 * The indexer: the index entries of one leaf, derived from the leaf bytes
 * alone. The sequencer adds them to the leaf's own commit batch, and
 * `reindex` calls the same function, so a rebuilt index is byte-identical.
 *
 * This runs once per append on the commit path, so keys are built with one
 * allocation each (keys.ts documents the layout; the builders there are the
 * reference and the tests compare against them).
 */

import type { IndexWrite } from '../log/sequencer.js';
import { recordFields } from './fields.js';
import { LIST, riskBucket, VALUE_BYTES } from './keys.js';
import { readLeaf } from './leaf.js';

const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();

function u64(k: Uint8Array, o: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  k[o] = hi >>> 24;
  k[o + 1] = (hi >>> 16) & 255;
  k[o + 2] = (hi >>> 8) & 255;
  k[o + 3] = hi & 255;
  k[o + 4] = lo >>> 24;
  k[o + 5] = (lo >>> 16) & 255;
  k[o + 6] = (lo >>> 8) & 255;
  k[o + 7] = lo & 255;
}

/** UTF-8 of `s` cut to VALUE_BYTES, without an allocation for short ASCII. */
function valueOf(s: string): Uint8Array | string {
  if (s.length <= VALUE_BYTES) {
    let ascii = true;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
    if (ascii) return s;
  }
  const b = enc.encode(s);
  return b.length > VALUE_BYTES ? b.subarray(0, VALUE_BYTES) : b;
}

/**
 * Never throws: a leaf that does not decode (it cannot happen for a leaf the
 * log just built) is simply not indexed, rather than failing the commit.
 */
export function indexEntry(leaf: Uint8Array, index: number): IndexWrite[] {
  const record = readLeaf(leaf);
  if (!record) return [];
  const f = recordFields(record);
  const t = enc.encode(record.tenant);
  const T = t.length + 2; // 'x' tenant 0x00
  const out: IndexWrite[] = [];
  const head = (len: number, field: number) => {
    const k = new Uint8Array(T + 1 + len + 8);
    k[0] = 0x78;
    k.set(t, 1);
    k[T] = field;
    return k;
  };
  const seen = new Set<string>();
  const list = (field: number, value: string | undefined) => {
    if (value === undefined) return;
    const v = valueOf(value);
    if (typeof v !== 'string' && (field === LIST.action || field === LIST.target)) {
      // Two long values cut to the same bytes would write one key twice.
      const id = `${field}:${v.join(',')}`;
      if (seen.has(id)) return;
      seen.add(id);
    }
    const n = v.length;
    const k = head(n + 1, field);
    if (typeof v === 'string') for (let i = 0; i < n; i++) k[T + 1 + i] = v.charCodeAt(i);
    else k.set(v, T + 1);
    k[T + 1 + n] = 0;
    u64(k, T + 2 + n, index);
    out.push({ key: k, value: EMPTY });
  };
  const all = head(0, LIST.all);
  u64(all, T + 1, index);
  out.push({ key: all, value: EMPTY });
  const time = head(8, LIST.time);
  u64(time, T + 1, record.logged_at);
  u64(time, T + 9, index);
  out.push({ key: time, value: EMPTY });
  list(LIST.run, f.run);
  list(LIST.session, f.session);
  list(LIST.actor, f.actor);
  for (const a of f.action) list(LIST.action, a);
  list(LIST.decision, f.decision);
  list(LIST.approval, f.approval);
  list(LIST.approver, f.approver);
  for (const g of f.target) list(LIST.target, g);
  if (f.risk !== undefined) {
    const k = head(1, LIST.risk);
    k[T + 1] = riskBucket(f.risk);
    u64(k, T + 2, index);
    out.push({ key: k, value: EMPTY });
  }
  for (const w of f.words) list(LIST.word, w);
  return out;
}
