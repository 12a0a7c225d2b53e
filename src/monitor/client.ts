/**
 * The few reads an auditor makes of a log over HTTP: the checkpoint, proofs,
 * hash tiles and entry bundles (C2SP tlog-tiles paths). Everything it returns
 * is unverified: callers check it against a signed checkpoint.
 */

import { concatBytes, fromBase64 } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { parseEntryBundle, tilePath, type TileId } from '../merkle/index.js';
import { decodeNoteBytes } from '../note/index.js';

export interface LogClientOptions {
  /**
   * Bearer token: sent with every request (an auditor or admin key with
   * tenant `*` reads entry bundles; public reads need one only when the log
   * runs with TLOG_PUBLIC_READS_NEED_TOKEN).
   */
  token?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
}

function unreachable(what: string, status?: number, cause?: unknown, said = ''): TlogError {
  return new TlogError('LOG_UNREACHABLE', `couldn't fetch ${what}${status !== undefined ? `: HTTP ${status}` : ''}${said}`, {
    ...(status !== undefined ? { details: { status } } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** An error answer's own words: the first 4 KiB of its body (a log may send anything), ` CODE: message` if it is our JSON error. */
async function saidBy(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < 4096) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      n += value.length;
    }
  } catch {
    return '';
  } finally {
    void reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(concatBytes(...parts).subarray(0, 4096));
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    // Printed to a terminal: no control characters from a log's answer.
    if (typeof e?.code === 'string' && typeof e.message === 'string') return ` ${e.code}: ${e.message.slice(0, 500)}`.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  } catch {
    // not JSON: the status says it
  }
  return '';
}

/** The log answered 410 Gone: the entry, or an entry of the bundle, was pruned past retention (spec/privacy.md §6). */
export function isGone(e: unknown): boolean {
  return e instanceof TlogError && (e.details as { status?: unknown } | undefined)?.status === 410;
}

function hashes(v: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(v)) throw new TlogError('MALFORMED', `${what}: proof is not a list`);
  return v.map((h) => {
    const b = typeof h === 'string' ? fromBase64(h) : undefined;
    if (b === undefined) throw new TlogError('MALFORMED', `${what}: proof element is not base64`);
    return b;
  });
}

export class LogClient {
  readonly url: string;

  constructor(url: string, private readonly opts: LogClientOptions = {}) {
    this.url = url.replace(/\/+$/, '');
  }

  private async get(path: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/${path}`, {
        headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw unreachable(path, undefined, e);
    }
    if (!res.ok) throw unreachable(path, res.status, undefined, await saidBy(res));
    return res;
  }

  private async bytes(path: string): Promise<Uint8Array> {
    const res = await this.get(path);
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw unreachable(path, undefined, e);
    }
  }

  private async json(path: string): Promise<Record<string, unknown>> {
    const res = await this.get(path);
    try {
      return (await res.json()) as Record<string, unknown>;
    } catch (e) {
      throw new TlogError('MALFORMED', `${path}: the answer is not JSON`, { cause: e });
    }
  }

  /**
   * The latest signed checkpoint, as text: strict UTF-8, a byte-order mark kept (decodeNoteBytes),
   * so bytes that are not exactly a note fail as MALFORMED instead of being mended into one.
   */
  async checkpoint(): Promise<string> {
    return decodeNoteBytes(await this.bytes('checkpoint'));
  }

  /** `{ origin, verifier_key, tree_size, root_hash }` (unauthenticated: never trust the key from here). */
  async logInfo(): Promise<Record<string, unknown>> {
    return this.json('v1/log');
  }

  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    return hashes((await this.json(`v1/proofs/consistency?from=${from}&to=${to}`)).proof, 'consistency proof');
  }

  /** The inclusion proof of an entry (by index or leaf hash) in the tree of `treeSize`. @throws TlogError BAD_PROOF if asked by index and the answer is about another entry. */
  async inclusionProof(q: { index: number } | { leafHash: string }, treeSize: number): Promise<{ index: number; proof: Uint8Array[] }> {
    const sel = 'index' in q ? `index=${q.index}` : `leaf_hash=${encodeURIComponent(q.leafHash)}`;
    const j = await this.json(`v1/proofs/inclusion?${sel}&tree_size=${treeSize}`);
    if (typeof j.index !== 'number' || !Number.isSafeInteger(j.index)) throw new TlogError('MALFORMED', 'inclusion proof: no index');
    // A proof of another entry is no answer: it would verify (against that entry's leaf) and prove the wrong thing.
    if ('index' in q && j.index !== q.index) throw new TlogError('BAD_PROOF', `inclusion proof: asked for entry ${q.index}, the log answered for entry ${j.index}`);
    return { index: j.index, proof: hashes(j.proof, 'inclusion proof') };
  }

  /**
   * One entry's leaf (`GET /v1/entries/<index>`, the token's key sees every
   * tenant), or undefined when the log answers 410: the entry was pruned.
   */
  async entryLeaf(index: number): Promise<Uint8Array | undefined> {
    const path = `v1/entries/${index}`;
    let leaf: unknown;
    try {
      leaf = (await this.json(path)).leaf;
    } catch (e) {
      if (isGone(e)) return undefined;
      throw e;
    }
    const b = typeof leaf === 'string' ? fromBase64(leaf) : undefined;
    if (b === undefined) throw new TlogError('MALFORMED', `${path}: no base64 leaf`);
    return b;
  }

  /**
   * A hash tile or entry bundle by its tlog-tiles path. Entry bundles need the token.
   * c2sp.org/tlog-tiles lets a log delete a partial tile once the full one exists: a partial
   * answered 404 is read as the full tile's first `width` hashes or entries. The full tile must
   * be one (8,192 bytes; 256 entries), else BAD_TILE with `details: { path, served }` (the
   * monitor's evidence); the prefix returned is then checked by the caller like any tile.
   */
  async tile(id: TileId): Promise<Uint8Array> {
    try {
      return await this.bytes(tilePath(id));
    } catch (e) {
      if (id.width === 256 || (e as TlogError).details?.status !== 404) throw e;
    }
    const fullId = { ...id, width: 256 };
    let full: Uint8Array;
    try {
      full = await this.bytes(tilePath(fullId));
    } catch (e) {
      if ((e as TlogError).details?.status !== 404) throw e;
      throw new TlogError('LOG_UNREACHABLE', `couldn't fetch ${tilePath(id)}: HTTP 404, and no full tile ${tilePath(fullId)} in its place: HTTP 404`, { details: { status: 404 }, cause: e });
    }
    const entries = id.level === 'entries';
    const leaves = entries ? parseEntryBundle(full) : undefined;
    if (entries ? leaves?.length !== 256 : full.length !== 256 * 32)
      throw new TlogError('BAD_TILE', `${tilePath(id)} is gone (404), and ${tilePath(fullId)} in its place is not a full ${entries ? 'entry bundle (256 entries)' : 'hash tile (256 hashes)'}`, {
        details: { path: tilePath(fullId), served: full },
      });
    return full.subarray(0, leaves ? leaves.slice(0, id.width).reduce((n, l) => n + 2 + l.length, 0) : id.width * 32);
  }
}
