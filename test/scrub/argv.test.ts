// Commands logged as argument arrays (`["mysql", "-u", "root", "-p…"]`) and as
// `{"command": …, "args": […]}` pairs are read as one command line: the secret
// element (or its secret part) is redacted as in the string form, the other
// elements stay, the array keeps its length, and the path names the element.
// Arrays that are not commands (tags, lists of command lines) stay as they were.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRules, DEFAULT_KEY_RULES, DEFAULT_RULES, scrubEvent, scrubText, withDefaults } from '../../src/scrub/index.js';
import { NOT_SECRETS, SECRET_CORPUS } from './corpus.js';

const rules = compileRules();
const R = (kind: string) => `[REDACTED:${kind}]`;
const P = R('password');

/** A Bash tool call whose input is an argv, as an agent framework logs it. */
const toolCall = (argv: string[]) => ({
  actor: { type: 'agent', id: 'coder-1' },
  action: { type: 'tool.call', name: 'Bash' },
  metadata: { tool_input: { argv, timeout_ms: 120000 }, cwd: '/srv/app' },
});

/** [argv, index of the secret element, that element scrubbed, kind] */
const ARGV: Array<[string[], number, string, string]> = [
  [['mysql', '-u', 'root', '-pS3cret', 'db'], 3, `-p${P}`, 'password'],
  [['sshpass', '-p', 'S3cret', 'ssh', 'host'], 2, P, 'password'],
  [['redis-cli', '-a', 'S3cret'], 2, P, 'password'],
  [['docker', 'login', '-u', 'me', '-p', 'S3cret', 'reg.io'], 5, P, 'password'],
  [['sqlcmd', '-S', 'db', '-P', 'S3cret'], 4, P, 'password'],
  [['keytool', '-storepass', 'S3cret'], 2, P, 'password'],
  [['mongosh', '-u', 'root', '-p', 'S3cret', 'mongo.internal'], 4, P, 'password'],
  [['ldapsearch', '-x', '-D', 'cn=admin,dc=x', '-w', 'S3cret'], 5, P, 'password'],
  [['twine', 'upload', '-u', 'me', '-p', 'S3cret', 'dist/x.whl'], 5, P, 'password'],
  [['7z', 'a', '-pS3cret', 'a.7z', 'f'], 2, `-p${P}`, 'password'],
  [['openssl', 'enc', '-aes-256-cbc', '-pass', 'pass:S3cret', '-in', 'f'], 4, `pass:${P}`, 'password'],
  [['smbclient', '//srv/share', '-U', 'corp\\me%S3cret'], 3, `corp\\me%${P}`, 'password'],
  [['sqlplus', 'scott/Tiger1@db'], 1, `scott/${P}@db`, 'password'],
  [['htpasswd', '-b', '.htpasswd', 'admin', 'S3cret'], 4, P, 'password'],
  [['net', 'use', '\\\\srv\\share', 'S3cret', '/user:corp\\me'], 3, P, 'password'],
  [['vault', 'login', 's.AbCdEf1234567890abcdefgh'], 2, R('vault_token'), 'vault_token'],
  [['curl', '-u', 'me:S3cret', 'https://api.example.com'], 2, `me:${R('basic_auth')}`, 'basic_auth'],
  [['pg_dump', '--password', 'S3cret', 'db'], 2, P, 'password'],
  [['aws', 'configure', 'set', 'aws_secret_access_key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'], 4, R('aws_secret_key'), 'aws_secret_key'],
  [['npm', 'config', 'set', '//registry.npmjs.org/:_authToken', 'b3e6c2a1-0000-4000-8000-000000000000'], 4, R('npm_token'), 'npm_token'],
  // Wrappers, containers, ssh, a Windows path with spaces (one element).
  [['sudo', '-u', 'mysql', 'mysqldump', '-pS3cret', 'db'], 4, `-p${P}`, 'password'],
  [['docker', 'exec', '-it', 'db', 'mysql', '-pS3cret'], 5, `-p${P}`, 'password'],
  [['docker', 'exec', 'db', 'zip', '-P', 'S3cret', 'f.zip', 'x'], 5, P, 'password'],
  [['kubectl', 'exec', 'pod', '--', 'zip', '-P', 'S3cret', 'a.zip'], 6, P, 'password'],
  [['ssh', 'deploy@db1', '-t', 'mysql', '-pS3cret'], 4, `-p${P}`, 'password'],
  [['timeout', '30', 'redis-cli', '-a', 'S3cret', 'ping'], 4, P, 'password'],
  [['C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysql.exe', '-u', 'root', '-pS3cret'], 3, `-p${P}`, 'password'],
  // An element is one argument: spaces, quotes and `;` inside it belong to it.
  [['mysql', '-pmy secret pw', 'db'], 1, `-p${P}`, 'password'],
  [['sshpass', '-p', 'it\'s a "pw"', 'ssh', 'h'], 2, P, 'password'],
  [['pg_dump', '--password=my pw', 'db'], 1, `--password=${P}`, 'password'],
  [['openssl', 'enc', '-pass', 'pass:my pw', '-in', 'f'], 3, `pass:${P}`, 'password'],
  [['mysql', '-e', 'select 1; select 2', '-pS3cret'], 3, `-p${P}`, 'password'],
];

