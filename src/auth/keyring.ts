/**
 * API keys: role + tenant, token stored only as its SHA-256.
 *
 * Tokens are 256-bit random strings, so a fast hash is enough (no password
 * stretching needed). Look-up is by SHA-256(token): an attacker cannot steer
 * that hash towards a stored one, so the map look-up leaks nothing useful,
 * and the matched hash is then compared with timingSafeEqual. There is no
 * cache keyed by the raw token (a string-keyed map compares secret bytes
 * with an early exit).
 *
 * Lifecycle (spec/security.md §Keys): `expires_at`; after a rotation the old
 * token keeps working until `previous_token_expires_at` (the grace period);
 * revocation ends both tokens at once. `last_used_at` is kept in memory at
 * minute resolution and written by `flushUsage()` (the server calls it on a
 * timer and on close), so authenticating never writes to storage.
 *
 * A key change and the event that logs it (key-events.ts) are written
 * together: the methods that change a key take `eventFor`, and its event goes
 * into the key-event outbox in the key record's own synced batch. The caller
 * logs it and calls `eventLogged`; start-up re-logs what a crash left there.
 */

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { toHex } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import type { AuditEvent } from '../events/index.js';
import type { LogStore } from '../storage/store.js';
import type { Role } from './roles.js';

export interface ApiKey {
  id: string;
  role: Role;
  tenant: string;
  note?: string;
  created_at: string;
  expires_at?: string;
  revoked_at?: string;
  /** base64 SHA-256 of the token. */
  token_hash: string;
  /** When the token was last replaced. */
  rotated_at?: string;
  /** base64 SHA-256 of the token before the last rotation, valid until previous_token_expires_at. */
  previous_token_hash?: string;
  previous_token_expires_at?: string;
  /** base64 Ed25519 public key: when set, this key's events must carry a valid agent_signature. */
  agent_public_key?: string;
  /** Last successful authentication, minute resolution. */
  last_used_at?: string;
}

/** A key change's event: where it is logged, and the event itself (event_id included). */
export interface PendingKeyEvent {
  tenant: string;
  event: AuditEvent;
}

/** Builds the event of a change from the key as changed; `undefined`: the change is not logged (tests). */
export type KeyEventFor<P extends PendingKeyEvent | undefined> = (key: ApiKey) => P;

/** The public view of a key (never a token or a token hash). */
export function describeKey(k: ApiKey): Omit<ApiKey, 'token_hash' | 'previous_token_hash'> {
  const { token_hash: _, previous_token_hash: __, ...rest } = k;
  return rest;
}

const TOKEN_PREFIX = 'atlk_';
/** last_used_at changes at most once per key per this many ms. */
export const USAGE_RESOLUTION_MS = 60_000;

export interface KeyChanges {
  expires_at?: string;
  /** A new agent public key; null removes it. */
  agent_public_key?: string | null;
}

/** A key with its times parsed once (authentication runs on every request). */
interface Entry {
  key: ApiKey;
  expiresMs: number;
  previousUntilMs: number;
  lastUsedMs: number;
}

/** Parsed ISO time, or `fallback` when absent. */
const ms = (iso: string | undefined, fallback: number) => (iso === undefined ? fallback : Date.parse(iso));

/** SHA-256 of a token (node:crypto one-shot on the string: no encoder, no copy). */
const tokenHash = (token: string): Buffer => hash('sha256', token, 'buffer');

export class KeyRing {
  private readonly byId = new Map<string, Entry>();
  /** base64 SHA-256(token) → key id, which of its tokens it is, and the hash bytes for the constant-time compare. */
  private readonly byHash = new Map<string, { id: string; previous: boolean; hash: Buffer }>();
  /** Keys whose last_used_at changed since the last flush. */
  private readonly dirty = new Set<string>();
  /** Key records are written one after another, so a usage flush never overwrites a newer revoke. */
  private writes: Promise<void> = Promise.resolve();
  /** Storage writes made by flushUsage (observable so tests can prove requests don't write). */
  usageWrites = 0;

  private constructor(
    private readonly store: LogStore,
    /** The ring's clock (Unix ms); injectable for expiry and grace tests. */
    readonly now: () => number,
  ) {}

  static async load(store: LogStore, now: () => number = Date.now): Promise<KeyRing> {
    const ring = new KeyRing(store, now);
    for await (const rec of store.keyRecords()) ring.index(rec as ApiKey);
    return ring;
  }

  private index(k: ApiKey): void {
    const old = this.byId.get(k.id)?.key;
    if (old) {
      this.byHash.delete(old.token_hash);
      if (old.previous_token_hash !== undefined) this.byHash.delete(old.previous_token_hash);
    }
    this.byId.set(k.id, {
      key: k,
      expiresMs: ms(k.expires_at, Infinity),
      previousUntilMs: ms(k.previous_token_expires_at, -Infinity),
      lastUsedMs: ms(k.last_used_at, -Infinity),
    });
    this.byHash.set(k.token_hash, { id: k.id, previous: false, hash: Buffer.from(k.token_hash, 'base64') });
    if (k.previous_token_hash !== undefined)
      this.byHash.set(k.previous_token_hash, { id: k.id, previous: true, hash: Buffer.from(k.previous_token_hash, 'base64') });
  }

  private persist(k: ApiKey, pending?: PendingKeyEvent): Promise<void> {
    // The record and its pending event: one synced batch (store.putKeyRecord).
    const p = this.writes.then(() => this.store.putKeyRecord(k.id, k, pending));
    this.writes = p.catch(() => undefined);
    return p;
  }

  get size(): number {
    return this.byId.size;
  }

