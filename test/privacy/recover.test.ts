/**
 * A crash between the vault's erasure commit and the log append: start-up
 * finds the tombstone whose event is missing from the log and logs it, with
 * the exact bytes the tombstone holds (so a later retry stays idempotent).
 */

import { describe, expect, it } from 'vitest';
import { buildSystemEvent } from '../../src/log/system-events.js';
import { verifyReceipt } from '../../src/verifier/index.js';
import { del, get, makeKey, post, sampleEvent, startTestServer } from '../helpers.js';

describe('erasure recovery at start-up', () => {
  it('re-logs an erasure event cut off before the log append', async () => {
    let t = await startTestServer();
    await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, { pii: { email: { subject: 'cut-off', value: 'cut.off@example.org' } } }));
    const size = t.server.log.head.treeSize;
    // The vault half of an erasure, as if the process died right after it.
    const out = await t.server.vault.erase('acme', 'cut-off', (pseudonym, values) =>
      buildSystemEvent({ action: 'pii.erase', resource: pseudonym, reason: 'DSR-1', metadata: { values, scope: 'subject' } }, {}) as any,
    );
    expect(out.state).toBe('erased');
    expect(t.server.log.head.treeSize).toBe(size);
    const dir = t.dataDir;
    await t.close({ keepData: true });

    t = await startTestServer({}, dir);
    expect(t.server.log.head.treeSize).toBeGreaterThan(size); // the re-logged erasure, then the new keys' events
    const privacy = await makeKey(t.url, t.adminToken, 'privacy', 'acme');
    const r = await del(`${t.url}/v1/subjects/cut-off?reason=DSR-1`, privacy);
    expect(r.json.repeated).toBe(true);
    expect(r.json.receipt.index).toBe(size);
    const vkey = (await get(`${t.url}/v1/log`)).json.verifier_key;
    expect((verifyReceipt(r.json.receipt.tlog_proof, vkey).record.event as any).action.type).toBe('pii.erase');
    await t.close();
  });
});
