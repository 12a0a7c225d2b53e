/**
 * The posting lists one record belongs to (keys.ts documents the layout).
 * block-indexer.ts turns them into block keys; it runs once per append on
 * the commit path, so a list is named by a cheap string instead of bytes:
 * its *list id* is the latin-1 string of the key bytes between the leading
 * 'x' and the trailing u64(block). Equal ids ⇔ equal key bytes, which is what
 * lets a Map of ids stand for a set of keys (two long values cut to the same
 * 200 bytes share one id, hence one list).
 */

import type { LogRecord } from '../events/index.js';
import { recordFields } from './fields.js';
import { LIST, riskBucket, VALUE_BYTES } from './keys.js';

const enc = new TextEncoder();
const F = (code: number) => String.fromCharCode(code);
const FIELD = {
  run: F(LIST.run),
  session: F(LIST.session),
  actor: F(LIST.actor),
  action: F(LIST.action),
  decision: F(LIST.decision),
  approval: F(LIST.approval),
  approver: F(LIST.approver),
  target: F(LIST.target),
  word: F(LIST.word),
};

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

/** `tenant 0x00` as a list-id prefix. */
export const tenantId = (tenant: string): string => `${latin1(tenant, Infinity)}\u0000`;

/** The list id of the tenant's time list (its keys also hold logged_at: keys.ts). */
export const timeId = (tid: string): string => tid + F(LIST.time);

/**
 * The ids of every list (but the time list) `record` belongs to. An id may
 * repeat (action.type equal to action.name); the caller keeps one.
 */
export function recordLists(record: LogRecord, tid: string): string[] {
  const f = recordFields(record);
  const out: string[] = [tid + F(LIST.all)];
  const list = (field: string, value: string | undefined) => {
    if (value !== undefined) out.push(`${tid}${field}${latin1(value)}\u0000`);
  };
  list(FIELD.run, f.run);
  list(FIELD.session, f.session);
  list(FIELD.actor, f.actor);
  for (const a of f.action) list(FIELD.action, a);
  list(FIELD.decision, f.decision);
  list(FIELD.approval, f.approval);
  list(FIELD.approver, f.approver);
  for (const g of f.target) list(FIELD.target, g);
  if (f.risk !== undefined) out.push(tid + F(LIST.risk) + F(riskBucket(f.risk)));
  for (const w of f.words) list(FIELD.word, w);
  return out;
}
