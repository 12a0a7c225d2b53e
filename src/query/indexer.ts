/**
 * The indexer: the index entries of one leaf, derived from the leaf bytes
 * alone. The sequencer adds them to the leaf's own commit batch, and
 * `reindex` calls the same function, so a rebuilt index is byte-identical.
 */

import { decodeRecord } from '../events/index.js';
import type { IndexWrite } from '../log/sequencer.js';
import { recordFields } from './fields.js';
import { LIST, listPrefix, riskBucket, riskPrefix, tenantPrefix, timeKey, valueBytes, withIndex } from './keys.js';

const EMPTY = new Uint8Array(0);

/**
 * Never throws: a leaf that does not decode (it cannot happen for a leaf the
 * log just built) is simply not indexed, rather than failing the commit.
 */
export function indexEntry(leaf: Uint8Array, index: number): IndexWrite[] {
  let record;
  try {
    record = decodeRecord(leaf);
  } catch {
    return [];
  }
  const f = recordFields(record);
  const t = tenantPrefix(record.tenant);
  const out: IndexWrite[] = [];
  const put = (key: Uint8Array) => out.push({ key, value: EMPTY });
  const list = (field: number, value: string | undefined) => {
    if (value !== undefined) put(withIndex(listPrefix(t, field, valueBytes(value)), index));
  };
  put(withIndex(listPrefix(t, LIST.all), index));
  put(timeKey(t, record.logged_at, index));
  list(LIST.run, f.run);
  list(LIST.session, f.session);
  list(LIST.actor, f.actor);
  for (const a of dedupeCut(f.action)) list(LIST.action, a);
  list(LIST.decision, f.decision);
  list(LIST.approval, f.approval);
  list(LIST.approver, f.approver);
  for (const g of dedupeCut(f.target)) list(LIST.target, g);
  if (f.risk !== undefined) put(withIndex(riskPrefix(t, riskBucket(f.risk)), index));
  for (const w of f.words) list(LIST.word, w);
  return out;
}

/** Two values whose cut keys are equal would write the same key twice. */
function dedupeCut(values: string[]): string[] {
  if (values.length < 2) return values;
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = valueBytes(v).join(',');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
