/**
 * End to end: every secret of the corpus, sent in every field of an event
 * (and in headers, purposes and reasons), reaches no leaf, no file of the
 * data folder and no line of the server's log output.
 */

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { decodeLeaf } from '../../src/verifier/index.js';
import { spawnServer, type Child } from '../child.js';
import { del, get, post, tempDir } from '../helpers.js';
import { corpusEvent, SECRET_CORPUS } from '../scrub/corpus.js';
import { byteSearch } from './helpers.js';

describe('no secret reaches the data folder or the log output', () => {
  let dir: string;
  let child: Child | undefined;
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scrubs the whole corpus in every field', async () => {
    dir = await tempDir('tlog-secrets-');
    child = await spawnServer(dir, ['--log-level', 'debug']);
    let output = '';
    child.proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const url = child.url;
    const admin = (await readFile(join(dir, 'admin.token'), 'utf8')).trim();
    const agent = (await post(`${url}/v1/keys`, admin, { role: 'agent', tenant: 'acme' })).json.token;
    const privacy = (await post(`${url}/v1/keys`, admin, { role: 'privacy', tenant: 'acme' })).json.token;

    for (const entry of SECRET_CORPUS) {
      const { event, placements } = corpusEvent(entry);
      const r = await post(`${url}/v1/events`, agent, event);
      expect(r.status, entry.name).toBe(201);
      const leaf = fromBase64(r.json.tlog_proof.split('\n')[1].slice('extra '.length))!;
      const text = Buffer.from(leaf).toString('latin1');
      for (const s of entry.secrets) expect(text, `${entry.name} in the leaf`).not.toContain(s);
      const stored = decodeLeaf(leaf).event as any;
      const paths = new Set(stored.scrubbed.map((x: { path: string }) => x.path));
      // Every placement is recorded (pii values by their path in the submitted event).
      for (const p of placements) expect(paths.has(p.path), `${entry.name}: ${p.path}`).toBe(true);
      // Secrets in a header, a purpose and a reason.
      await get(`${url}/v1/keys`, entry.text.replace(/\s/g, '').slice(0, 200));
      await get(`${url}/v1/subjects/subject-1?purpose=${encodeURIComponent(entry.text.slice(0, 400))}`, privacy);
    }
    // A client may not claim what was scrubbed.
    const claimed = await post(`${url}/v1/events`, agent, { actor: { type: 'agent', id: 'a' }, action: { type: 't' }, scrubbed: [] });
    expect(claimed.json.error.code).toBe('UNKNOWN_FIELDS');
    expect((await del(`${url}/v1/subjects/subject-1?reason=${encodeURIComponent(SECRET_CORPUS[0]!.text.slice(0, 400))}`, privacy)).status).toBe(200);

    child.proc.kill('SIGTERM');
    await child.exited;
    child = undefined;
    const needles: Record<string, string> = {};
    SECRET_CORPUS.forEach((e, i) => e.secrets.forEach((s, j) => (needles[`${e.name}#${i}.${j}`] = s)));
    expect(await byteSearch(dir, needles)).toEqual([]);
    const inOutput = Object.entries(needles).filter(([, s]) => output.includes(s)).map(([k]) => k);
    expect(inOutput).toEqual([]);
    expect(output).toContain('shutting down'); // the capture did see the log
  }, 120_000);
});
