/**
 * The witness (c2sp.org/tlog-witness v1): cosigns a log's checkpoint only if
 * it is signed by the log's key and consistent with the last checkpoint the
 * witness cosigned for that origin. So for each origin the witness's
 * cosignatures form one append-only history: a log that forks (shows two
 * different trees) or rolls back cannot get both sides cosigned.
 *
 * Checks, in the spec's order (status in brackets):
 *   1. the body parses                                     [400 MALFORMED]
 *   2. the origin is followed                              [404 UNKNOWN_LOG]
 *   3. a trusted log key signed it, and every line by a
 *      trusted key verifies                                [403 UNTRUSTED_CHECKPOINT]
 *   4. old ≤ checkpoint size                               [400 MALFORMED]
 *   5. old = the size last cosigned (0 if none)            [409 WITNESS_CONFLICT, body "<size>\n"]
 *   6. size 0 has the empty root; old 0 has no proof;
 *      the proof old → new verifies against the STORED
 *      root (never a root the client sends); equal sizes
 *      have equal roots                                    [422 INCONSISTENT_CHECKPOINT]
 * Steps 5–7 run under a per-origin lock, and the new state is durable before
 * the cosignature is returned (state.ts).
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from '../bytes/index.js';
import { TlogError } from '../errors.js';
import { rfc6962Hasher, verifyConsistency } from '../merkle/index.js';
import { parseCheckpoint, parseNote, signNote, verifyNote, type Checkpoint, type CosignatureSigner, type NoteVerifier } from '../note/index.js';
import { parseAddCheckpoint } from './protocol.js';
import type { WitnessStore } from './state.js';

const hasher = rfc6962Hasher(sha256);

/** A log the witness follows: its origin and the keys trusted to sign its checkpoints. */
export interface FollowedLog {
  origin: string;
  verifiers: readonly NoteVerifier[];
}

/** A request that carried a valid log signature but failed consistency: evidence of a fork or rollback. */
export interface Evidence {
  origin: string;
  /** The checkpoint the witness had cosigned. */
  cosigned: string;
  /** The validly signed, conflicting checkpoint it refused. */
  refused: string;
  reason: string;
}

export interface WitnessOptions {
  store: WitnessStore;
  signer: CosignatureSigner;
  logs: readonly FollowedLog[];
  /** Told about every refused checkpoint that the log really signed. */
  onEvidence?: (e: Evidence) => void;
}

export class Witness {
  private readonly logs = new Map<string, FollowedLog>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: WitnessOptions) {
    for (const l of opts.logs) {
      if (this.logs.has(l.origin)) throw new RangeError(`witness: the origin "${l.origin}" is configured twice`);
      this.logs.set(l.origin, l);
    }
  }

  get name(): string {
    return this.opts.signer.name;
  }

  get verifierKey(): string {
    return this.opts.signer.verifierKey;
  }

  get origins(): string[] {
    return [...this.logs.keys()];
  }

  /**
   * Handles one add-checkpoint body. Returns the cosignature line(s)
   * (`— <name> <base64>\n`), the 200 body.
   * @throws TlogError with the codes listed in the module comment.
   */
  async addCheckpoint(body: string): Promise<string> {
    const req = parseAddCheckpoint(body);
    const note = parseNote(req.checkpoint);
    const checkpoint = parseCheckpoint(note.text);
    const log = this.logs.get(checkpoint.origin);
    if (log === undefined) throw new TlogError('UNKNOWN_LOG', 'this witness does not follow that origin');
    let verified;
    try {
      verified = verifyNote(note, log.verifiers).verified;
    } catch (e) {
      throw new TlogError('UNTRUSTED_CHECKPOINT', `the checkpoint is not validly signed by the log: ${(e as Error).message}`, { cause: e });
    }
    if (req.old > checkpoint.treeSize) throw new TlogError('MALFORMED', `old size ${req.old} is above the checkpoint size ${checkpoint.treeSize}`);
    return this.locked(checkpoint.origin, async () => {
      const stored = await this.opts.store.get(checkpoint.origin);
      const storedSize = stored?.treeSize ?? 0;
      if (req.old !== storedSize) {
        throw new TlogError('WITNESS_CONFLICT', `old size ${req.old} is not the size this witness last cosigned`, { details: { size: storedSize } });
      }
      this.checkConsistency(checkpoint, req.consistencyProof, stored, req.checkpoint);
      // Keep the log signatures we verified, then add ours: the stored note is
      // what the monitoring endpoint serves.
      const cosigned = signNote(note.text, [this.opts.signer], verified);
      const line = cosigned.slice(cosigned.lastIndexOf('\n', cosigned.length - 2) + 1);
      await this.opts.store.put(checkpoint.origin, { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, checkpoint: cosigned });
      return line;
    });
  }

  /** The latest cosigned checkpoint for `origin` (log signatures + this witness's), if any. */
  async latest(origin: string): Promise<string | undefined> {
    if (!this.logs.has(origin)) return undefined;
    return (await this.opts.store.get(origin))?.checkpoint;
  }

  private checkConsistency(
    cp: Checkpoint,
    proof: readonly Uint8Array[],
    stored: { treeSize: number; rootHash: Uint8Array; checkpoint: string } | undefined,
    submitted: string,
  ): void {
    const fail = (reason: string): never => {
      if (stored !== undefined) this.opts.onEvidence?.({ origin: cp.origin, cosigned: stored.checkpoint, refused: submitted, reason });
      throw new TlogError('INCONSISTENT_CHECKPOINT', reason);
    };
    if (cp.treeSize === 0 && !bytesEqual(cp.rootHash, hasher.emptyRoot())) fail('a checkpoint of size 0 must have the empty root');
    if (stored === undefined) {
      if (proof.length !== 0) fail('old 0 needs an empty consistency proof');
      return;
    }
    if (stored.treeSize === cp.treeSize && !bytesEqual(stored.rootHash, cp.rootHash)) {
      fail(`the checkpoint has another root for size ${cp.treeSize} than the one this witness cosigned`);
    }
    try {
      verifyConsistency(hasher, stored.treeSize, cp.treeSize, proof, stored.rootHash, cp.rootHash);
    } catch (e) {
      fail(`the consistency proof from size ${stored.treeSize} does not verify: ${(e as Error).message}`);
    }
  }

  /** Runs `fn` after every earlier call for the same origin settled: the compare-and-swap is atomic. */
  private locked<T>(origin: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(origin) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(origin, tail);
    void tail.then(() => {
      if (this.locks.get(origin) === tail) this.locks.delete(origin);
    });
    return run;
  }
}
