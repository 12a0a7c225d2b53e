/**
 * The personal-data vault: a LevelDB of its own (`<data>/vault`), never the
 * log's. The log's leaves hold only {$pii, subject, commitment} references
 * into it (src/events/pii.ts); erasure destroys what they point at.
 *
 * Per subject: a random pseudonym and a random AES-256 key, the key sealed
 * under the master key. Per value: a random pointer, a random salt and the
 * commitment. Per event and subject: one record, in which that event's
 * values about the subject and their salts are sealed together under the
 * subject key (sealing.ts). spec/privacy.md explains what each party can
 * learn.
 */

import { Level } from 'level';
import { mkdir } from 'node:fs/promises';
import { bytesEqual, concatBytes, fromHex, fromUtf8, toBase64, toHex, utf8 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { type JsonValue } from '../events/index.js';
import { type PiiRef } from '../events/pii.js';
import { Lru } from '../log/lru.js';
import { openDb } from '../storage/open-db.js';
import { hmacSha256, KEY_BYTES, open as openSealed, random, seal } from './crypto.js';
import { randomId } from './ids.js';
import {
  erasedHoldKey,
  erasedSubjectKey,
  erasedValueKey,
  outboxKey,
  bucketEnd,
  expiredRange,
  parseRetentionKey,
  prefixRange,
  pseudonymKey,
  purgePendingKey,
  tagOfPurgePending,
  recordIdOf,
  recordKey,
  retentionBucketKey,
  retentionKey,
  runHoldKey,
  subjectKey,
  subjectRange,
  tombstoneKey,
  valueRange,
  VP,
} from './layout.js';
import { RwLocks } from './locks.js';
import { decodeJson, decodeSubject, encodeJson, encodeSubject, type SubjectRecord, type Tombstone } from './records.js';
import { openValues, type SealedRecord, sealValues } from './sealing.js';
import { deepestLevelOverlapping } from './table-levels.js';
import { decodeValueRecord, valueCount, valueExpiresAt, valueVersion } from './value-record.js';
import { type Flush, GroupWriter, NO_OPS, type VaultOp, type WriterItem } from './writer.js';

export { POINTER_PATTERN, PSEUDONYM_PATTERN } from './ids.js';

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
  /**
   * The retention bucket (its end) whose key this subject is known to have
   * on disk: set once a batch with it is durable, so later values expiring
   * in the same hour skip the put. A fresh handle (after eviction or
   * erasure) starts at 0 and writes it again, which is harmless.
   */
  retained: number;
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

/** An event's values, sealed and queued for the write that the log starts (Vault.stage). */
export interface StagedValues {
  /** The references for the leaf, in `items` order. */
  readonly refs: PiiRef[];
  /** Starts the write if it has not started; resolves once the values are on disk. */
  durable(): Promise<void>;
  /** The leaf will not be committed: drops the values if no write has taken them yet. */
  withdraw(): void;
}

/**
 * A retention sweep's erasure of one subject: the values expired at `now`,
 * and the subject's bucket keys wholly past (`buckets`, their ends), which
 * go with them.
 */
export interface RetentionScope {
  readonly now: number;
  readonly buckets: readonly number[];
  /**
   * Part of a sweep that called beginSweep() (the memtable is flushed) and
   * will call finishPendingPurges(): this erasure only shreds. One
   * compaction for the whole sweep, not one per subject: each rewrites the
   * table files its range overlaps, a good part of the vault.
   */
  readonly deferPurge?: boolean;
}

export type EraseOutcome =
  | { state: 'erased'; tombstone: Tombstone; values: number; steps: EraseSteps }
  /** Already erased: the original tombstone (the caller returns the original receipt). */
  | { state: 'already'; tombstone: Tombstone };

const KEY_AAD = utf8('agent-tlog vault subject key v1');
const EMPTY = new Uint8Array(0);
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
/** Compactions of one purge at most (purgeRange): a level deeper each time, and LevelDB has 7. */
const MAX_PURGE_PASSES = 7;

/** A record id from its key bytes (ids are ASCII pointers). */
const idText = (b: Uint8Array): string => fromUtf8(b) ?? '';

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
  private readonly unwritten = new Map<string, Unwritten>();
  /** Subject-record reads queued in this turn of the event loop: one getMany for all. */
  private reads: { key: Bytes; resolve: (v: Bytes | undefined) => void; reject: (e: unknown) => void }[] = [];
  private readonly now: () => number;
  /** What a staged write needs once it is done or withdrawn (one object for all of them). */
  private readonly staging: StagingContext;

  private constructor(
    private readonly db: Level<Bytes, Bytes>,
    private readonly opts: VaultOptions,
  ) {
    this.writer = new GroupWriter(db);
    this.staging = { writer: this.writer, locks: this.locks, unwritten: this.unwritten };
    this.now = opts.now ?? Date.now;
    if (opts.masterKey.length !== KEY_BYTES) throw new RangeError(`expected a ${KEY_BYTES}-byte master key`);
  }

  static async open(dir: string, opts: VaultOptions): Promise<Vault> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // No block compression: values are AES-GCM ciphertext, and keys are tags and
    // random ids, so snappy found nothing to save and only cost CPU (it was the
    // largest item of LevelDB's compaction thread under PII appends, in perf).
    const db = new Level<Bytes, Bytes>(dir, { keyEncoding: 'view', valueEncoding: 'view', compression: false });
    await openDb(db, dir);
    return new Vault(db, opts);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The subject's tag: its only identity on disk. Keyed, so a guessed id cannot be checked without the master key. */
  tagOf(tenant: string, subject: string): Bytes {
    // The bytes are 'subject' 0x00 tenant 0x00 subject (UTF-8): tags on disk depend on them.
    return hmacSha256(this.opts.masterKey, `subject\u0000${tenant}\u0000${subject}`);
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
    return { tag, name: toHex(tag), pseudonym: rec.pseudonym, key: openSealed(this.opts.masterKey, rec.wrapped_key, concatBytes(KEY_AAD, tag)), retained: 0 };
  }

  /**
   * The handles of subjects that are all cached, without a promise (the
   * append path's common case: returning subjects); undefined if any is not.
   */
  cached(tenant: string, subjects: readonly string[]): Map<string, SubjectHandle> | undefined {
    const out = new Map<string, SubjectHandle>();
    for (const subject of subjects) {
      if (out.has(subject)) continue;
      const t = this.tags.get(`${tenant}\u0000${subject}`);
      const h = t && this.subjects.get(t.name);
      if (!h) return undefined;
      out.set(subject, h);
    }
    return out;
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
    for (const subject of subjects.length === 1 ? subjects : new Set(subjects)) {
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
    const handle: SubjectHandle = { tag, name, pseudonym, key, retained: 0 };
    if (this.unwritten.size < MAX_UNWRITTEN) this.unwritten.set(name, { handle, ops });
    else await this.writer.write(ops);
    return handle;
  }

  /**
   * Seals the values of one event and returns the references for its leaf,
   * in `items` order, once the values are durable. For callers that write
   * on their own (tests, tools); the append path uses stage().
   */
  async seal(tenant: string, eventId: string, items: readonly PiiItem[], handles: Map<string, SubjectHandle>): Promise<PiiRef[]> {
    const staged = await this.stage(tenant, eventId, items, handles);
    await staged.durable();
    return staged.refs;
  }

  /**
   * Seals the values of one event and queues their write without starting
   * it: the log starts it (`durable`) when it takes the leaf that points at
   * them into a commit, and commits that leaf only once they are on disk
   * (spec/crash-model.md). The subjects' shared locks are held until the
   * write is done or withdrawn, so no erasure runs between the check that
   * a subject still exists and the write of its values.
   *
   * One record (one seal, one put; a retention bucket key once an hour) per subject of the
   * event, not per value: that is most of the vault's CPU per event.
   */
  async stage(tenant: string, eventId: string, items: readonly PiiItem[], handles: Map<string, SubjectHandle>): Promise<StagedValues> {
    const now = this.stageNow(eventId, items, handles);
    if (now) return now;
    const { subjects, groups } = bySubject(items, handles);
    const names = subjects.map((h) => h.name);
    const release = await this.locks.holdShared(names);
    try {
      for (const h of subjects) {
        const u = this.unwritten.get(h.name);
        if (u && u.handle === h) continue;
        // The subject may have been erased since resolve(): never seal under a shredded key.
        // (peek: resolve() just made it recent; no second reordering of the cache.)
        if (this.subjects.peek(h.name) !== h) {
          const rec = await this.readSubject(h.tag);
          if (!rec || rec.pseudonym !== h.pseudonym) throw new TlogError('EVENT_CONFLICT', 'a subject of this event was erased while it was being logged; retry');
          // Back in the cache after a partial erasure, which may have deleted its bucket key.
          h.retained = 0;
          this.subjects.set(h.name, h);
        }
      }
      return this.sealStaged(eventId, items, handles, subjects, groups, names.length === 1 ? names[0]! : names);
    } catch (e) {
      release();
      throw e;
    }
  }

  /**
   * stage() without a wait, for the append path's common case: every
   * subject's handle is the current one (or one still to be written) and
   * its lock is free, so the check and the shared locks need no promise.
   * Undefined when one of them would need a wait: then stage() does it.
   */
  stageNow(eventId: string, items: readonly PiiItem[], handles: Map<string, SubjectHandle>): StagedValues | undefined {
    const { subjects, groups } = bySubject(items, handles);
    for (const h of subjects) {
      if (this.subjects.peek(h.name) === h) continue;
      const u = this.unwritten.size === 0 ? undefined : this.unwritten.get(h.name);
      if (!u || u.handle !== h) return undefined;
    }
    const names = subjects.length === 1 ? subjects[0]!.name : subjects.map((h) => h.name);
    if (!this.locks.tryHoldShared(names)) return undefined;
    try {
      return this.sealStaged(eventId, items, handles, subjects, groups, names);
    } catch (e) {
      this.locks.releaseShared(names);
      throw e;
    }
  }

  /** The seal and the staged write, once the subjects are checked and their shared locks (`names`) held. */
  private sealStaged(
    eventId: string,
    items: readonly PiiItem[],
    handles: Map<string, SubjectHandle>,
    subjects: readonly SubjectHandle[],
    groups: readonly (readonly PiiItem[])[],
    names: string | string[],
  ): Staged {
    const now = this.now();
    const expiresAt = now + this.opts.retentionMs;
    const bucket = bucketEnd(expiresAt);
    const fields = { event_id: eventId, created_at: now, expires_at: expiresAt };
    const staged = new Staged(this.staging, names);
    // The one subject of most events: its record is the item's own put, its references the event's.
    if (subjects.length === 1) {
      const h = subjects[0]!;
      const s = this.sealFor(h, fields, items, bucket, staged);
      staged.key = recordKey(h.tag, s.id);
      staged.value = s.record;
      staged.refs = refsOf(s, h);
      return staged;
    }
    const refs: PiiRef[][] = [];
    for (let g = 0; g < subjects.length; g++) {
      const h = subjects[g]!;
      const s = this.sealFor(h, fields, groups[g]!, bucket, staged);
      staged.add({ type: 'put', key: recordKey(h.tag, s.id), value: s.record });
      refs.push(refsOf(s, h));
    }
    staged.refs = inItemOrder(items, handles, subjects, refs);
    return staged;
  }

  /**
   * One subject's record of an event, sealed; the ops that must ride with
   * it go to `staged`: a new subject's own record (see createSubject()), and
   * its retention bucket key when this subject is not known to have it, so
   * no record is ever on disk without it (layout.ts, RETENTION_BUCKET_MS).
   */
  private sealFor(h: SubjectHandle, fields: { event_id: string; created_at: number; expires_at: number }, values: readonly PiiItem[], bucket: number, staged: Staged) {
    // (Most of the time no subject waits to be written: no look-up then.)
    const u = this.unwritten.size === 0 ? undefined : this.unwritten.get(h.name);
    if (u && u.handle === h) {
      (staged.creating ??= []).push(u);
      staged.add(...u.ops);
    }
    if (h.retained !== bucket) {
      staged.add({ type: 'put', key: retentionBucketKey(bucket, h.tag), value: EMPTY });
      staged.mark(h, bucket);
    }
    return sealValues(h.key, fields, values);
  }

  /** Everything stored about a subject (decrypted), for a subject-access answer. */
  async view(tenant: string, subject: string): Promise<SubjectView> {
    const tag = this.tagOf(tenant, subject);
    // Lock order everywhere: the subject's lock, then SCAN (erase() holds the subject and then
    // purges under SCAN). Taken together, SCAN's name sorts first: a view and an erasure deadlocked.
    return this.locks.shared([toHex(tag)], () => this.locks.shared([SCAN], async () => {
      const rec = await this.readSubject(tag);
      if (!rec) {
        const t = await this.db.get(tombstoneKey(tag));
        return t ? { state: 'erased', tombstone: decodeJson<Tombstone>(t, 'tombstone') } : { state: 'unknown' };
      }
      const h = this.handleOf(tag, rec);
      const values: StoredValue[] = [];
      for await (const [k, v] of this.db.iterator(valueRange(tag))) {
        const r = decodeValueRecord(v, idText(recordIdOf(k)));
        for (const { item, salt, value, commitment } of openValues(h.key, r))
          values.push({
            pointer: item.pointer,
            name: item.name,
            path: item.path,
            event_id: r.event_id,
            value,
            salt: toBase64(salt),
            commitment: toBase64(commitment),
            created_at: r.created_at,
            expires_at: r.expires_at,
          });
      }
      // A hold set while the subject was erased (by tag) holds its data since it came back.
      const erasedHold = rec.hold ? undefined : await this.db.get(erasedHoldKey(tag));
      const hold = rec.hold ?? (erasedHold ? decodeJson<NonNullable<SubjectRecord['hold']>>(erasedHold, 'hold') : undefined);
      return { state: 'present', pseudonym: rec.pseudonym, ...(hold ? { hold } : {}), values };
    }));
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
   * `scope` (a retention sweep) limits erasure to the values expired at
   * `scope.now`, which get `y` marks; when they are all the subject has
   * left, the whole subject is erased. With nothing expired it changes
   * nothing but the past buckets it was handed (`nothing`).
   */
  async erase(
    tenant: string,
    subject: string | { tag: Bytes },
    makeEvent: (pseudonym: string, values: number, whole: boolean) => Record<string, unknown>,
    scope?: RetentionScope,
  ): Promise<EraseOutcome | { state: 'unknown' } | { state: 'nothing' } | { state: 'partial'; tenant: string; event: Record<string, unknown>; values: number }> {
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
        // (Not for a sweep: it visits a tag by a bucket key that outlived an
        // erasure, and a subject made anew for that person is not its business.)
        if (!scope) {
          this.subjects.delete(name);
          this.unwritten.delete(name);
        }
        // Bucket keys left behind by an earlier erasure (see below): nothing to sweep here.
        if (scope) await this.dropBuckets(tag, scope.buckets);
        // A repeated request after a crash (or a failed compaction) between the shred and
        // the purge: finish the purge before answering that the subject is erased.
        await this.finishPurge(tag);
        const t = await this.db.get(tombstoneKey(tag));
        return t ? ({ state: 'already', tombstone: decodeJson<Tombstone>(t, 'tombstone') } as const) : ({ state: 'unknown' } as const);
      }
      if (rec.hold || (await this.db.get(erasedHoldKey(tag)))) throw new TlogError('LEGAL_HOLD', 'a legal hold covers this subject; lift it before erasing');
      const ops: VaultOp[] = [];
      const erasedAt = this.now();
      const erasedMark = encodeJson({ erased_at: erasedAt });
      // The subject's mark also names its tag: a hold set after the erasure covers this pseudonym's entries.
      const erasedSubjectMark = encodeJson({ erased_at: erasedAt, tag: name });
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
      // The buckets of the records erased: a whole erasure deletes their keys.
      const ends = new Set<number>(scope?.buckets);
      const scan = this.locks.shared([SCAN], async () => {
        for await (const [k, v] of this.db.iterator(valueRange(tag))) {
          // Counted in values (what the erasure event reports), decided per record.
          const n = valueCount(v);
          all += n;
          const expiresAt = valueExpiresAt(v);
          if (scope && expiresAt > scope.now) continue;
          erased += n;
          const id = recordIdOf(k);
          ops.push({ type: 'del', key: k });
          // Records written before the buckets have a retention key of their own.
          if (valueVersion(v) < 3) ops.push({ type: 'del', key: retentionKey(expiresAt, tag, id) });
          else ends.add(bucketEnd(expiresAt));
          if (scope) for (const item of decodeValueRecord(v, idText(id)).items) ops.push({ type: 'put', key: erasedValueKey(item.pointer), value: erasedMark });
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
      //
      // A retention sweep scans first: most subjects it visits (those with
      // values expiring later in the current hour) have nothing expired yet,
      // and each flush would leave a small table file behind.
      if (scope) {
        await scan;
        if (erased === 0) {
          await this.dropBuckets(tag, scope.buckets);
          return { state: 'nothing' } as const;
        }
        t = performance.now();
        if (!scope.deferPurge) await this.flushMemtable();
        step('flush');
      } else await Promise.all([scan, this.flushMemtable().then(() => step('flush'))]);
      t = performance.now();
      const whole = erased === all;
      // A partial erasure keeps the buckets that may still hold values (those not wholly past).
      ops.push(...bucketDeletions(tag, whole ? ends : (scope?.buckets ?? [])));
      const event = makeEvent(rec.pseudonym, erased, whole);
      this.subjects.delete(name);
      // The shred carries a purge-pending mark, deleted once the purge is done: a crash
      // in between leaves the bytes in table files, and start-up (finishPendingPurges)
      // or a repeated request (finishPurge) compacts them away then.
      // Its value is random: a sweep's cleanup deletes a mark only if it is still the one it saw.
      ops.push({ type: 'put', key: purgePendingKey(tag), value: random(8) });
      if (!whole) {
        // No tombstone records a partial erasure: its event waits in the outbox until it is logged.
        ops.push(outboxPut(rec.tenant, event));
        await this.writer.write(ops);
        step('shred');
        if (!scope?.deferPurge) await this.purgeAndClear(tag);
        step('purge');
        return { state: 'partial', tenant: rec.tenant, event, values: erased } as const;
      }
      const tombstone: Tombstone = { tenant: rec.tenant, pseudonym: rec.pseudonym, erased_at: erasedAt, event };
      // The event also waits in the outbox until it is logged: the tombstone keeps it for a
      // repeated request's receipt, but a later erasure of the same person (values sent again
      // since) overwrites the tombstone, and an append that failed would then never be retried.
      ops.push(outboxPut(rec.tenant, event));
      ops.push(
        { type: 'del', key: subjectKey(tag) },
        { type: 'del', key: pseudonymKey(rec.pseudonym) },
        { type: 'put', key: tombstoneKey(tag), value: encodeJson(tombstone) },
        { type: 'put', key: erasedSubjectKey(rec.pseudonym), value: erasedSubjectMark },
      );
      await this.writer.write(ops);
      step('shred');
      // Step 2: the deletions are durable; compact them into the values.
      if (!scope?.deferPurge) await this.purgeAndClear(tag);
      step('purge');
      return { state: 'erased', tombstone, values: erased, steps } as const;
    });
    return outcome;
  }

  /** The purge, then its pending mark is deleted (unsynced: a lost deletion only repeats the purge). */
  private async purgeAndClear(tag: Bytes): Promise<void> {
    await this.purge(tag);
    await this.db.del(purgePendingKey(tag));
  }

  /** Purges the subject `tag` if an erasure of it was shredded and not purged. Caller holds its exclusive lock. */
  private async finishPurge(tag: Bytes): Promise<boolean> {
    if ((await this.db.get(purgePendingKey(tag))) === undefined) return false;
    await this.purgeAndClear(tag);
    return true;
  }

  /**
   * Before a sweep's deferred erasures: flushes the memtable once, so the
   * values they delete sit in table files below their deletions (see
   * erase(), step 1).
   */
  async beginSweep(): Promise<void> {
    await this.flushMemtable();
  }

  /**
   * Purges every subject with a purge-pending mark: after a sweep's
   * deferred erasures, and at start-up for erasures a crash (or a stop) cut
   * off, so no shredded byte stays in a table file for good. A few subjects
   * are compacted one range each; more, with one compaction of the whole
   * value range (cheaper than one per subject, each of which rewrites the
   * files its range overlaps). Returns how many subjects it purged.
   */
  async finishPendingPurges(): Promise<number> {
    const marks: { key: Bytes; value: Bytes }[] = [];
    await this.locks.shared([SCAN], async () => {
      for await (const [key, value] of this.db.iterator(prefixRange(VP.purgePending))) marks.push({ key, value });
    });
    if (marks.length === 0) return 0;
    if (marks.length <= 4) {
      let n = 0;
      for (const { key } of marks) {
        const tag = tagOfPurgePending(key);
        if (await this.locks.exclusive(toHex(tag), () => this.finishPurge(tag))) n++;
      }
      return n;
    }
    // Every mark read above was written with its shred, so that shred is in the
    // memtable or a table file now, and the compaction (which flushes first) merges it.
    await this.purgeRange(prefixRange(VP.value));
    // A mark is deleted under its subject's lock and only if it is the one read above: an
    // erasure of the same subject that shredded during the compaction wrote a new one, which
    // its own purge (or the next start) must see.
    for (const { key, value } of marks)
      await this.locks.exclusive(toHex(tagOfPurgePending(key)), async () => {
        const now = await this.db.get(key);
        if (now !== undefined && bytesEqual(now, value)) await this.db.del(key);
      });
    return marks.length;
  }

  /** Deletes a subject's bucket keys on their own (none: no write). */
  private async dropBuckets(tag: Bytes, ends: Iterable<number>): Promise<void> {
    const ops = bucketDeletions(tag, ends);
    if (ops.length > 0) await this.writer.write(ops);
  }

  /**
   * Flushes LevelDB's memtable to a table file (and retires its write-ahead
   * log) without compacting anything: compactRange always flushes first, and
   * the range given holds no key (no key starts with 0x00).
   */
  private async flushMemtable(): Promise<void> {
    await this.compactRange({ gte: new Uint8Array([0]), lt: new Uint8Array([0, 1]) });
  }

  /** LevelDB's compactRange (classic-level has it; its types do not declare it). */
  private compactRange(r: { gte: Bytes; lt: Bytes }): Promise<void> {
    return (this.db as unknown as { compactRange(a: Bytes, b: Bytes): Promise<void> }).compactRange(r.gte, r.lt);
  }

  /**
   * Compacts `r` with no scan open (SCAN's exclusive side): see purge().
   *
   * LevelDB's CompactRange picks how deep to compact once, before it starts
   * (the deepest level with a file overlapping the range), then compacts one
   * level into the next, and an automatic compaction may run between two of
   * those steps. If one moved the range's old bytes from that deepest level
   * one level down, the deletions would stop above them and both would stay
   * on disk. So the pass is repeated while it left a file overlapping the
   * range deeper than any was before it (at most MAX_PURGE_PASSES).
   */
  private purgeRange(r: { gte: Bytes; lt: Bytes }): Promise<void> {
    return this.locks.exclusive(SCAN, async () => {
      // Each pass's "after" is the next one's "before": the table list is read once per pass.
      let before = this.deepestLevel(r);
      for (let pass = 1; ; pass++) {
        await this.compactRange(r);
        const after = this.deepestLevel(r);
        // Without the property (never so far), one pass: as before this check existed.
        // CompactRange always goes down to level 1 at least, so level 0 counts as 1.
        if (before === undefined || after === undefined || after <= Math.max(1, before) || pass >= MAX_PURGE_PASSES) return;
        before = after;
      }
    });
  }

  /** The deepest LevelDB level holding a table file that overlaps `r` (-1: none; undefined: LevelDB would not say). */
  private deepestLevel(r: { gte: Bytes; lt: Bytes }): number | undefined {
    try {
      return deepestLevelOverlapping((this.db as unknown as { getProperty(p: string): string }).getProperty('leveldb.sstables'), r);
    } catch {
      return undefined;
    }
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
    await this.purgeRange(subjectRange(tag));
  }

  /**
   * Sets or lifts a legal hold on a subject the vault holds. An unknown (or
   * erased) subject is `undefined`: there is nothing to hold, and another
   * tenant's subject must look exactly like one never seen.
   */
  async setHold(
    tenant: string,
    subject: string,
    hold: { reason?: string } | undefined,
    makeEvent: (pseudonym: string) => Record<string, unknown>,
  ): Promise<{ pseudonym: string; changed: boolean; event?: Record<string, unknown> } | undefined> {
    const tag = this.tagOf(tenant, subject);
    const name = toHex(tag);
    return this.locks.exclusive(name, async () => {
      const rec = await this.readSubject(tag);
      const since = { since: this.now(), ...(hold?.reason ? { reason: hold.reason } : {}) };
      const erasedHold = await this.db.get(erasedHoldKey(tag));
      if (!rec) {
        // Erased: the hold goes by tag, for the entries that still name its pseudonyms.
        const t = await this.db.get(tombstoneKey(tag));
        if (!t) return undefined;
        const tombstone = decodeJson<Tombstone>(t, 'tombstone');
        const pseudonym = tombstone.pseudonym;
        if (!!erasedHold === !!hold) return { pseudonym, changed: false };
        const event = makeEvent(pseudonym);
        const ops: VaultOp[] = [hold ? { type: 'put', key: erasedHoldKey(tag), value: encodeJson(since) } : { type: 'del', key: erasedHoldKey(tag) }, outboxPut(tenant, event)];
        if (hold) ops.push(...(await this.tagOldMark(tombstone, name)));
        await this.writer.write(ops);
        return { pseudonym, changed: true, event };
      }
      // Back after an erasure that a hold was then set on: that hold counts, and lifting lifts it too.
      if (!!(rec.hold ?? erasedHold) === !!hold) return { pseudonym: rec.pseudonym, changed: false };
      const next: SubjectRecord = { ...rec };
      if (hold) next.hold = since;
      else delete next.hold;
      // The change and its event (in the outbox) in one batch: a hold is never in force unlogged for good.
      const event = makeEvent(rec.pseudonym);
      const ops: VaultOp[] = [{ type: 'put', key: subjectKey(tag), value: encodeSubject(next) }, outboxPut(tenant, event)];
      if (!hold && erasedHold) ops.push({ type: 'del', key: erasedHoldKey(tag) });
      // Back after an erasure: the hold covers the erased pseudonym's entries too.
      const t = hold ? await this.db.get(tombstoneKey(tag)) : undefined;
      if (t) ops.push(...(await this.tagOldMark(decodeJson<Tombstone>(t, 'tombstone'), name)));
      await this.writer.write(ops);
      return { pseudonym: rec.pseudonym, changed: true, event };
    });
  }

  /**
   * An erasure older than tagged marks left its pseudonym's mark without the
   * tag: the tombstone names that pseudonym (its last), so a hold set now
   * writes the tag into its mark, and covers its entries (heldPseudonym).
   */
  private async tagOldMark(tombstone: Tombstone, name: string): Promise<VaultOp[]> {
    const z = await this.db.get(erasedSubjectKey(tombstone.pseudonym));
    if (!z || decodeJson<{ tag?: unknown }>(z, 'erasure').tag !== undefined) return [];
    return [{ type: 'put', key: erasedSubjectKey(tombstone.pseudonym), value: encodeJson({ erased_at: tombstone.erased_at, tag: name }) }];
  }

  /** Sets or lifts a legal hold on a run (its entries are never pruned while it is set). */
  async setRunHold(tenant: string, runId: string, hold: { reason?: string } | undefined, event: Record<string, unknown>): Promise<boolean> {
    const key = runHoldKey(tenant, runId);
    return this.locks.exclusive(`run\u0000${tenant}\u0000${runId}`, async () => {
      const had = (await this.db.get(key)) !== undefined;
      if (had === !!hold) return false;
      const change: VaultOp = hold ? { type: 'put', key, value: encodeJson({ since: this.now(), ...(hold.reason ? { reason: hold.reason } : {}) }) } : { type: 'del', key };
      await this.writer.write([change, outboxPut(tenant, event)]);
      return true;
    });
  }

  /** The system events whose changes are in the vault and that may not be logged yet (oldest first is not promised). */
  async outbox(): Promise<{ tenant: string; event: Record<string, unknown> }[]> {
    // Under SCAN's shared side, like every iterator: a purge beside an open snapshot keeps the bytes it drops.
    return this.locks.shared([SCAN], async () => {
      const out: { tenant: string; event: Record<string, unknown> }[] = [];
      for await (const v of this.db.values(prefixRange(VP.outbox))) out.push(decodeJson<{ tenant: string; event: Record<string, unknown> }>(v, 'outbox entry'));
      return out;
    });
  }

  /** The event is in the log: it leaves the outbox (unsynced: a lost deletion only re-logs it, idempotently). */
  async logged(eventId: string): Promise<void> {
    await this.db.del(outboxKey(eventId));
  }

  async runHeld(tenant: string, runId: string): Promise<boolean> {
    return (await this.db.get(runHoldKey(tenant, runId))) !== undefined;
  }

  /**
   * Whether a legal hold covers the subject behind this pseudonym: a live
   * one (its mapping), or an erased one (its `z` mark names the tag; marks
   * written before they did name none, and are not covered).
   */
  async heldPseudonym(pseudonym: string): Promise<boolean> {
    let tag: Bytes | undefined = await this.db.get(pseudonymKey(pseudonym));
    if (!tag) {
      const z = await this.db.get(erasedSubjectKey(pseudonym));
      const hex = z ? decodeJson<{ tag?: unknown }>(z, 'erasure').tag : undefined;
      tag = typeof hex === 'string' ? fromHex(hex) : undefined;
      if (!tag || tag.length !== 32) return false;
    }
    return this.heldTag(tag);
  }

  /** When a reference's value was erased, if it was (erasedTimes for one). */
  async erasedAt(ref: PiiRef): Promise<number | undefined> {
    const t = await this.erasedTimes([ref.subject], [ref.$pii]);
    return t.subjects.get(ref.subject) ?? t.values.get(ref.$pii);
  }

  /**
   * erasedAt for many references in one LevelDB getMany (a page, an export
   * chunk or a run timeline costs one thread-pool job, not one per
   * reference): when each of these pseudonyms' subjects and each of these
   * pointers' values was erased, for those that were. A reference is erased
   * at its subject's time, else its value's (erasedAt's order).
   */
  async erasedTimes(pseudonyms: readonly string[], pointers: readonly string[]): Promise<{ subjects: Map<string, number>; values: Map<string, number> }> {
    const subjects = new Map<string, number>();
    const values = new Map<string, number>();
    if (pseudonyms.length + pointers.length === 0) return { subjects, values };
    const got = await this.db.getMany([...pseudonyms.map(erasedSubjectKey), ...pointers.map(erasedValueKey)]);
    const at = (v: Bytes) => decodeJson<{ erased_at: number }>(v, 'erasure').erased_at;
    got.forEach((v, i) => {
      if (v === undefined) return;
      if (i < pseudonyms.length) subjects.set(pseudonyms[i]!, at(v));
      else values.set(pointers[i - pseudonyms.length]!, at(v));
    });
    return { subjects, values };
  }

  /**
   * The subjects that may hold values past retention at `now`, from the
   * retention keys (no record is read): those with a bucket begun before
   * `now`, with the ends of their buckets wholly past, and those with a
   * per-record key (older vaults) expired. erase() with a RetentionScope
   * then decides per record.
   */
  async expired(now: number): Promise<{ tag: Bytes; buckets: number[] }[]> {
    const groups = new Map<string, { tag: Bytes; buckets: number[] }>();
    await this.locks.shared([SCAN], async () => {
      for await (const k of this.db.keys(expiredRange(now))) {
        const r = parseRetentionKey(k);
        if (r.kind === 'record' && r.at > now) continue;
        const name = toHex(r.tag);
        let g = groups.get(name);
        if (!g) groups.set(name, (g = { tag: r.tag, buckets: [] }));
        if (r.kind === 'bucket' && r.at <= now) g.buckets.push(r.at);
      }
    });
    return [...groups.values()];
  }

  /** How many of a subject's values are past retention at `now` (a dry run's count). */
  async expiredValues(tag: Bytes, now: number): Promise<number> {
    return this.locks.shared([SCAN], async () => {
      let n = 0;
      for await (const v of this.db.values(valueRange(tag))) if (valueExpiresAt(v) <= now) n += valueCount(v);
      return n;
    });
  }

  /** The tenant and pseudonym of the subject with this tag (a dry run's listing), if it is stored. */
  async describe(tag: Bytes): Promise<{ tenant: string; pseudonym: string } | undefined> {
    const rec = await this.readSubject(tag);
    return rec ? { tenant: rec.tenant, pseudonym: rec.pseudonym } : undefined;
  }

  /** Whether the subject with this tag is under a legal hold (on its record, or set after its erasure). */
  async heldTag(tag: Bytes): Promise<boolean> {
    return !!(await this.readSubject(tag))?.hold || (await this.db.get(erasedHoldKey(tag))) !== undefined;
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

function bucketDeletions(tag: Bytes, ends: Iterable<number>): VaultOp[] {
  return [...ends].map((end) => ({ type: 'del', key: retentionBucketKey(end, tag) }));
}

/** A new subject whose record waits for its first values' batch (Vault.createSubject). */
interface Unwritten {
  readonly handle: SubjectHandle;
  readonly ops: VaultOp[];
}

interface StagingContext {
  readonly writer: GroupWriter;
  readonly locks: RwLocks;
  readonly unwritten: Map<string, Unwritten>;
}

/**
 * One event's staged values (Vault.stage): the writer's item itself, so a
 * staged event costs this one object and its references, no promise or
 * closure of its own (writer.ts says why that matters). Its record is its
 * own put (`key`, `value`); other ops (a bucket key, a new subject, more
 * subjects' records) are rare. It holds its subjects' shared locks
 * (`names`) until its write is done or withdrawn.
 */
class Staged implements StagedValues, WriterItem {
  flush?: Flush;
  key?: Bytes;
  value?: Bytes;
  ops: VaultOp[] = NO_OPS;
  refs: PiiRef[] = [];
  /** New subjects whose records this write carries. */
  creating?: Unwritten[];
  /** Subjects whose retention bucket key this write carries, and that bucket. */
  private marking?: { bucket: number; handles: SubjectHandle[] };
  private held = true;

  constructor(
    private readonly ctx: StagingContext,
    private readonly names: string | string[],
  ) {}

  add(...ops: VaultOp[]): void {
    if (this.ops === NO_OPS) this.ops = ops;
    else this.ops.push(...ops);
  }

  mark(h: SubjectHandle, bucket: number): void {
    if (this.marking) this.marking.handles.push(h);
    else this.marking = { bucket, handles: [h] };
  }

  durable(): Promise<void> {
    return this.ctx.writer.start(this);
  }

  withdraw(): void {
    // Still only staged: it never reaches the disk, and a new subject's record waits for its next values.
    if (this.ctx.writer.withdraw(this)) this.release();
  }

  written(error: unknown): void {
    this.key = this.value = undefined;
    this.release();
    if (error !== undefined) return;
    if (this.creating) for (const u of this.creating) if (this.ctx.unwritten.get(u.handle.name) === u) this.ctx.unwritten.delete(u.handle.name);
    if (this.marking) for (const h of this.marking.handles) h.retained = this.marking.bucket;
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    this.ctx.locks.releaseShared(this.names);
  }
}

/** The references of one subject's sealed record, in its values' order. */
function refsOf(s: SealedRecord, h: SubjectHandle): PiiRef[] {
  const refs: PiiRef[] = new Array(s.pointers.length);
  for (let i = 0; i < refs.length; i++) refs[i] = { $pii: s.pointers[i]!, subject: h.pseudonym, commitment: s.commitments[i]! };
  return refs;
}

/**
 * An event's items by subject, in first-seen order (plain arrays and a
 * linear search: an event names one subject, rarely a few). One subject,
 * the common case, groups `items` as they are.
 */
function bySubject(items: readonly PiiItem[], handles: Map<string, SubjectHandle>): { subjects: SubjectHandle[]; groups: (readonly PiiItem[])[] } {
  const first = items[0]!.subject;
  let one = true;
  for (let i = 1; i < items.length && one; i++) one = items[i]!.subject === first;
  if (one) return { subjects: [handles.get(first)!], groups: [items] };
  const subjects: SubjectHandle[] = [];
  const groups: PiiItem[][] = [];
  for (const item of items) {
    const h = handles.get(item.subject)!;
    const g = subjects.indexOf(h);
    if (g >= 0) groups[g]!.push(item);
    else {
      subjects.push(h);
      groups.push([item]);
    }
  }
  return { subjects, groups };
}

/** References made per subject group, back in `items` order (each group's were made in its items' order). */
function inItemOrder(items: readonly PiiItem[], handles: Map<string, SubjectHandle>, subjects: readonly SubjectHandle[], refs: readonly PiiRef[][]): PiiRef[] {
  const next = new Array<number>(subjects.length).fill(0);
  return items.map((item) => {
    const g = subjects.indexOf(handles.get(item.subject)!);
    return refs[g]![next[g]!++]!;
  });
}

/** An outbox entry for `event` (spec/privacy.md §6: changes and their events are written together). */
function outboxPut(tenant: string, event: Record<string, unknown>): VaultOp {
  return { type: 'put', key: outboxKey(String(event.event_id)), value: encodeJson({ tenant, event }) };
}
