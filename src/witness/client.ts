/**
 * The log's client for one witness (c2sp.org/tlog-witness, "log-side duties"):
 * remembers the size the witness last cosigned, sends `old <that size>` with a
 * consistency proof from it, and on 409 learns the witness's size from the
 * body and retries once. A cosignature is accepted only if it verifies with
 * the witness key configured here, over the exact checkpoint sent.
 */

import { checkCosignature, parseNote, type CosignatureVerifier } from '../note/index.js';
import { formatAddCheckpoint, parseSizeBody } from './protocol.js';

/** What a submission ended with, for the log's operator (never secrets). */
export type SubmitOutcome =
  | { ok: true; line: string }
  | { ok: false; reason: 'unreachable' | 'timeout' | 'refused' | 'bad-response' | 'ahead'; status?: number; message: string };

/** Responses above this are not a few cosignature lines. */
const MAX_RESPONSE = 64 * 1024;

export class WitnessClient {
  /** Size the witness last cosigned (or told us in a 409); undefined until we know. */
  private knownSize: number | undefined;
  /** One request at a time per witness: two in flight would race on `old`. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    readonly url: string,
    readonly verifier: CosignatureVerifier,
    private readonly consistencyProof: (from: number, to: number) => Promise<Uint8Array[]>,
  ) {}

  get name(): string {
    return this.verifier.name;
  }

  /**
   * Submits `checkpoint` (size `treeSize`) and resolves with this witness's
   * cosignature line, or why there is none. Never rejects. Waits for this
   * witness's previous submission first; gives up at `deadline` (ms epoch).
   */
  submit(checkpoint: string, treeSize: number, deadline: number): Promise<SubmitOutcome> {
    const run = this.busy.then(() => this.send(checkpoint, treeSize, deadline));
    this.busy = run;
    return run;
  }

  private async send(checkpoint: string, treeSize: number, deadline: number): Promise<SubmitOutcome> {
    try {
      let old = this.knownSize ?? 0;
      for (let attempt = 0; ; attempt++) {
        if (old > treeSize) {
          return { ok: false, reason: 'ahead', message: `the witness has cosigned size ${old}, larger than this log's ${treeSize}: a rollback or a fork of this log` };
        }
        if (deadline - Date.now() <= 0) return { ok: false, reason: 'timeout', message: 'no time left before the deadline' };
        const proof = old === 0 || old === treeSize ? [] : await this.consistencyProof(old, treeSize);
        const remaining = deadline - Date.now();
        const res = await fetch(new URL('add-checkpoint', this.url.endsWith('/') ? this.url : this.url + '/'), {
          method: 'POST',
          body: formatAddCheckpoint({ old, consistencyProof: proof, checkpoint }),
          signal: AbortSignal.timeout(Math.max(1, remaining)),
        });
        const text = await readLimited(res);
        if (res.status === 409 && attempt === 0) {
          const size = parseSizeBody(text);
          if (size === undefined) return { ok: false, reason: 'bad-response', status: 409, message: 'a 409 answer without a size' };
          this.knownSize = size;
          old = size;
          continue;
        }
        if (res.status !== 200) return { ok: false, reason: 'refused', status: res.status, message: `the witness answered ${res.status}: ${text.slice(0, 200)}` };
        const line = this.cosignatureLine(checkpoint, text);
        if (line === undefined) return { ok: false, reason: 'bad-response', status: 200, message: 'no valid cosignature by the configured witness key in the answer' };
        this.knownSize = treeSize;
        return { ok: true, line };
      }
    } catch (e) {
      const timeout = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      return { ok: false, reason: timeout ? 'timeout' : 'unreachable', message: (e as Error).message };
    }
  }

  /** The answer's line by our witness key, if it verifies over `checkpoint`'s text. */
  private cosignatureLine(checkpoint: string, answer: string): string | undefined {
    if (!answer.endsWith('\n') || answer.length > MAX_RESPONSE) return undefined;
    const text = checkpoint.slice(0, checkpoint.lastIndexOf('\n\n') + 1);
    try {
      const note = parseNote(`${text}\n${answer}`);
      const lines = answer.slice(0, -1).split('\n');
      for (const [i, sig] of note.signatures.entries()) {
        if (checkCosignature(note.text, sig, this.verifier)) return lines[i]! + '\n';
      }
    } catch {
      // Not note signature lines: no cosignature.
    }
    return undefined;
  }
}

async function readLimited(res: Response): Promise<string> {
  const len = Number(res.headers.get('content-length'));
  if (Number.isFinite(len) && len > MAX_RESPONSE) {
    await res.body?.cancel();
    return '';
  }
  const text = await res.text();
  return text.length > MAX_RESPONSE ? '' : text;
}