describe('argv arrays', () => {
  it.each(ARGV.map(([argv, i, want, kind]) => [argv.join(' '), argv, i, want, kind] as const))('%s', (_title, argv, i, want, kind) => {
    const event = toolCall(argv);
    const r = scrubEvent(event, rules);
    const out = r.event.metadata.tool_input.argv;
    expect(out).toHaveLength(argv.length);
    expect(out[i]).toBe(want);
    // The neighbours stay, and the rest of the event.
    expect(out.filter((_, k) => k !== i)).toEqual(argv.filter((_, k) => k !== i));
    expect({ ...r.event, metadata: { ...r.event.metadata, tool_input: { ...r.event.metadata.tool_input, argv: [] } } }).toEqual({
      ...event,
      metadata: { ...event.metadata, tool_input: { ...event.metadata.tool_input, argv: [] } },
    });
    expect(r.scrubbed).toEqual([{ path: `metadata.tool_input.argv[${i}]`, kind }]);
    // Nothing of the secret survives anywhere in the event.
    const secret = argv[i]!.replace(/^(?:-p|--password=|pass:|corp\\me%|scott\/|me:)/, '').replace(/@db$/, '');
    expect(JSON.stringify(r.event)).not.toContain(secret);
    // The same marker as in the string form, and idempotent.
    if (!argv.some((a) => /\s/.test(a))) expect(scrubText(argv.join(' '), rules)).toContain(want);
    const again = scrubEvent(r.event, rules);
    expect(again.event).toEqual(r.event);
    expect(again.scrubbed).toEqual([]);
  });

  it('finds every secret of one argv, each at its element', () => {
    const r = scrubEvent(toolCall(['keytool', '-importkeystore', '-srcstorepass', 'S3cretA', '-deststorepass', 'S3cretB', '-destkeystore', 'o.jks']), rules);
    expect(r.event.metadata.tool_input.argv).toEqual(['keytool', '-importkeystore', '-srcstorepass', P, '-deststorepass', P, '-destkeystore', 'o.jks']);
    expect(r.scrubbed).toEqual([
      { path: 'metadata.tool_input.argv[3]', kind: 'password' },
      { path: 'metadata.tool_input.argv[5]', kind: 'password' },
    ]);
  });

  it('keeps ordinary argv and arrays that are not commands as they are', () => {
    const plain: string[][] = [
      ['mkdir', '-p', 'x'],
      ['ssh', '-p', '22', 'host'],
      ['mysql', '-p', 'db'],
      ['mysql', '-u', 'root', '-p', '-h', 'db', 'app'],
      ['mysql', '-P', '3306', '-h', 'db'],
      ['docker', 'run', '-p', '8080:80', 'nginx'],
      ['docker', 'run', '-d', '--name', 'mongo', '-p', '27017:27017', 'mongo'],
      ['psql', '-U', 'mysql', '-p5432', 'app'],
      ['ssh', '-t', 'mysql', '-p2222'],
      ['sshpass', '-f', 'pw.txt', 'ssh', '-p', '2222', 'host'],
      ['redis-cli', '-p', '6380', 'ping'],
      ['git', 'log', '-p'],
      ['ls', '-a', '/tmp'],
      ['docker', 'login', '-u', 'bot', '--password-stdin', 'reg.io'],
      ['openssl', 'rsa', '-passin', 'file:/run/pw', '-in', 'k'],
      ['keytool', '-list', '-storepass:env', 'STOREPASS'],
      ['sqlplus', '/', 'as', 'sysdba'],
      ['echo', 'zip', '-P', 'x'],
      ['docker', 'exec', '--user', 'zip', 'db', 'ls', '-P', 'x'],
      ['sshpass', '-p', '', 'ssh', 'h'],
      // Not commands: tags, reasons, and lists of command lines, whose lines stay apart.
      ['amount', 'vendor', 'due_date'],
      ['finance', 'auto'],
      ['password reset requested', 'token count 512'],
      ['mysql db', 'mkdir -pv x'],
      ['docker login reg.io', 'docker run -p 8080:80 x'],
      ['redis-cli ping', 'ls -a /tmp'],
      NOT_SECRETS.slice(),
    ];
    for (const argv of plain) {
      const event = toolCall(argv);
      const r = scrubEvent(event, rules);
      expect(r.event, JSON.stringify(argv)).toEqual(event);
      expect(r.scrubbed, JSON.stringify(argv)).toEqual([]);
    }
  });

  it('reads each element of a list of command lines as it reads it alone', () => {
    // Shell history: every line is scrubbed as a string; the lines do not form one command.
    for (const entry of SECRET_CORPUS) {
      const history = ['cd /srv', entry.text, 'ls -la'];
      const r = scrubEvent({ metadata: { history } }, rules);
      expect(r.event.metadata.history, entry.name).toEqual(['cd /srv', entry.expected, 'ls -la']);
    }
  });

  it('leaves the longest elements out of a joined line that would pass the scan bound', () => {
    const small = compileRules(undefined, { maxScanChars: 1024 });
    const filler = Array.from({ length: 200 }, (_, i) => `file-${i}.txt`);
    const r = scrubEvent({ argv: ['mysql', '-pS3cret', ...filler, 'password=hunter2'] }, small);
    // The glued password needs the tool two elements back: the line without the longest elements
    // (read alone) has both; each element's own secrets are found too.
    expect(r.event.argv[1]).toBe(`-p${P}`);
    expect(r.event.argv.at(-1)).toBe(`password=${P}`);
    expect(r.event.argv).toHaveLength(203);
    expect(r.event.argv.slice(2, -1)).toEqual(filler);
    // An element longer than the bound is cut as a string is, and stands in the line as one word.
    const long = scrubEvent({ argv: ['mysql', '-pS3cret', `${'word '.repeat(300)}tail`] }, small);
    expect(long.event.argv.slice(0, 2)).toEqual(['mysql', `-p${P}`]);
    expect(long.event.argv[2]!.endsWith(' [REDACTED:unscanned]')).toBe(true);
    expect(long.scrubbed).toEqual([
      { path: 'argv[1]', kind: 'password' },
      { path: 'argv[2]', kind: 'unscanned' },
    ]);
    // Past the bound even with every element left out (one-letter elements): each is read alone.
    const many = scrubEvent({ argv: ['mysql', '-pS3cret', ...Array.from({ length: 600 }, () => 'x'), 'password=hunter2'] }, small);
    expect(many.event.argv[1]).toBe('-pS3cret');
    expect(many.event.argv.at(-1)).toBe(`password=${P}`);
  });
});

