/** kill -9 right after an erasure is acknowledged: nothing of the subject is on disk, and the erasure stays logged. */

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { childKey, spawnServer, type Child } from '../child.js';
import { del, get, post, sampleEvent, tempDir } from '../helpers.js';
import { byteSearch } from './helpers.js';

const VALUE = 'kill9.subject.value.5521@example.net';
const SUBJECT = 'kill9-subject-77aa';

describe('erasure then kill -9', () => {
  let dir: string;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('leaves no byte behind and the erasure receipt and old receipts verify after restart', async () => {
    dir = await tempDir('tlog-erase-crash-');
    child = await spawnServer(dir);
    const agent = await childKey(child, dir, 'agent', 'acme');
    const privacy = await childKey(child, dir, 'privacy', 'acme');
    const vkey = (await get(`${child.url}/v1/log`)).json.verifier_key;
    const receipts = [];
    for (let i = 0; i < 20; i++) {
      const r = await post(`${child.url}/v1/events`, agent, sampleEvent(i, { pii: { email: { subject: SUBJECT, value: VALUE } } }));
      expect(r.status).toBe(201);
      receipts.push(r.json);
    }
    const erased = await del(`${child.url}/v1/subjects/${SUBJECT}?reason=DSR-9`, privacy);
    expect(erased.status).toBe(200);
    child.proc.kill('SIGKILL');
    await child.exited;

    expect(await byteSearch(dir, { VALUE, SUBJECT })).toEqual([]);
    child = await spawnServer(dir);
    expect(await byteSearch(dir, { VALUE, SUBJECT })).toEqual([]);
    for (const r of [...receipts, erased.json.receipt]) expect(verifyReceipt(r.tlog_proof, vkey).index).toBe(r.index);
    const again = await del(`${child.url}/v1/subjects/${SUBJECT}?reason=DSR-9`, privacy);
    expect(again.json.receipt.index).toBe(erased.json.receipt.index);
    child.proc.kill('SIGKILL');
    await child.exited;
    child = undefined;
  });
});