  /** The live key for a bearer token, or undefined (unknown, revoked, expired, or an old token past its grace). */
  authenticate(token: string): ApiKey | undefined {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return undefined;
    const h = tokenHash(token);
    const hit = this.byHash.get(h.toString('base64'));
    const e = hit && this.byId.get(hit.id);
    if (!hit || !e || !timingSafeEqual(hit.hash, h)) return undefined;
    const now = this.now();
    if (e.key.revoked_at !== undefined || e.expiresMs <= now) return undefined;
    if (hit.previous && e.previousUntilMs <= now) return undefined;
    return this.touch(e, now);
  }

  private touch(e: Entry, now: number): ApiKey {
    if (now - e.lastUsedMs < USAGE_RESOLUTION_MS) return e.key;
    e.key = { ...e.key, last_used_at: new Date(now).toISOString() };
    e.lastUsedMs = now;
    this.dirty.add(e.key.id);
    return e.key;
  }

  /** Writes the changed last_used_at values: one write per used key, whatever the number of requests. */
  async flushUsage(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      ids.map((id) => {
        this.usageWrites++;
        // Read at write time (inside persist's queue): the newest record wins.
        const p = this.writes.then(() => {
          const k = this.byId.get(id)?.key;
          return k ? this.store.putKeyRecord(id, k) : undefined;
        });
        this.writes = p.catch(() => undefined);
        return p;
      }),
    );
  }

  list(): ApiKey[] {
    return [...this.byId.values()].map((e) => e.key);
  }

  get(id: string): ApiKey | undefined {
    return this.byId.get(id)?.key;
  }

  private newToken(): { token: string; hash: string } {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    return { token, hash: tokenHash(token).toString('base64') };
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** Key changes' events a crash left in the outbox (written, perhaps not logged). */
  async pendingEvents(): Promise<PendingKeyEvent[]> {
    return (await this.store.pendingKeyEvents()) as PendingKeyEvent[];
  }

  /** The event is in the log: it leaves the outbox. */
  async eventLogged(eventId: string): Promise<void> {
    await this.store.keyEventLogged(eventId);
  }

  /**
   * Creates a key; the token is returned only here. `beforeStore` receives the token before the key is stored: the first
   * admin key's token is written to its file first, so a crash can leave a
   * file whose key was never stored (replaced at the next start), never a
   * stored key whose token is lost.
   */
  async create<P extends PendingKeyEvent | undefined = undefined>(
    spec: { role: Role; tenant: string; note?: string; expires_at?: string; agent_public_key?: string },
    eventFor?: KeyEventFor<P>,
    opts: { beforeStore?: (token: string) => Promise<void> } = {},
  ): Promise<{ key: ApiKey; token: string; pending: P }> {
    const { token, hash } = this.newToken();
    const key: ApiKey = {
      id: `key_${toHex(new Uint8Array(randomBytes(8)))}`,
      role: spec.role,
      tenant: spec.tenant,
      created_at: this.iso(this.now()),
      token_hash: hash,
      ...(spec.note !== undefined ? { note: spec.note } : {}),
      ...(spec.expires_at !== undefined ? { expires_at: spec.expires_at } : {}),
      ...(spec.agent_public_key !== undefined ? { agent_public_key: spec.agent_public_key } : {}),
    };
    const pending = eventFor?.(key) as P;
    await opts.beforeStore?.(token);
    await this.persist(key, pending);
    this.index(key);
    return { key, token, pending };
  }

  /** Revokes the key: its current and any previous token stop working at once. */
  async revoke<P extends PendingKeyEvent | undefined = undefined>(id: string, eventFor?: KeyEventFor<P>): Promise<{ key: ApiKey; pending: P | undefined }> {
    const k = this.get(id);
    if (!k) throw new TlogError('NOT_FOUND', `no key ${id}`);
    // Revoked already: no change, nothing to log.
    if (k.revoked_at !== undefined) return { key: k, pending: undefined };
    const { previous_token_hash: _, previous_token_expires_at: __, ...rest } = k;
    const updated: ApiKey = { ...rest, revoked_at: this.iso(this.now()) };
    const pending = eventFor?.(updated) as P;
    await this.persist(updated, pending);
    this.index(updated);
    return { key: updated, pending };
  }

  /**
   * Gives the key a new token. The old token keeps working for `graceSeconds`
   * (0: it stops at once); a token from an earlier rotation stops now, so at
   * most two tokens are ever valid.
   */
  async rotate<P extends PendingKeyEvent | undefined = undefined>(
    id: string,
    graceSeconds: number,
    changes: KeyChanges = {},
    eventFor?: KeyEventFor<P>,
  ): Promise<{ key: ApiKey; token: string; pending: P }> {
    const k = this.get(id);
    if (!k || k.revoked_at !== undefined) throw new TlogError('NOT_FOUND', `no live key ${id}`);
    const { token, hash } = this.newToken();
    const now = this.now();
    const { previous_token_hash: _, previous_token_expires_at: __, agent_public_key: oldPub, ...rest } = k;
    const pub = changes.agent_public_key === undefined ? oldPub : (changes.agent_public_key ?? undefined);
    const updated: ApiKey = {
      ...rest,
      token_hash: hash,
      rotated_at: this.iso(now),
      ...(graceSeconds > 0 ? { previous_token_hash: k.token_hash, previous_token_expires_at: this.iso(now + graceSeconds * 1000) } : {}),
      ...(changes.expires_at !== undefined ? { expires_at: changes.expires_at } : {}),
      ...(pub !== undefined ? { agent_public_key: pub } : {}),
    };
    const pending = eventFor?.(updated) as P;
    await this.persist(updated, pending);
    this.index(updated);
    return { key: updated, token, pending };
  }
}