describe('command and args pairs', () => {
  it('reads an MCP server config: the command, then its args', () => {
    const event = {
      action: { type: 'mcp.server.start' },
      metadata: { mcpServers: { db: { command: 'mysql', args: ['-h', 'db.internal', '-uroot', '-pS3cret', 'app'], env: { TZ: 'UTC' } } } },
    };
    const r = scrubEvent(event, rules);
    expect(r.event.metadata.mcpServers.db).toEqual({ command: 'mysql', args: ['-h', 'db.internal', '-uroot', `-p${P}`, 'app'], env: { TZ: 'UTC' } });
    expect(r.scrubbed).toEqual([{ path: 'metadata.mcpServers.db.args[3]', kind: 'password' }]);
    expect(JSON.stringify(r.event)).not.toContain('S3cret');
  });

  it('reads a Kubernetes container: command and args both arrays, the secret in either', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'dump', image: 'mysql:8', command: ['mysqldump'], args: ['-uroot', '-pS3cret', 'app'] },
          { name: 'tunnel', image: 'alpine', command: ['sshpass', '-p', 'Tr0ub4dor'], args: ['ssh', '-p', '2222', 'db'] },
          { name: 'shell', image: 'alpine', command: ['sh', '-c'], args: ['redis-cli -a S3cret ping'] },
          { name: 'web', image: 'nginx', command: ['nginx'], args: ['-g', 'daemon off;'] },
        ],
      },
    };
    const r = scrubEvent({ change: { proposed_value: pod } }, rules);
    const c = r.event.change.proposed_value.spec.containers;
    expect(c[0]).toEqual({ name: 'dump', image: 'mysql:8', command: ['mysqldump'], args: ['-uroot', `-p${P}`, 'app'] });
    expect(c[1]).toEqual({ name: 'tunnel', image: 'alpine', command: ['sshpass', '-p', P], args: ['ssh', '-p', '2222', 'db'] });
    expect(c[2]).toEqual({ name: 'shell', image: 'alpine', command: ['sh', '-c'], args: [`redis-cli -a ${P} ping`] });
    expect(c[3]).toEqual(pod.spec.containers[3]);
    expect(r.scrubbed).toEqual([
      { path: 'change.proposed_value.spec.containers[0].args[1]', kind: 'password' },
      { path: 'change.proposed_value.spec.containers[1].command[2]', kind: 'password' },
      { path: 'change.proposed_value.spec.containers[2].args[0]', kind: 'password' },
    ]);
  });

  it('keeps the keys in their order, with other keys between, and args before command', () => {
    const r = scrubEvent({ metadata: { tool: { args: ['-a', 'S3cret'], cwd: '/srv', command: '/usr/local/bin/redis-cli' } } }, rules);
    expect(Object.keys(r.event.metadata.tool)).toEqual(['args', 'cwd', 'command']);
    expect(r.event.metadata.tool).toEqual({ args: ['-a', P], cwd: '/srv', command: '/usr/local/bin/redis-cli' });
    expect(r.scrubbed).toEqual([{ path: 'metadata.tool.args[1]', kind: 'password' }]);
  });

  it('keeps ordinary pairs, and pairs that are not strings, as they are', () => {
    for (const tool of [
      { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'] },
      { command: 'ssh', args: ['-p', '22', 'host'] },
      { command: 'mysql', args: ['-p', 'app'] },
      { command: 'mysql', args: [] },
      { command: { path: 'mysql' }, args: ['-pS3cret'] },
      { command: 'mysql', args: ['-pS3cret', 3] },
    ]) {
      const r = scrubEvent({ metadata: { tool } }, rules);
      expect(r.event.metadata.tool, JSON.stringify(tool)).toEqual(tool);
      expect(r.scrubbed).toEqual([]);
    }
  });
});

