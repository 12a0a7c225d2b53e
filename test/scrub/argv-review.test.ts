// Defects a review found in the joint reading of argument arrays (test/scrub/argv.test.ts): each
// case here failed on the first version of it.
import { describe, expect, it } from 'vitest';
import { compileRules, scrubEvent, scrubText } from '../../src/scrub/index.js';

const rules = compileRules();
const R = (kind: string) => `[REDACTED:${kind}]`;
const P = R('password');

const once = (v: unknown) => scrubEvent({ metadata: { v } }, rules);
const scrubbedArray = (v: string[]) => once(v).event.metadata.v as string[];

/**
 * Scrubbing the result again changes nothing and reports nothing (but `unscanned`: a string cut
 * at the scan bound whose result is still longer than it is reported again, unchanged, as a
 * string is).
 */
const expectIdempotent = (v: unknown) => {
  const first = once(v);
  const second = scrubEvent(first.event, rules);
  expect(second.event).toEqual(first.event);
  expect(second.scrubbed.filter((e) => e.kind !== 'unscanned')).toEqual([]);
};

describe('arrays of lines: a key element does not take the next element as its value', () => {
  it.each([
    [['Password:', 'Sorry, try again.']],
    [['Enter password: ', 'Database', 'information_schema']],
    [['api_key:', '  description: the key used for X']],
    [['Cookie:', 'Accept:']],
    [['Authorization:', 'Content-Type:']],
    [['Username:', 'Password:', 'Remember me']],
    [['token:', 'none yet']],
    [['secret =', 'see the vault']],
    [['_authToken=', 'unset']],
    [['Proxy-Authorization:', 'Basic realm']],
  ])('%j', (lines) => {
    const r = once(lines);
    expect(r.event.metadata.v).toEqual(lines);
    expect(r.scrubbed).toEqual([]);
  });

  it('keeps an Ansible stdout_lines array, and still redacts a secret inside one line', () => {
    const stdout_lines = ['Password:', 'Sorry, try again.', 'mysql: [Warning] Using a password', 'DB_PASSWORD=hunter2'];
    const r = scrubEvent({ metadata: { result: { stdout_lines } } }, rules);
    expect(r.event.metadata.result.stdout_lines).toEqual(['Password:', 'Sorry, try again.', 'mysql: [Warning] Using a password', `DB_PASSWORD=${P}`]);
    expect(r.scrubbed).toEqual([{ path: 'metadata.result.stdout_lines[3]', kind: 'password' }]);
  });

  it('still reads flags across elements', () => {
    expect(scrubbedArray(['pg_dump', '--password', 'S3cret', 'db'])).toEqual(['pg_dump', '--password', P, 'db']);
    expect(scrubbedArray(['app', '--api-key', 'abc123', 'run'])).toEqual(['app', '--api-key', R('api_key'), 'run']);
    expect(scrubbedArray(['npm', 'config', 'set', '//r.example/:_authToken', 'abc-123'])).toEqual([
      'npm',
      'config',
      'set',
      '//r.example/:_authToken',
      R('npm_token'),
    ]);
  });
});

describe('an element longer than the scan bound', () => {
  it('does not keep the joint reading from the first scrub', () => {
    const big = `password=${'A'.repeat(65_600)}`;
    const r = once(['mysql', '-pS3cret', big]);
    const out = r.event.metadata.v as string[];
    expect(out[1]).toBe(`-p${P}`);
    expect(out[2]!.endsWith(R('unscanned'))).toBe(true);
    expectIdempotent(['mysql', '-pS3cret', big]);
  });

  it('finds the password before a long SQL statement', () => {
    const sql = `insert into t values ${"('x y z', 1), ".repeat(5000)}('a', 2)`;
    expect(sql.length).toBeGreaterThan(65_536);
    const out = scrubbedArray(['mysql', '-uroot', '-pS3cret', 'app', '-e', sql]);
    expect(out.slice(0, 5)).toEqual(['mysql', '-uroot', `-p${P}`, 'app', '-e']);
    expect(JSON.stringify(out)).not.toContain('S3cret');
    expectIdempotent(['mysql', '-uroot', '-pS3cret', 'app', '-e', sql]);
  });

  it('is idempotent when the elements read alone shrink a line that was too long', () => {
    // 70 KB of arguments, one of them a 10 KB private key that its element's own reading redacts.
    const key = `-----BEGIN RSA PRIVATE KEY-----\n${'QUJD'.repeat(2500)}\n-----END RSA PRIVATE KEY-----`;
    const files = Array.from({ length: 1700 }, (_, i) => `/var/lib/app/data/file-${String(i).padStart(5, '0')}.dat`);
    const argv = ['mysql', '-pS3cret', key, ...files];
    expect(argv.join(' ').length).toBeGreaterThan(65_536);
    expectIdempotent(argv);
  });
});

