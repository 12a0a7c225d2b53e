/**
 * Once some of a batch's events are in the log, nothing fails the whole
 * batch: an unexpected error is answered for its item alone (500 INTERNAL,
 * generic message, logged), and the other items keep their receipts. A 5xx
 * for the batch would invite a retry that appends its server-assigned
 * events a second time.
 */

import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/verifier/index.js';
import { get, post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

describe('batch answers per item after the commit', () => {
  let t: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    t = await startTestServer({}, undefined, { logger: pino({ level: 'info' }, sink) });
  });
  afterAll(() => t.close());

  it('a receipt that fails with a plain Error answers that item 500 INTERNAL; the rest get verifiable receipts', async () => {
    const log = t.server.log;
    const original = log.receipt.bind(log);
    let calls = 0;
    log.receipt = async (a) => {
      if (calls++ === 3) throw new Error('disk on fire /secret/path');
      return original(a);
    };
    try {
      const r = await post(`${t.url}/v1/events/batch`, t.agentToken, { events: Array.from({ length: 70 }, (_, i) => sampleEvent(i)) });
      expect(r.status).toBe(200);
      const results = r.json.results as { status: number; error?: { code: string; message: string } }[];
      expect(results).toHaveLength(70);
      const failed = results.filter((x) => x.status === 500);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.error).toEqual({ code: 'INTERNAL', message: 'internal error' });
      expect(results.filter((x) => x.status === 201)).toHaveLength(69);
      const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
      for (const x of results.filter((y) => y.status === 201) as unknown as { tlog_proof: string }[]) expect(() => verifyReceipt(x.tlog_proof, vkey)).not.toThrow();
      expect(lines.some((l) => l.includes('batch item failed'))).toBe(true);
    } finally {
      log.receipt = original;
    }
  });
});
