// spec/scrubbing.md stays true: every kind of the default tables is documented,
// its example rules file loads, and the behaviour it states holds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileRules, DEFAULT_KEY_RULES, DEFAULT_RULES, loadRulesFile, scrubText, UNSCANNED_KIND, withDefaults } from '../../src/scrub/index.js';

const spec = readFileSync(new URL('../../spec/scrubbing.md', import.meta.url), 'utf8');
const rules = compileRules();

describe('spec/scrubbing.md', () => {
  it('documents every default kind', () => {
    const kinds = new Set([...DEFAULT_RULES.map((r) => r.kind), ...DEFAULT_KEY_RULES.map((r) => r.kind), UNSCANNED_KIND]);
    for (const k of kinds) expect(spec, k).toMatch(new RegExp(`\\| \`${k}\` \\||\`${k}\` marks`));
  });

  it('its example rules file loads and extends the defaults', () => {
    const json = /```json\n([\s\S]*?)```/.exec(spec)![1]!;
    const c = compileRules(withDefaults(loadRulesFile(json)));
    expect(scrubText(`PIN 1234 and acme_${'a1B2'.repeat(6)}`, c)).toBe('PIN [REDACTED:employee_pin] and [REDACTED:acme_token]');
  });

  it.each([
    ['password: reset', 'password: [REDACTED:password]'],
    ['pg_dump --db-password s3cret --host db', 'pg_dump --db-password [REDACTED:password] --host db'],
    ['curl -H "X-Auth-Token: abc123def"', 'curl -H "X-Auth-Token: [REDACTED:token]"'],
    ['run --auth-token abc123def', 'run --auth-token [REDACTED:token]'],
    ['tool --password --verbose', 'tool --password --verbose'],
    // Command lines: tool-anchored flags, quotes kept, the database after `-p ` kept, every flag of a command.
    ["mysql -p'hunter2x' -h db app", "mysql -p'[REDACTED:password]' -h db app"],
    ['mysql -u root -p dbname', 'mysql -u root -p dbname'],
    ['sshpass -f pw ssh -p 2222 host', 'sshpass -f pw ssh -p 2222 host'],
    ['rman target sys/Pw1@prod catalog rco/Pw2@cat', 'rman target sys/[REDACTED:password]@prod catalog rco/[REDACTED:password]@cat'],
    ['openssl enc -pass env:PW -k Pw3 -in f', 'openssl enc -pass env:PW -k [REDACTED:password] -in f'],
    ['keytool -list -storepass:env STOREPASS', 'keytool -list -storepass:env STOREPASS'],
    ['docker run --rm img zip -P Leaks a.zip', 'docker run --rm img zip -P Leaks a.zip'],
    ['docker exec db zip -P S3cret a.zip', 'docker exec db zip -P [REDACTED:password] a.zip'],
    ['ssh host -t mysql -pS3cret', 'ssh host -t mysql -p[REDACTED:password]'],
    ['ssh -t mysql -p2222', 'ssh -t mysql -p2222'],
    ['docker exec -it db mysql -pS3cret', 'docker exec -it db mysql -p[REDACTED:password]'],
    ['MYSQL.EXE -pS3cret', 'MYSQL.EXE -p[REDACTED:password]'],
    ['docker run --name mongo -p 27017:27017 mongo', 'docker run --name mongo -p 27017:27017 mongo'],
    ['echo mysql -pOverRedacted', 'echo mysql -p[REDACTED:password]'],
    ['grep -r mysql -p .', 'grep -r mysql -p .'],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});