describe('a user/password or user:password argument holding spaces or quotes', () => {
  it.each([
    [['sqlplus', 'scott/"ti ger"@db'], 1, `scott/${P}`, 'ti'],
    [['sqlplus', '-L', 'sys/"Pa ss w0rd"@prod as sysdba'], 2, `sys/${P}`, 'Pa ss'],
    [['sqlplus', 'scott/"tiger"@db'], 1, `scott/${P}`, 'tiger'],
    [['curl', '-u', 'user:pa ss', 'https://x.example'], 2, `user:${R('basic_auth')}`, 'pa ss'],
  ])('%j', (argv, i, want, secret) => {
    const out = scrubbedArray(argv as string[]);
    expect(out[i as number]).toBe(want);
    expect(JSON.stringify(out)).not.toContain(secret);
    expectIdempotent(argv);
  });

  it('keeps the connect identifier of a plain user/password argument', () => {
    expect(scrubbedArray(['sqlplus', 'scott/Tiger1@db'])).toEqual(['sqlplus', `scott/${P}@db`]);
  });

  it('the string form of curl -u with a quoted value loses all of it', () => {
    expect(scrubText("curl -u 'user:pa ss' https://x.example", rules)).toBe(`curl -u 'user:${R('basic_auth')}' https://x.example`);
    expect(scrubText('curl -u "user:pa ss" https://x.example', rules)).toBe(`curl -u "user:${R('basic_auth')}" https://x.example`);
  });
});

describe('a private key split over consecutive elements', () => {
  const K = R('private_key');
  it('redacts every line of the block (Ansible stdout_lines)', () => {
    const lines = [
      'cat ~/.ssh/id_ed25519',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACDmY2FjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY3AAAAmLk2g2e5',
      '-----END OPENSSH PRIVATE KEY-----',
      'done',
    ];
    const r = scrubEvent({ metadata: { stdout_lines: lines } }, rules);
    expect(r.event.metadata.stdout_lines).toEqual(['cat ~/.ssh/id_ed25519', K, K, K, K, 'done']);
    expect(r.scrubbed.map((e) => e.path)).toEqual([1, 2, 3, 4].map((i) => `metadata.stdout_lines[${i}]`));
    expectIdempotent(lines);
  });

  it('runs to the end of the array without an END line, and keeps what follows END in its element', () => {
    expect(scrubbedArray(['key:', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA', 'xyz'])).toEqual(['key:', K, K, K]);
    // Without END it goes on only through lines a key's body can have: a command after it stays.
    expect(scrubbedArray(['-----BEGIN RSA PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', '', 'MIIEowIBAAKCAQEA', 'ls -la', 'QUJD'])).toEqual([K, K, '', K, 'ls -la', 'QUJD']);
    expect(scrubbedArray(['x -----BEGIN EC PRIVATE KEY-----', 'MHcCAQEEIB', '-----END EC PRIVATE KEY----- ok'])).toEqual([`x ${K}`, K, `${K} ok`]);
    // A whole block in one element does not reach the next one.
    expect(scrubbedArray(['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', 'next'])).toEqual([K, 'next']);
    // A public key is not a private one.
    const pub = ['-----BEGIN PUBLIC KEY-----', 'MIIBIjANBgkqhkiG9w0B', '-----END PUBLIC KEY-----'];
    expect(scrubbedArray(pub)).toEqual(pub);
  });
});

describe('redis-server --requirepass', () => {
  it('is a password flag, as a string and as an array', () => {
    expect(scrubText('redis-server --requirepass S3cret --port 6380', rules)).toBe(`redis-server --requirepass ${P} --port 6380`);
    expect(scrubbedArray(['redis-server', '--requirepass', 'S3cret'])).toEqual(['redis-server', '--requirepass', P]);
  });
});

describe('operator rules and the joined line', () => {
  it('reads an argv rule of a rules file jointly, and a rule without argv element by element', async () => {
    const { loadRulesFile, withDefaults } = await import('../../src/scrub/index.js');
    const file = (argv: boolean | undefined) =>
      compileRules(
        withDefaults(
          loadRulesFile(JSON.stringify({ version: 1, rules: [{ kind: 'acme_pin', pattern: String.raw`acme-cli --pin (\S+)`, secretGroup: 1, hints: ['acme-cli'], ...(argv === undefined ? {} : { argv }) }] })),
        ),
      );
    const argv = ['acme-cli', '--pin', '1234'];
    expect(scrubEvent({ argv }, file(true)).event.argv).toEqual(['acme-cli', '--pin', R('acme_pin')]);
    expect(scrubEvent({ argv }, file(undefined)).event.argv).toEqual(argv);
    expect(scrubEvent({ argv }, file(false)).event.argv).toEqual(argv);
    expect(() => loadRulesFile(JSON.stringify({ version: 1, rules: [{ kind: 'x', pattern: 'x', argv: 'yes' }] }))).toThrow();
  });
});
