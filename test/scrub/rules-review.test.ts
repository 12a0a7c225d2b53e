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

describe("SQL literals after `password` and `IDENTIFIED BY`: closed, not starting with a space, then a terminator", () => {
  it.each([
    'input("Enter your password ")',
    '{"prompt":"Enter password ","next":"ok"}',
    'echo "Enter password "; read -s PW',
    'print("Invalid username or password " + user)',
    'print("identified by " + x)',
    "x = 'identified by ' + y",
  ])('keeps %s', (s) => {
    expect(scrubText(s, rules)).toBe(s);
  });

  it.each([
    ["CREATE ROLE app WITH LOGIN PASSWORD 'S3cretpw';", `CREATE ROLE app WITH LOGIN PASSWORD '${R('password')}';`],
    ['ALTER ROLE app PASSWORD "S3cretpw";', `ALTER ROLE app PASSWORD "${R('password')}";`],
    ["create role app login encrypted password 'S3c''retpw';", `create role app login encrypted password '${R('password')}';`],
    ['{"sql":"CREATE ROLE a PASSWORD \\"S3cretpw\\""}', `{"sql":"CREATE ROLE a PASSWORD \\"${R('password')}\\""}`],
    ['{"sql":"CREATE ROLE app WITH PASSWORD \'S3cretpw\'"}', `{"sql":"CREATE ROLE app WITH PASSWORD '${R('password')}'"}`],
    ["CREATE USER 'app'@'%' IDENTIFIED BY 'S3c''retpw';", `CREATE USER 'app'@'%' IDENTIFIED BY '${R('password')}';`],
    ['{"sql":"CREATE USER bob IDENTIFIED BY \\"S3cretpw\\""}', `{"sql":"CREATE USER bob IDENTIFIED BY \\"${R('password')}\\""}`],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});

describe('`pass` as a key: only where a key starts, not a comparison, not a status or a count', () => {
  it.each([
    'if (pass === true) { ok() }',
    'if (password === expected) return',
    'if (password == null) throw x',
    'assert user.password == "x"',
    'if token === "" then',
    'const pass = results.every((r) => r.ok)',
    'let pass = score >= threshold;',
    'var pass = compute()',
    'PASS=12/12 FAIL=0',
    'tests: pass=100% fail=0%',
    '{"pass": "ok"}',
    '{"status":"pass","pass":"PASSED"}',
    'lint-pass: ok',
    'PASS=$((PASS+1))',
    'clang -mllvm -debug-pass=Structure foo.c',
    'x.pass = None',
    'self.pass = pass',
    'result.pass = passed',
    'first_pass=done second_pass: enabled',
  ])('keeps %s', (s) => {
    expect(scrubText(s, rules)).toBe(s);
  });

  it.each([
    ['DB_PASS=S3cretpw', `DB_PASS=${R('password')}`],
    ['RABBITMQ_DEFAULT_PASS=S3cretpw', `RABBITMQ_DEFAULT_PASS=${R('password')}`],
    ['ansible_ssh_pass=S3cretpw', `ansible_ssh_pass=${R('password')}`],
    ['db_pass: S3cretpw', `db_pass: ${R('password')}`],
    ['{"user":"bob","pass":"S3cretpw"}', `{"user":"bob","pass":"${R('password')}"}`],
    ['{\\"pass\\": \\"S3cretpw\\"}', `{\\"pass\\": \\"${R('password')}\\"}`],
    ['https://x/login?user=bob&pass=S3cretpw&next=/', `https://x/login?user=bob&pass=${R('password')}&next=/`],
    ['mount -o user=bob,pass=S3cretpw', `mount -o user=bob,pass=${R('password')}`],
    ['kubectl create secret generic db --from-literal=DB_PASS=S3cretpw', `kubectl create secret generic db --from-literal=DB_PASS=${R('password')}`],
    ['export PASS=S3cretpw', `export PASS=${R('password')}`],
    ['PASS=S3cretpw ./run.sh', `PASS=${R('password')} ./run.sh`],
    ['login user=bob pass=S3cretpw', `login user=bob pass=${R('password')}`],
    ['[db]\npass = S3cretpw', `[db]\npass = ${R('password')}`],
    ['spring.redis.pass=S3cretpw', `spring.redis.pass=${R('password')}`],
    ['--pass=S3cretpw', `--pass=${R('password')}`],
    ['password = S3cretpw', `password = ${R('password')}`],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});

describe('XML elements: not self-closing, closed by a secret-named tag, a token not a number', () => {
  it.each([
    '<note><password /> trailing text</note>',
    '<password/>not a secret</div>',
    'let x: Option<Token> = lexer.next(); // compare a </b>',
    'fn f() -> Vec<ApiKey> { v } // see </a>',
    '<max_token>512</max_token>',
    '<password>hunter2</other>',
  ])('keeps %s', (s) => {
    expect(scrubText(s, rules)).toBe(s);
  });

  it.each([
    ['<password>S3cretpw</password>', `<password>${R('password')}</password>`],
    ['<db:Password type="x">S3cretpw</db:Password>', `<db:Password type="x">${R('password')}</db:Password>`],
    ['<auth:token>abc123def</auth:token>', `<auth:token>${R('token')}</auth:token>`],
    ['<SessionToken>abc123def</SessionToken >', `<SessionToken>${R('token')}</SessionToken >`],
    ['<apiKey>abc123</apiKey>', `<apiKey>${R('api_key')}</apiKey>`],
    ['<password>S3cretpw</Password>', `<password>${R('password')}</Password>`],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});

describe('Authorization built by code: an unquoted user:password in $(…), f-strings and templates', () => {
  const A = R('authorization');
  it.each([
    ['curl -H "Authorization: Basic $(echo -n admin:S3cretpw | base64)" x', `curl -H "Authorization: Basic ${A} -n ${A} | base64)" x`],
    ['curl -H "Authorization: Basic $(base64 <<< admin:S3cretpw)" x', `curl -H "Authorization: Basic ${A} <<< ${A})" x`],
    ['{"cmd":"curl -H \\"Authorization: Basic $(echo -n admin:S3cretpw | base64)\\" x"}', `{"cmd":"curl -H \\"Authorization: Basic ${A} -n ${A} | base64)\\" x"}`],
    [`h = {'Authorization': f'Basic {base64.b64encode(b"admin:S3cretpw").decode()}'}`, `h = {'Authorization': ${A}'Basic {base64.b64encode(b"${A}").decode()}'}`],
    ["fetch(u, {headers: {Authorization: `Basic ${btoa('admin:S3cretpw')}`}})", `fetch(u, {headers: {Authorization: ${A} \${btoa('${A}')}\`}})`],
    // Variables only: no literal is taken (the first word after the header goes, as for any value).
    ['curl -H "Authorization: Basic $(echo -n $U:$P | base64)" x', `curl -H "Authorization: Basic ${A} -n $U:$P | base64)" x`],
    ['curl -H "Authorization: Basic $(echo -n "$U:$P" | base64)" x', `curl -H "Authorization: Basic ${A} -n "$U:$P" | base64)" x`],
    ["fetch(u, {headers: {Authorization: 'Basic ' + btoa(user + ':' + pass)}})", `fetch(u, {headers: {Authorization: '${A} ' + btoa(user + ':' + pass)}})`],
    ["h = {'Authorization': f'Basic {token}'}", `h = {'Authorization': ${A}'Basic {token}'}`],
  ])('%s', (input, out) => {
    expect(scrubText(input, rules)).toBe(out);
  });
});