describe('argv arrays (properties)', () => {
  const words = [
    ...ARGV.flatMap(([argv]) => argv),
    ...SECRET_CORPUS.slice(0, 40).map((e) => e.text),
    '-p',
    '-pS3cret',
    '-P',
    '-a',
    '-t',
    '--',
    'mysql',
    'MYSQL.EXE',
    'docker',
    'exec',
    'login',
    'ssh',
    'host',
    '',
    ' ',
    "it's",
    '"',
    'a b',
    ';',
    '[REDACTED:password]',
    '-p[REDACTED:password]',
    'password=',
    '\\',
    '\n',
  ];
  const argv = fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 8 })), { minLength: 2, maxLength: 8 });

  it('scrubbing a scrubbed argv changes nothing and reports nothing; the length stays', () => {
    fc.assert(
      fc.property(argv, (a) => {
        const once = scrubEvent({ metadata: { argv: a, tool: { command: a[0], args: a.slice(1) } } }, rules);
        expect(once.event.metadata.argv).toHaveLength(a.length);
        const twice = scrubEvent(once.event, rules);
        expect(twice.event).toEqual(once.event);
        expect(twice.scrubbed).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it('the hint pre-check of an array never skips what the full scan would find', () => {
    // Without hints every rule runs on every string, and every array takes the full path; with a
    // hint that is not ASCII, the hints are a regex and the pre-check reads the built line.
    const unhinted = compileRules({ rules: DEFAULT_RULES.map(({ hints: _h, ...r }) => r), keys: DEFAULT_KEY_RULES });
    const regexHints = compileRules(withDefaults({ rules: [{ kind: 'umlaut_pin', pattern: 'PÜN (\\d{6})', secretGroup: 1, hints: ['PÜN '] }] }));
    expect(regexHints.hintAutomaton).toBeNull();
    fc.assert(
      fc.property(argv, (a) => {
        const event = { metadata: { argv: a, tool: { command: a[0], args: a.slice(1) } } };
        const want = scrubEvent(event, unhinted);
        expect(scrubEvent(event, rules)).toEqual(want);
        expect(scrubEvent(event, regexHints)).toEqual(want);
      }),
      { numRuns: 800 },
    );
  });

  it('does not hang on long hostile arrays', () => {
    // Each joined line is as long as the scan bound allows; no timing asserted (see the bounds tests).
    const fill = (unit: string[]) => {
      const out: string[] = [];
      for (let n = 0; n < 64_000; ) for (const u of unit) (out.push(u), (n += u.length + 1));
      return out;
    };
    for (const unit of [['mysql', '-pa'], ['redis-cli', '-a', 'x'], ['-a', 'redis-cli'], ['docker', 'login', '-p', 'x'], ['sqlplus', 'a/b'], ['ssh', 'a', '-t', 'mysql', '-pa'], ['a b', "'"], ['docker', 'exec', 'a', 'zip', '-P', 'x']]) {
      const r = scrubEvent({ argv: fill(unit) }, rules);
      expect(Array.isArray(r.event.argv)).toBe(true);
    }
  });
});
