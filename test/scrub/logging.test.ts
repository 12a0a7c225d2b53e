/** The server's logger scrubs every string field, the message and errors before a line is written. */

import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { compileRules, withDefaults } from '../../src/scrub/index.js';
import { SECRET_CORPUS } from './corpus.js';

describe('createLogger', () => {
  it('writes no corpus secret, in fields, messages, nested objects or errors', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(s) }, compileRules(withDefaults(undefined)));
    for (const e of SECRET_CORPUS) {
      log.info({ detail: e.text, nested: { list: [e.text] }, token: e.text }, `request failed: ${e.text}`);
      log.error({ err: new Error(`cannot connect: ${e.text}`) }, 'unexpected error');
    }
    expect(lines.length).toBe(SECRET_CORPUS.length * 2);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    const all = lines.join('');
    for (const e of SECRET_CORPUS) for (const s of e.secrets) expect(all, e.name).not.toContain(s);
    expect(all).toContain('[REDACTED:');
  });
});
