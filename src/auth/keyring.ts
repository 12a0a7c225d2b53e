/**
 * API keys: role + tenant, token stored only as its SHA-256.
 *
 * Tokens are 256-bit random strings, so a fast hash is enough (no password
 * stretching needed), and the lookup by hash does not depend on secret bytes.
 * The matched hash is still compared with timingSafeEqual as a second gate.
 */

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fromBase64, toBase64, toHex } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import type { LogStore } from '../storage/store.js';
import { ALL_TENANTS, type Role } from './roles.js';

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
}

/** The public view of a key (never the token or its hash). */
export function describeKey(k: ApiKey): Omit<ApiKey, 'token_hash'> {
  const { token_hash: _, ...rest } = k;
  return rest;
}

const TOKEN_PREFIX = 'atlk_';

export class KeyRing {
  private readonly byId = new Map<string, ApiKey>();
  private readonly byHash = new Map<string, ApiKey>();
  /** token → key, so the hot path skips hashing; emptied on every key change. */
  private readonly recent = new Map<string, ApiKey>();

  private constructor(
    private readonly store: LogStore,
    private readonly sha256: (b: Uint8Array) => Uint8Array,
    private readonly now: () => number,
  ) {}

  static async load(store: LogStore, sha256: (b: Uint8Array) => Uint8Array, now: () => number = Date.now): Promise<KeyRing> {
    const ring = new KeyRing(store, sha256, now);
    for await (const rec of store.keyRecords()) ring.index(rec as ApiKey);
    return ring;
  }

  private index(k: ApiKey): void {
    this.recent.clear();
    const old = this.byId.get(k.id);
    if (old) this.byHash.delete(old.token_hash);
    this.byId.set(k.id, k);
    this.byHash.set(k.token_hash, k);
  }

  get size(): number {
    return this.byId.size;
  }

  private hashToken(token: string): string {
    return toBase64(this.sha256(new TextEncoder().encode(token)));
  }

  /** The live key for a bearer token, or undefined (unknown, revoked or expired). */
  authenticate(token: string): ApiKey | undefined {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 128) return undefined;
    let k = this.recent.get(token);
    if (k === undefined) {
      const hash = this.hashToken(token);
      k = this.byHash.get(hash);
      if (!k || !timingSafeEqual(fromBase64(k.token_hash)!, fromBase64(hash)!)) return undefined;
      if (this.recent.size >= 10_000) this.recent.clear();
      this.recent.set(token, k);
    }
    if (k.revoked_at !== undefined) return undefined;
    if (k.expires_at !== undefined && Date.parse(k.expires_at) <= this.now()) return undefined;
    return k;
  }

  list(): ApiKey[] {
    return [...this.byId.values()];
  }

  get(id: string): ApiKey | undefined {
    return this.byId.get(id);
  }

  private newToken(): { token: string; hash: string } {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    return { token, hash: this.hashToken(token) };
  }

  /** Creates a key; the token is returned only here. */
  async create(spec: { role: Role; tenant: string; note?: string; expires_at?: string }): Promise<{ key: ApiKey; token: string }> {
    const { token, hash } = this.newToken();
    const key: ApiKey = {
      id: `key_${toHex(new Uint8Array(randomBytes(8)))}`,
      role: spec.role,
      tenant: spec.tenant,
      created_at: new Date(this.now()).toISOString(),
      token_hash: hash,
      ...(spec.note !== undefined ? { note: spec.note } : {}),
      ...(spec.expires_at !== undefined ? { expires_at: spec.expires_at } : {}),
    };
    await this.store.putKeyRecord(key.id, key);
    this.index(key);
    return { key, token };
  }

  async revoke(id: string): Promise<ApiKey> {
    const k = this.byId.get(id);
    if (!k) throw new TlogError('NOT_FOUND', `no key ${id}`);
    if (k.revoked_at !== undefined) return k;
    const updated = { ...k, revoked_at: new Date(this.now()).toISOString() };
    await this.store.putKeyRecord(id, updated);
    this.index(updated);
    return updated;
  }

  /** Replaces the key's token; the old token stops working at once. */
  async rotate(id: string): Promise<{ key: ApiKey; token: string }> {
    const k = this.byId.get(id);
    if (!k || k.revoked_at !== undefined) throw new TlogError('NOT_FOUND', `no live key ${id}`);
    const { token, hash } = this.newToken();
    const updated = { ...k, token_hash: hash };
    await this.store.putKeyRecord(id, updated);
    this.index(updated);
    return { key: updated, token };
  }
}

/** True if the key may act on `tenant`'s data. */
export function keyCoversTenant(k: ApiKey, tenant: string): boolean {
  return k.tenant === ALL_TENANTS || k.tenant === tenant;
}
