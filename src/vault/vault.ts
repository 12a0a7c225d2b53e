/**
 * The personal-data vault: a LevelDB of its own (`<data>/vault`), never the
 * log's. The log's leaves hold only {$pii, subject, commitment} references
 * into it (src/events/pii.ts); erasure destroys what they point at.
 *
 * Per subject: a random pseudonym and a random AES-256 key, the key sealed
 * under the master key. Per value: a random pointer, a random salt, the
 * value and salt sealed under the subject key, and the commitment.
 * spec/privacy.md explains what each party can learn.
 */

import { Level } from 'level';
import { mkdir } from 'node:fs/promises';
import { concatBytes, fromUtf8, toBase64, toHex, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { decodeCanonical, encodeCanonical, type JsonValue } from '../events/index.js';
import { SALT_BYTES, type PiiRef } from '../events/pii.js';
import { Lru } from '../log/lru.js';
import { hmacSha256, KEY_BYTES, open as openSealed, random, seal, sha256 } from './crypto.js';
import {
  erasedSubjectKey,
  erasedValueKey,
  expiredRange,
  parseRetentionKey,
  prefixRange,
  pseudonymKey,
  retentionKey,
  runHoldKey,
  subjectKey,
  subjectRange,
  tombstoneKey,
  valueKey,
  valueRange,
  VP,
} from './layout.js';
import { RwLocks } from './locks.js';
import { decodeJson, decodeSubject, decodeValue, encodeJson, encodeSubject, encodeValue, valueExpiresAt, type SubjectRecord, type Tombstone } from './records.js';
import { GroupWriter, type VaultOp } from './writer.js';

type Bytes = Uint8Array;

export interface VaultOptions {
  masterKey: Uint8Array;
  /** How long a value is kept before the retention sweep erases it, ms. */
  retentionMs: number;
  now?: () => number;
}

/** How long each step of an erasure took, ms (spec/privacy.md §5; logged with the erasure). */
export type EraseSteps = Record<'scan' | 'flush' | 'shred' | 'purge', number>;

/** A personal value on its way into the vault. */
export interface PiiItem {
  /** The `pii` name or the configured source path. */
  readonly name: string;
  /** Where the reference will sit in the stored event. */
  readonly path: string;
  readonly subject: string;
  readonly value: JsonValue;
}

/** A subject, resolved (created if new) and ready to seal values under. */
export interface SubjectHandle {
  readonly tag: Bytes;
  /** The tag in hex: the subject's lock and cache name. */
  readonly name: string;
  readonly pseudonym: string;
  readonly key: Bytes;
}

export interface StoredValue {
  readonly pointer: string;
  readonly name: string;
  readonly path: string;
  readonly event_id: string;
  readonly value: JsonValue;
  readonly salt: string;
  readonly commitment: string;
  readonly created_at: number;
  readonly expires_at: number;
}

export type SubjectView =
  | { state: 'present'; pseudonym: string; hold?: SubjectRecord['hold']; values: StoredValue[] }
  | { state: 'erased'; tombstone: Tombstone }
  | { state: 'unknown' };

export type EraseOutcome =
  | { state: 'erased'; tombstone: Tombstone; values: number; steps: EraseSteps }
  /** Already erased: the original tombstone (the caller returns the original receipt). */
  | { state: 'already'; tombstone: Tombstone };

const KEY_AAD = utf8('agent-tlog vault subject key v1');
/**
 * Iterators pin a LevelDB snapshot, and compaction keeps every version a
 * snapshot can still see. So scans hold this lock's shared side and purges
 * its exclusive side: a purge never runs beside an open iterator.
 */
const SCAN = '\u0000scan';
/**
 * New subjects whose record waits for their first values' batch (see
 * resolve()). Past this many (events that resolved a subject and then
 * failed before sealing), a new subject is written on its own again.
 */
const MAX_UNWRITTEN = 10_000;
const EMPTY = new Uint8Array(0);
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** 16 random bytes as 22 base64url characters after `prefix`. */
function randomId(prefix: string): string {
  return randomIdBytes(prefix).text;
}

/** randomId(), with its ASCII bytes (a pointer is a key, a key part and an AAD: encoded once). */
function randomIdBytes(prefix: string): { text: string; bytes: Uint8Array } {
  const b = random(17);
  const bytes = new Uint8Array(prefix.length + 22);
  for (let i = 0; i < prefix.length; i++) bytes[i] = prefix.charCodeAt(i);
  // 22 chars × 6 bits = 132 bits; the top 4 of the last byte are dropped (128 bits kept).
  for (let i = 0; i < 22; i++) {
    const bit = i * 6;
    const byte = bit >> 3;
    const off = bit & 7;
    const v = ((b[byte]! << 8) | b[byte + 1]!) >> (10 - off);
    bytes[prefix.length + i] = ID_ALPHABET.charCodeAt(v & 63);
  }
  return { text: String.fromCharCode(...bytes), bytes };
}

export const POINTER_PATTERN = /^pii_[A-Za-z0-9_-]{22}$/;
export const PSEUDONYM_PATTERN = /^ps_[A-Za-z0-9_-]{22}$/;

export class Vault {
  private readonly locks = new RwLocks();
  private readonly writer: GroupWriter;
  private readonly subjects = new Lru<string, SubjectHandle>(65_536);
  /** tenant 0x00 subject id → tag (hex): the HMAC is deterministic, so this never goes stale. */
  private readonly tags = new Lru<string, { tag: Bytes; name: string }>(65_536);
  /**
   * Subjects created in memory whose record is not yet on disk, by name: the
   * record goes in the same synced batch as the subject's first values (one
   * fsync, not two), and until then this map, not the database, is what
   * makes a second resolve() find the same pseudonym and key.
   */
  private readonly unwritten = new Map<string, { handle: SubjectHandle; ops: VaultOp[] }>();
  /** Subject-record reads queued in this turn of the event loop: one getMany for all. */
  private reads: { key: Bytes; resolve: (v: Bytes | undefined) => void; reject: (e: unknown) => void }[] = [];
  private readonly now: () => number;

  private constructor(
    private readonly db: Level<Bytes, Bytes>,
    private readonly opts: VaultOptions,
  ) {
    this.writer = new GroupWriter(db);
    this.now = opts.now ?? Date.now;
    if (opts.masterKey.length !== KEY_BYTES) throw new RangeError(`expected a ${KEY_BYTES}-byte master key`);
  }

  static async open(dir: string, opts: VaultOptions): Promise<Vault> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const db = new Level<Bytes, Bytes>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new Vault(db, opts);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The subject's tag: its only identity on disk. Keyed, so a guessed id cannot be checked without the master key. */
  tagOf(tenant: string, subject: string): Bytes {
    return hmacSha256(this.opts.masterKey, utf8('subject\u0000'), utf8(tenant), new Uint8Array([0]), utf8(subject));
  }

  private async readSubject(tag: Bytes): Promise<SubjectRecord | undefined> {
    const v = await this.getCoalesced(subjectKey(tag));
    return v === undefined ? undefined : decodeSubject(v);
  }

  /**
   * A get that shares one LevelDB getMany with the others queued in the
   * same turn: a batch of events about new subjects (or many connections'
   * first events) then costs one native call and one thread-pool job, not
   * one each. Reads queued later than a write's acknowledgement still see it.
   */
  private getCoalesced(key: Bytes): Promise<Bytes | undefined> {
    return new Promise((resolve, reject) => {
      this.reads.push({ key, resolve, reject });
      if (this.reads.length === 1) setImmediate(() => void this.flushReads());
    });
  }

  private async flushReads(): Promise<void> {
    const reads = this.reads;
    this.reads = [];
    try {
      const values = await this.db.getMany(reads.map((r) => r.key));
      reads.forEach((r, i) => r.resolve(values[i]));
    } catch (e) {
      for (const r of reads) r.reject(e);
    }
  }

  private handleOf(tag: Bytes, rec: SubjectRecord): SubjectHandle {
    return { tag, name: toHex(tag), pseudonym: rec.pseudonym, key: openSealed(this.opts.masterKey, rec.wrapped_key, concatBytes(KEY_AAD, tag)) };
  }

  /**
   * Resolves subjects, creating the ones seen for the first time (in
   * memory: see createSubject()). Creation runs under the subject's
   * exclusive lock and checks the subjects still waiting to be written, so
   * two first events about one person cannot mint two pseudonyms. Handles
   * hold the unwrapped key and are cached (bounded); erase() evicts them.
   */
  async resolve(tenant: string, subjects: readonly string[]): Promise<Map<string, SubjectHandle>> {
    const out = new Map<string, SubjectHandle>();
    for (const subject of new Set(subjects)) {
      const id = `${tenant}\u0000${subject}`;
      let t = this.tags.get(id);
      if (!t) {
        const tag = this.tagOf(tenant, subject);
        this.tags.set(id, (t = { tag, name: toHex(tag) }));
      }
      const { tag, name } = t;
      let h = this.subjects.get(name);
      if (!h) {
        h = await this.locks.exclusive(name, async () => {
          const cached = this.subjects.get(name) ?? this.unwritten.get(name)?.handle;
          if (cached) return cached;
          const rec = await this.readSubject(tag);
          const handle = rec ? this.handleOf(tag, rec) : await this.createSubject(tenant, tag, name);
          this.subjects.set(name, handle);
          return handle;
        });
      }
      out.set(subject, h);
    }
    return out;
  }

  /**
   * A new subject: pseudonym and key. Its record is written with its first
   * values (seal()), in the same synced batch, so a crash can leave a
   * subject only together with values, and a new subject costs no fsync of
   * its own. Past MAX_UNWRITTEN waiting records it is written now instead.
   */
  private async createSubject(tenant: string, tag: Bytes, name: string): Promise<SubjectHandle> {
    const key = random(KEY_BYTES);
    const pseudonym = randomId('ps_');
    const rec: SubjectRecord = { tenant, pseudonym, wrapped_key: seal(this.opts.masterKey, key, concatBytes(KEY_AAD, tag)), created_at: this.now() };
    const ops: VaultOp[] = [
      { type: 'put', key: subjectKey(tag), value: encodeSubject(rec) },
      { type: 'put', key: pseudonymKey(pseudonym), value: tag },
    ];
    const handle: SubjectHandle = { tag, name, pseudonym, key };
    if (this.unwritten.size < MAX_UNWRITTEN) this.unwritten.set(name, { handle, ops });
    else await this.writer.write(ops);
    return handle;
  }

  /**
   * Seals the values of one event and returns the references for its leaf,
   * in `items` order. Resolves once the values are durable, so the leaf
   * that points at them can be committed.
   */
  async seal(tenant: string, eventId: string, items: readonly PiiItem[], handles: Map<string, SubjectHandle>): Promise<PiiRef[]> {
    const names = items.map((i) => handles.get(i.subject)!.name);
    return this.locks.shared(names, async () => {
      const now = this.now();
      const expiresAt = now + this.opts.retentionMs;
      const ops: VaultOp[] = [];
      const refs: PiiRef[] = [];
      // Records of new subjects ride in this batch (see createSubject()).
      const creating = new Map<string, { handle: SubjectHandle; ops: VaultOp[] }>();
      for (const h of new Set(items.map((i) => handles.get(i.subject)!))) {
        const u = this.unwritten.get(h.name);
        if (u && u.handle === h) {
          creating.set(h.name, u);
          ops.push(...u.ops);
          continue;
        }
        // The subject may have been erased since resolve(): never seal under a shredded key.
        if (this.subjects.get(h.name) !== h) {
          const rec = await this.readSubject(h.tag);
          if (!rec || rec.pseudonym !== h.pseudonym) throw new TlogError('EVENT_CONFLICT', 'a subject of this event was erased while it was being logged; retry');
          this.subjects.set(h.name, h);
        }
      }
      for (const item of items) {
        const h = handles.get(item.subject)!;
        const pointer = randomIdBytes('pii_');
        // salt ‖ CBOR(value) is both the commitment's preimage and the sealed plaintext.
        const plain = concatBytes(random(SALT_BYTES), encodeCanonical(item.value));
        const commitment = sha256(plain);
        const sealed = seal(h.key, plain, pointer.bytes);
        ops.push({
          type: 'put',
          key: valueKey(h.tag, pointer.bytes),
          value: encodeValue({ name: item.name, path: item.path, event_id: eventId, commitment, sealed, created_at: now, expires_at: expiresAt }),
        });
        ops.push({ type: 'put', key: retentionKey(expiresAt, h.tag, pointer.bytes), value: EMPTY });
        refs.push({ $pii: pointer.text, subject: h.pseudonym, commitment: toBase64(commitment) });
      }
      await this.writer.write(ops);
      for (const [name, u] of creating) if (this.unwritten.get(name) === u) this.unwritten.delete(name);
      return refs;
    });
  }

  /** Everything stored about a subject (decrypted), for a subject-access answer. */
  async view(tenant: string, subject: string): Promise<SubjectView> {
    const tag = this.tagOf(tenant, subject);
    return this.locks.shared([toHex(tag), SCAN], async () => {
      const rec = await this.readSubject(tag);
      if (!rec) {
        const t = await this.db.get(tombstoneKey(tag));
        return t ? { state: 'erased', tombstone: decodeJson<Tombstone>(t, 'tombstone') } : { state: 'unknown' };
      }
      const h = this.handleOf(tag, rec);
      const values: StoredValue[] = [];
      for await (const [k, v] of this.db.iterator(valueRange(tag))) {
        const pointer = fromUtf8(k.subarray(1 + tag.length)) ?? '';
        const r = decodeValue(v);
        const plain = openSealed(h.key, r.sealed, utf8(pointer));
        const salt = plain.subarray(0, SALT_BYTES);
        const value = decodeCanonical(plain.subarray(SALT_BYTES)) as JsonValue;
        values.push({
          pointer,
          name: r.name,
          path: r.path,
          event_id: r.event_id,
          value,
          salt: toBase64(salt),
          commitment: toBase64(r.commitment),
          created_at: r.created_at,
          expires_at: r.expires_at,
        });
      }
      return { state: 'present', pseudonym: rec.pseudonym, ...(rec.hold ? { hold: rec.hold } : {}), values };
    });
  }

  /**
   * Crypto-shreds a subject: its key, values, salts and pseudonym mapping
   * go in one synced batch that also writes the tombstone; then the ranges
   * are compacted so the bytes leave the files (spec/privacy.md, "Erasure").
   *
   * `makeEvent` builds the erasure event; it is stored in the tombstone so
   * the caller can log it, and re-log the identical bytes if a crash came
   * between this commit and the log append (see pendingErasures()).
   *
   * `pointers` limits erasure to some values (retention); when it covers
   * every value left, the whole subject is erased.
   */
  async erase(
    tenant: string,
    subject: string | { tag: Bytes },
    makeEvent: (pseudonym: string, values: number, whole: boolean) => Record<string, unknown>,
    pointers?: ReadonlySet<string>,
  ): Promise<EraseOutcome | { state: 'unknown' } | { state: 'partial'; tenant: string; event: Record<string, unknown>; values: number }> {
    const tag = typeof subject === 'string' ? this.tagOf(tenant, subject) : subject.tag;
    const name = toHex(tag);
    // The subject id leaves memory too (the tag cache is only a speed-up).
    if (typeof subject === 'string') this.tags.delete(`${tenant}\u0000${subject}`);
    const outcome = await this.locks.exclusive(name, async () => {
      const rec = await this.readSubject(tag);
      if (!rec) {
        // A subject created for an event still being sealed is not stored yet:
        // forget it, so that event fails (EVENT_CONFLICT, retry) rather than
        // store values about a subject someone just asked to erase.
        this.subjects.delete(name);
        this.unwritten.delete(name);
        const t = await this.db.get(tombstoneKey(tag));
        return t ? ({ state: 'already', tombstone: decodeJson<Tombstone>(t, 'tombstone') } as const) : ({ state: 'unknown' } as const);
      }
      if (rec.hold) throw new TlogError('LEGAL_HOLD', 'a legal hold covers this subject; lift it before erasing');
      const ops: VaultOp[] = [];
      const erasedAt = this.now();
      let all = 0;
      let erased = 0;
      const steps: EraseSteps = { scan: 0, flush: 0, shred: 0, purge: 0 };
      let t = performance.now();
      // scan and flush run together: each is timed from the start.
      const step = (name: keyof EraseSteps) => {
        const now = performance.now();
        steps[name] = Math.round(now - t);
        if (name !== 'scan' && name !== 'flush') t = now;
      };
      const scan = this.locks.shared([SCAN], async () => {
        for await (const [k, v] of this.db.iterator(valueRange(tag))) {
          all++;
          const pointer = fromUtf8(k.subarray(1 + tag.length)) ?? '';
          if (pointers && !pointers.has(pointer)) continue;
          erased++;
          ops.push({ type: 'del', key: k }, { type: 'del', key: retentionKey(valueExpiresAt(v), tag, pointer) });
          if (pointers) ops.push({ type: 'put', key: erasedValueKey(pointer), value: encodeJson({ erased_at: erasedAt }) });
        }
        step('scan');
      });
      // Step 1 of the purge: flush the memtable first. A memtable flush writes
      // every version of a key into one table file, and compaction never
      // rewrites a lone file at the deepest level, so a value and its deletion
      // flushed together would both survive. Flushed apart, the deletion lands
      // above the value and the compaction in purge() merges the two away.
      // The subject's exclusive lock already keeps new values out, so the
      // flush runs beside the scan (it drops nothing, so an open iterator's
      // snapshot does not matter to it).
      const flush = this.flushMemtable().then(() => step('flush'));
      await Promise.all([scan, flush]);
      t = performance.now();
      const whole = erased === all;
      const event = makeEvent(rec.pseudonym, erased, whole);
      this.subjects.delete(name);
      if (!whole) {
        await this.writer.write(ops);
        step('shred');
        await this.purge(tag);
        step('purge');
        return { state: 'partial', tenant: rec.tenant, event, values: erased } as const;
      }
      const tombstone: Tombstone = { tenant: rec.tenant, pseudonym: rec.pseudonym, erased_at: erasedAt, event };
      ops.push(
        { type: 'del', key: subjectKey(tag) },
        { type: 'del', key: pseudonymKey(rec.pseudonym) },
        { type: 'put', key: tombstoneKey(tag), value: encodeJson(tombstone) },
        { type: 'put', key: erasedSubjectKey(rec.pseudonym), value: encodeJson({ erased_at: erasedAt }) },
      );
      await this.writer.write(ops);
      step('shred');
      // Step 2: the deletions are durable; compact them into the values.
      await this.purge(tag);
      step('purge');
      return { state: 'erased', tombstone, values: erased, steps } as const;
    });
    return outcome;
  }

  /**
   * Flushes LevelDB's memtable to a table file (and retires its write-ahead
   * log) without compacting anything: compactRange always flushes first, and
   * the range given holds no key (no key starts with 0x00).
   */
  private async flushMemtable(): Promise<void> {
    const compact = (this.db as unknown as { compactRange(a: Bytes, b: Bytes): Promise<void> }).compactRange.bind(this.db);
    await compact(new Uint8Array([0]), new Uint8Array([0, 1]));
  }

  /**
   * Makes LevelDB drop deleted bytes: compactRange first flushes the
   * memtable (so the write-ahead log that held the deletions is retired
   * and deleted), then rewrites every table file overlapping the subject's
   * range, merging each value with its deletion so neither survives. The
   * subject's record and values are one key range (layout.ts): one
   * compaction. Keys never hold personal data, so the MANIFEST, which
   * records table files' smallest and largest keys, holds none either.
   */
  private async purge(tag: Bytes): Promise<void> {
    const compact = (this.db as unknown as { compactRange(a: Bytes, b: Bytes): Promise<void> }).compactRange.bind(this.db);
    const r = subjectRange(tag);
    await this.locks.exclusive(SCAN, () => compact(r.gte, r.lt));
  }

  /**
   * Sets or lifts a legal hold on a subject the vault holds. An unknown (or
   * erased) subject is `undefined`: there is nothing to hold, and another
   * tenant's subject must look exactly like one never seen.
   */
  async setHold(tenant: string, subject: string, hold: { reason?: string } | undefined): Promise<{ pseudonym: string; changed: boolean } | undefined> {
    const tag = this.tagOf(tenant, subject);
    const name = toHex(tag);
    return this.locks.exclusive(name, async () => {
      const rec = await this.readSubject(tag);
      if (!rec) return undefined;
      if (!!rec.hold === !!hold) return { pseudonym: rec.pseudonym, changed: false };
      const next: SubjectRecord = { ...rec };
      if (hold) next.hold = { since: this.now(), ...(hold.reason ? { reason: hold.reason } : {}) };
      else delete next.hold;
      await this.writer.write([{ type: 'put', key: subjectKey(tag), value: encodeSubject(next) }]);
      return { pseudonym: rec.pseudonym, changed: true };
    });
  }

  /** Sets or lifts a legal hold on a run (its entries are never pruned while it is set). */
  async setRunHold(tenant: string, runId: string, hold: { reason?: string } | undefined): Promise<boolean> {
    const key = runHoldKey(tenant, runId);
    return this.locks.exclusive(`run\u0000${tenant}\u0000${runId}`, async () => {
      const had = (await this.db.get(key)) !== undefined;
      if (had === !!hold) return false;
      await this.writer.write(hold ? [{ type: 'put', key, value: encodeJson({ since: this.now(), ...(hold.reason ? { reason: hold.reason } : {}) }) }] : [{ type: 'del', key }]);
      return true;
    });
  }

  async runHeld(tenant: string, runId: string): Promise<boolean> {
    return (await this.db.get(runHoldKey(tenant, runId))) !== undefined;
  }

  /** Whether a legal hold covers the subject behind this pseudonym. */
  async heldPseudonym(pseudonym: string): Promise<boolean> {
    const tag = await this.db.get(pseudonymKey(pseudonym));
    if (!tag) return false;
    return !!(await this.readSubject(tag))?.hold;
  }

  /** When a reference's value was erased, if it was. */
  async erasedAt(ref: PiiRef): Promise<number | undefined> {
    const z = await this.db.get(erasedSubjectKey(ref.subject));
    if (z) return decodeJson<{ erased_at: number }>(z, 'erasure').erased_at;
    const y = await this.db.get(erasedValueKey(ref.$pii));
    return y ? decodeJson<{ erased_at: number }>(y, 'erasure').erased_at : undefined;
  }

  /** Values past retention, grouped by subject tag. */
  async expired(now: number): Promise<{ tag: Bytes; pointers: Set<string> }[]> {
    const groups = new Map<string, { tag: Bytes; pointers: Set<string> }>();
    await this.locks.shared([SCAN], async () => {
      for await (const k of this.db.keys(expiredRange(now))) {
        const r = parseRetentionKey(k);
        const name = toHex(r.tag);
        let g = groups.get(name);
        if (!g) groups.set(name, (g = { tag: r.tag, pointers: new Set() }));
        g.pointers.add(r.pointer);
      }
    });
    return [...groups.values()];
  }

  /** Whether the subject with this tag is under a legal hold. */
  async heldTag(tag: Bytes): Promise<boolean> {
    return !!(await this.readSubject(tag))?.hold;
  }

  /** Every tombstone, for start-up to re-log erasure events a crash may have cut off. */
  async tombstones(): Promise<Tombstone[]> {
    return this.locks.shared([SCAN], async () => {
      const out: Tombstone[] = [];
      for await (const v of this.db.values(prefixRange(VP.tombstone))) out.push(decodeJson<Tombstone>(v, 'tombstone'));
      return out;
    });
  }

  /** Whether a pseudonym belongs to a subject of this vault (present or erased). */
  async knowsPseudonym(pseudonym: string): Promise<boolean> {
    return (await this.db.get(pseudonymKey(pseudonym))) !== undefined || (await this.db.get(erasedSubjectKey(pseudonym))) !== undefined;
  }
}

