// Defects a review found in the rules added for curl, SQL, `pass`, XML and built Authorization
// values: each case here failed on the version before its fix (the secrets in SECRET_CORPUS and
// the ordinary strings in NOT_SECRETS, test/scrub/corpus.ts, cover them in events too).
import { describe, expect, it } from 'vitest';
import { compileRules, scrubText } from '../../src/scrub/index.js';

const rules = compileRules();
const R = (kind: string) => `[REDACTED:${kind}]`;

describe('curl -u: the user part is bounded', () => {
  it('reads a user of up to 256 characters, not a longer run (a long word without `:` is not scanned to its end)', () => {
    const u256 = 'u'.repeat(256);
    expect(scrubText(`curl -u ${u256}:S3cretpw https://x`, rules)).toBe(`curl -u ${u256}:${R('basic_auth')} https://x`);
    expect(scrubText(`curl -u '${u256}:pa ss' https://x`, rules)).toBe(`curl -u '${u256}:${R('basic_auth')}' https://x`);
    const u257 = 'u'.repeat(257);
    expect(scrubText(`curl -u ${u257}:S3cretpw https://x`, rules)).toBe(`curl -u ${u257}:S3cretpw https://x`);
  });

  it.each([
    ['curl -sSfu admin:S3cretpw https://x', `curl -sSfu admin:${R('basic_auth')} https://x`],
    ["curl -u 'admin:pa ss' https://x", `curl -u 'admin:${R('basic_auth')}' https://x`],
    ['curl --user=admin:S3cretpw https://x', `curl --user=admin:${R('basic_auth')} https://x`],
    ['{"cmd":"curl -sSu \\"admin:pa ss\\" https://x"}', `{"cmd":"curl -sSu \\"admin:${R('basic_auth')}\\" https://x"}`],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});
