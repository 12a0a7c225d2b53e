/**
 * The posting lists one record belongs to (keys.ts documents the layout).
 * block-indexer.ts turns them into block keys; this runs once per append on
 * the commit path, so a list is named without building its key: by a slot
 * (which list kind, SLOT_FIELD) and the value's key bytes as a latin-1
 * string (equal strings ⇔ equal key bytes, so two long values cut to the
 * same 200 bytes name one list). Short ASCII values are used as they are.
 */

import type { LogRecord } from '../events/index.js';
import { recordFields } from './fields.js';
import { LIST, riskBucket, VALUE_BYTES } from './keys.js';

const enc = new TextEncoder();
/** The list kind of each slot; the key of slot s is 'x' tenant 0x00 SLOT_FIELD[s] … u64(block). */
export const SLOT_FIELD = [LIST.all, LIST.time, LIST.run, LIST.session, LIST.actor, LIST.action, LIST.decision, LIST.approval, LIST.approver, LIST.target, LIST.risk, LIST.word] as const;
export const SLOT = { all: 0, time: 1, run: 2, session: 3, actor: 4, action: 5, decision: 6, approval: 7, approver: 8, target: 9, risk: 10, word: 11 } as const;
/** Slots whose value is followed by 0x00 in the key (all, time and risk have none). */
export const SEPARATED = SLOT_FIELD.map((_, s) => s >= SLOT.run && s !== SLOT.risk);
/** Risk buckets 0..100 as one-character values. */
const BUCKETS = Array.from({ length: 101 }, (_, b) => String.fromCharCode(b));

/** The key bytes of `s` (UTF-8 cut to `max`) as a latin-1 string; short ASCII is returned as is. */
export function latin1(s: string, max = VALUE_BYTES): string {
  if (s.length <= max) {
    let ascii = true;
    for (let i = 0; i < s.length; i++)
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    if (ascii) return s;
  }
  let b = enc.encode(s);
  if (b.length > max) b = b.subarray(0, max);
  let out = '';
  for (let i = 0; i < b.length; i++) out += String.fromCharCode(b[i]!);
  return out;
}

export type ListVisitor = (slot: number, value: string) => void;

/**
 * Calls `visit` for every list but the time list that `record` belongs to.
 * A (slot, value) may repeat (action.type equal to action.name); the caller
 * keeps one.
 */
export function eachList(record: LogRecord, visit: ListVisitor): void {
  const f = recordFields(record);
  visit(SLOT.all, '');
  const list = (slot: number, value: string | undefined) => {
    if (value !== undefined) visit(slot, latin1(value));
  };
  list(SLOT.run, f.run);
  list(SLOT.session, f.session);
  list(SLOT.actor, f.actor);
  for (const a of f.action) list(SLOT.action, a);
  list(SLOT.decision, f.decision);
  list(SLOT.approval, f.approval);
  list(SLOT.approver, f.approver);
  for (const g of f.target) list(SLOT.target, g);
  if (f.risk !== undefined) visit(SLOT.risk, BUCKETS[riskBucket(f.risk)]!);
  for (const w of f.words) list(SLOT.word, w);
}
