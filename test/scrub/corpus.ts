/**
 * A corpus of real-looking FAKE secrets of every kind the default rules
 * detect, each in a realistic context, with the exact scrubbed text expected.
 * Secrets are generated from a fixed seed (no literal credential is in this
 * file, and none is real). Exported for the end-to-end test that checks no
 * secret reaches a data file or a log line:
 *
 *   - SECRET_CORPUS: the entries;
 *   - corpusEvent(entry): a schema-valid event carrying entry.text in every
 *     string field that can hold it (nested metadata, arrays, an object key,
 *     change values, a pii value), with the paths scrubEvent must report.
 */
import { formatPath, type PathSegment } from '../../src/events/path.js';

export interface CorpusEntry {
  /** A short name for test titles. */
  name: string;
  /** The marker kind expected. */
  kind: string;
  /** The text as an agent would send it. */
  text: string;
  /** The exact text after scrubbing. */
  expected: string;
  /** Substrings that must not survive scrubbing anywhere. */
  secrets: string[];
  /** Every marker kind in `expected` (usually just `kind`). */
  kinds?: string[];
}

// mulberry32: a tiny seeded PRNG, so the corpus is the same on every run.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(0x5c2b);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_NUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
const HEX = '0123456789abcdef';
const PW = `${ALNUM}!#%*_+=.-@^`;

/** n random characters from `alphabet`, with at least one digit (as real keys have). */
function gen(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return /[0-9]/.test(s) || !/[0-9]/.test(alphabet) ? s : `${s.slice(0, -1)}7`;
}
function b64url(s: string): string {
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function pemBody(lines: number): string {
  return Array.from({ length: lines }, () => gen(B64, 64)).join('\n');
}

const R = (kind: string) => `[REDACTED:${kind}]`;

/** An entry whose text is `before + secret + after`, expected `before + marker + after`. */
function simple(name: string, kind: string, before: string, secret: string, after = ''): CorpusEntry {
  return { name, kind, text: `${before}${secret}${after}`, expected: `${before}${R(kind)}${after}`, secrets: [secret] };
}

const ghp = `ghp_${gen(ALNUM, 36)}`;
const pat = `github_pat_${gen(ALNUM, 22)}_${gen(ALNUM, 59)}`;
const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${gen(HEX, 12)}","iat":1763900000}`)}.${gen(B64URL, 43)}`;
const pw = () => gen(PW, 16);

export const SECRET_CORPUS: readonly CorpusEntry[] = [
  simple('github ghp in a curl header (the issue example)', 'github_token', "curl -H 'Authorization: Bearer ", ghp, "' https://api.example.com/x"),
  simple('github gho', 'github_token', 'GH_TOKEN=', `gho_${gen(ALNUM, 36)}`, ' gh pr list'),
  simple('github ghu', 'github_token', 'token is ', `ghu_${gen(ALNUM, 36)}`, ' (user-to-server)'),
  simple('github ghs', 'github_token', 'installation token ', `ghs_${gen(ALNUM, 36)}`, ' expires in 1h'),
  simple('github ghr', 'github_token', 'refresh with ', `ghr_${gen(ALNUM, 36)}`, '.'),
  simple('github fine-grained PAT in a clone URL', 'github_token', 'git clone https://x-access-token:', pat, '@github.com/org/repo.git'),
  simple('gitlab glpat', 'gitlab_token', 'glab auth login --token ', `glpat-${gen(B64URL, 20)}`, ' --hostname gitlab.example.com'),
  simple('gitlab deploy token', 'gitlab_token', 'deploy token ', `gldt-${gen(ALNUM, 20)}`, ' rotated'),
  simple('gitlab runner token', 'gitlab_token', 'gitlab-runner register --token ', `glrt-${gen(B64URL, 24)}`, ''),
  simple('slack bot token in JSON text', 'slack_token', '{"channel":"C0123ABCD","token":"', `xoxb-${gen('0123456789', 12)}-${gen('0123456789', 13)}-${gen(ALNUM, 24)}`, '"}'),
  simple('slack user token', 'slack_token', 'posting as user with ', `xoxp-${gen('0123456789', 12)}-${gen('0123456789', 12)}-${gen(HEX, 32)}`, ' now'),
  simple('slack app token', 'slack_token', 'socket mode: ', `xapp-1-A0${gen(UPPER_NUM, 9)}-${gen('0123456789', 13)}-${gen(HEX, 64)}`, ''),
  simple('slack webhook', 'slack_webhook', 'POST https://hooks.slack.com/services/', `T0${gen(UPPER_NUM, 8)}/B0${gen(UPPER_NUM, 8)}/${gen(ALNUM, 24)}`, ' -d @msg.json'),
  simple('stripe live secret key', 'stripe_key', 'stripe.api_key = "', `sk_live_${gen(ALNUM, 99)}`, '"'),
  simple('stripe restricted test key', 'stripe_key', 'using ', `rk_test_${gen(ALNUM, 24)}`, ' for reports'),
  simple('stripe webhook secret', 'stripe_webhook_secret', 'STRIPE_WEBHOOK_SECRET=', `whsec_${gen(ALNUM, 32)}`, ''),
  simple('openai project key', 'openai_key', 'OPENAI_API_KEY=', `sk-proj-${gen(B64URL, 124)}`, ' python app.py'),
  simple('openai legacy key', 'openai_key', "openai.api_key='", `sk-${gen(ALNUM, 20)}T3BlbkFJ${gen(ALNUM, 20)}`, "'"),
  simple('openai service account key', 'openai_key', 'key ', `sk-svcacct-${gen(B64URL, 64)}`, ' (svc)'),
  simple('openai admin key', 'openai_key', 'admin: ', `sk-admin-${gen(B64URL, 64)}`, ''),
  simple('anthropic key', 'anthropic_key', 'export ANTHROPIC_API_KEY=', `sk-ant-api03-${gen(B64URL, 93)}AA`, ' && claude'),
  simple('anthropic admin key', 'anthropic_key', 'x-api-key: ', `sk-ant-admin01-${gen(B64URL, 93)}AA`, ''),
  simple('aws access key id', 'aws_access_key_id', 'aws_access_key_id = ', `AKIA${gen(UPPER_NUM, 16)}`, ''),
  simple('aws temporary access key id', 'aws_access_key_id', 'assumed role, key ', `ASIA${gen(UPPER_NUM, 16)}`, ' valid 1h'),
  simple('aws secret in credentials file', 'aws_secret_key', 'aws_secret_access_key = ', gen(B64, 40), ''),
  simple('aws secret in prose', 'aws_secret_key', 'The AWS secret key is ', gen(B64, 40), ' (rotate it)'),
  simple('aws secret env var', 'aws_secret_key', 'AWS_SECRET_ACCESS_KEY=', gen(B64, 40), ' aws s3 ls'),
  simple('PEM RSA private key', 'private_key', 'key file:\n', `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(4)}\n-----END RSA PRIVATE KEY-----`, '\ndone'),
  simple('PEM PKCS8 private key', 'private_key', 'cat key.pem => ', `-----BEGIN PRIVATE KEY-----\n${pemBody(3)}\n-----END PRIVATE KEY-----`, ''),
  simple('truncated OpenSSH private key (no END)', 'private_key', 'leaked: ', `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${gen(B64, 40)}\n${gen(B64, 70)}`, ''),
  simple('PGP private key block', 'private_key', '', `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pemBody(2)}\n-----END PGP PRIVATE KEY BLOCK-----`, ' (exported)'),
  simple('JWT in a bearer header', 'jwt', 'Authorization: Bearer ', jwt, ''),
  simple('JWT in a query string', 'jwt', 'https://app.example.com/cb?id_token=', `${jwt.slice(0, -5)}${gen(B64URL, 5)}`, '&state=xyz'),
  simple('basic auth header', 'basic_auth', 'Authorization: Basic ', btoa(`svc-deploy:${gen(ALNUM, 18)}`), ''),
  simple('curl -u user:password', 'basic_auth', 'curl -u admin:', gen(ALNUM, 14), ' https://api.example.com/v1/users'),
  simple('opaque bearer token', 'bearer_token', 'requests.get(url, headers={"Authorization": "Bearer ', gen(ALNUM, 40), '"})'),
  simple('authorization header with another scheme', 'authorization', 'Authorization: token ', gen(HEX, 40), ''),
  simple('password in an https URL', 'url_password', 'git remote add origin https://deploy:', gen(ALNUM, 20), '@git.example.com/team/repo.git'),
  simple('postgres URL', 'connection_string', 'psql postgresql://app:', pw(), '@db.internal:5432/prod?sslmode=require'),
  simple('mysql URL', 'connection_string', 'DATABASE_URL=mysql://root:', gen(ALNUM, 16), '@127.0.0.1:3306/shop'),
  simple('mongodb+srv URL', 'connection_string', 'mongosh "mongodb+srv://admin:', gen(ALNUM, 16), '@cluster0.ab1cd.mongodb.net/test"'),
  simple('redis URL with empty user', 'connection_string', 'REDIS_URL=redis://:', gen(ALNUM, 24), '@cache:6379/0'),
  simple('amqp URL', 'connection_string', 'broker amqps://guest:', gen(ALNUM, 12), '@mq.example.com:5671/vhost'),
  // Unencoded passwords with # ? / @ (review: these leaked whole, or their tail after an @).
  simple('postgres URL, password with #', 'connection_string', 'psql "postgresql://app:', `${gen(ALNUM, 3)}#${gen(ALNUM, 9)}`, '@db.internal:5432/prod"'),
  simple('redis URL, password with /', 'connection_string', 'redis-cli -u redis://:', `${gen(ALNUM, 3)}/${gen(ALNUM, 9)}`, '@cache:6379/0'),
  simple('https URL, password with ?', 'url_password', 'git clone https://deploy:', `${gen(ALNUM, 3)}?${gen(ALNUM, 9)}`, '@git.example.com/repo.git'),
  simple('postgres URL, password with @ and #', 'connection_string', 'postgresql://app:', `${gen(ALNUM, 2)}@${gen(ALNUM, 2)}#${gen(ALNUM, 5)}1`, '@db/prod'),
  simple('postgres URL, user with @', 'connection_string', 'postgres://svc@corp.example.com:', gen(ALNUM, 14), '@db/x'),
  simple('postgres URL in brackets (a Go or Python list in a log)', 'connection_string', 'ERROR [postgres://app:', gen(ALNUM, 14), '@db] connection refused'),
  simple('postgres URL over a Unix socket (empty host)', 'connection_string', 'DATABASE_URL=postgres://app:', gen(ALNUM, 14), '@/appdb?host=/cloudsql/proj:us-central1:inst'),
  simple('https URL with JSON-escaped slashes', 'url_password', '{"url":"https:\\/\\/deploy:', gen(ALNUM, 14), '@git.example.com\\/org\\/repo.git"}'),
  simple('postgres URL, password with >', 'connection_string', 'postgres://u:', `${gen(ALNUM, 4)}>${gen(ALNUM, 8)}`, '@db/x'),
  simple('aws configure prompt', 'aws_secret_key', 'AWS Secret Access Key [None]: ', gen(B64, 40), ''),
  simple('aws configure prompt, masked current key', 'aws_secret_key', 'AWS Secret Access Key [****************EKEY]: ', gen(B64, 40), ''),
  simple('ADO.NET connection string', 'password', 'Server=tcp:db.example.com,1433;Initial Catalog=app;User ID=svc;Password=', `${gen(ALNUM, 10)} ${gen(ALNUM, 6)}`, ';Encrypt=True'),
  simple('JDBC with password property', 'password', 'jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=', gen(ALNUM, 16), ';'),
  simple('env var password', 'password', 'DB_PASSWORD=', pw(), ' ./migrate up'),
  simple('YAML password', 'password', 'database:\n  user: app\n  password: ', pw(), '\n  host: db'),
  simple('JSON-ish password in text', 'password', 'body={"username": "bob", "password": "', gen(ALNUM, 12), '"}'),
  simple('escaped JSON password in a log line', 'password', 'payload="{\\"password\\": \\"', gen(ALNUM, 12), '\\"}"'),
  simple('client_secret in a form body', 'secret', 'grant_type=client_credentials&client_secret=', gen(ALNUM, 32), '&client_id=app'),
  simple('x-api-key header', 'api_key', 'X-Api-Key: ', gen(HEX, 32), ''),
  simple('access_token in JSON text', 'token', '{"access_token": "', gen(ALNUM, 40), '", "token_type": "bearer"}'),
  simple('--password=VALUE', 'password', 'mysql -u root --password=', pw(), ' shop'),
  simple('--password VALUE', 'password', 'pg_dump --password ', gen(ALNUM, 14), ' --host db'),
  // A Vault token after --token: the specific kind wins over `token` (the generic --token case is below).
  simple('vault login --token hvs.', 'vault_token', 'vault login --token ', `hvs.${gen(ALNUM, 24)}`, ''),
  simple('--api-key VALUE', 'api_key', 'myctl --api-key ', gen(HEX, 32), ' deploy'),
  simple('--client-secret=VALUE', 'secret', 'oauthctl --client-id app --client-secret=', gen(ALNUM, 32), ''),
  simple('--secret VALUE', 'secret', 'signer --secret ', gen(ALNUM, 24), ' sign file.txt'),
  simple('cookie header', 'cookie', 'Cookie: ', `session=${gen(ALNUM, 32)}; csrftoken=${gen(ALNUM, 32)}`, ''),
  // Added after the entries above, so their generated values stay the same.
  simple('--token VALUE', 'token', 'deployctl --token ', gen(ALNUM, 32), ' release'),
  // Command lines: tool-anchored short flags and positional passwords (leaks found in review).
  simple('mysql -pSECRET (glued)', 'password', 'mysql -u root -p', pw(), ' -h db.internal app'),
  simple("mysqldump -p'SECRET' (quoted, glued)", 'password', "mysqldump -uroot -p'", gen(ALNUM, 12), "' shop > dump.sql"),
  simple('mariadb -p"SECRET WITH SPACE"', 'password', 'mariadb -u app -p"', `${gen(ALNUM, 6)} ${gen(ALNUM, 6)}`, '" app'),
  simple('mysql under sudo -u, through a pipe', 'password', 'sudo -u backup /usr/bin/mysqldump -p', gen(ALNUM, 14), ' --all-databases | gzip > all.sql.gz'),
  simple("sshpass -p 'SECRET'", 'password', "sshpass -p '", `${gen(ALNUM, 8)}&${gen(ALNUM, 3)}`, "' ssh deploy@10.0.0.5"),
  simple('redis-cli -a SECRET', 'password', 'redis-cli -h cache -a ', gen(ALNUM, 16), ' ping'),
  simple('docker login -p with a Docker PAT', 'docker_token', 'docker login -u bot -p ', `dckr_pat_${gen(B64URL, 27)}`, ' registry.example.com'),
  simple('podman login -p SECRET', 'password', 'podman login -u bot -p ', gen(ALNUM, 16), ' quay.io'),
  simple('helm registry login -p SECRET', 'password', 'helm registry login reg.example.com -u ci -p ', gen(ALNUM, 16), ''),
  simple("az login -p 'SECRET'", 'password', "az login --service-principal -u app -p '", `${gen(ALNUM, 4)}@${gen(ALNUM, 4)}~${gen(ALNUM, 4)}`, "' --tenant t"),
  simple('sqlplus user/SECRET@//host:port/service (EZConnect)', 'password', 'sqlplus scott/', gen(ALNUM, 10), '@//db.example.com:1521/ORCLPDB1'),
  simple('sqlplus user/SECRET@alias', 'password', 'sqlplus -s system/', gen(ALNUM, 10), '@orcl @report.sql'),
  simple('sqlldr userid=user/SECRET', 'password', 'sqlldr userid=scott/', gen(ALNUM, 10), ' control=load.ctl'),
  simple('expdp user/SECRET@alias', 'password', 'expdp hr/', gen(ALNUM, 10), '@pdb1 directory=dp_dir dumpfile=hr.dmp'),
  simple('jdbc:oracle:thin user/SECRET@//host/service', 'connection_string', 'jdbc:oracle:thin:scott/', gen(ALNUM, 12), '@//db.example.com:1521/svc'),
  simple('jdbc:oracle:thin user/SECRET@host:port:SID', 'connection_string', 'url=jdbc:oracle:thin:scott/', gen(ALNUM, 12), '@db.example.com:1521:ORCL'),
  simple('smbclient -U user%SECRET', 'password', 'smbclient //srv/share -U admin%', gen(ALNUM, 12), ''),
  simple('net use … /user:NAME SECRET', 'password', 'net use Z: \\\\srv\\share /user:corp\\admin ', gen(ALNUM, 12), ''),
  simple('net user NAME SECRET /add', 'password', 'net user svc-backup ', gen(ALNUM, 12), ' /add'),
  simple('openssl enc -k SECRET', 'password', 'openssl enc -aes-256-cbc -k ', gen(ALNUM, 12), ' -in f'),
  simple('openssl -pass pass:SECRET', 'password', 'openssl enc -aes-256-cbc -pass pass:', gen(ALNUM, 12), ' -in f'),
  simple('htpasswd -b FILE USER SECRET', 'password', 'htpasswd -b -c .htpasswd admin ', gen(ALNUM, 12), ''),
  simple('htpasswd -nb USER SECRET', 'password', 'htpasswd -nbB admin ', gen(ALNUM, 12), ' > users.txt'),
  simple('mongosh -p SECRET', 'password', 'mongosh -u admin -p ', gen(ALNUM, 14), ' --authenticationDatabase admin mongo.internal'),
  simple('sqlcmd -P SECRET', 'password', 'sqlcmd -S db.internal -U sa -P ', gen(ALNUM, 14), ' -Q "select 1"'),
  simple('ldapsearch -w SECRET', 'password', 'ldapsearch -x -H ldap://ldap.internal -D cn=admin,dc=example,dc=org -w ', gen(ALNUM, 14), ' -b dc=example,dc=org'),
  simple('zip -P SECRET', 'password', 'zip -P ', gen(ALNUM, 14), ' backup.zip db.sql'),
  simple('7z a -pSECRET', 'password', '7z a -p', gen(ALNUM, 14), ' backup.7z db.sql'),
  simple('twine upload -p with a PyPI token', 'pypi_token', 'twine upload -u __token__ -p ', `pypi-AgEIcHlwaS5vcmc${gen(B64URL, 150)}`, ' dist/*'),
  (() => {
    const [a, b] = [gen(ALNUM, 12), gen(ALNUM, 12)];
    const before = 'keytool -importkeystore -srckeystore in.p12 -srcstoretype PKCS12 -srcstorepass ';
    return { name: 'keytool: two passwords in one command', kind: 'password', text: `${before}${a} -deststorepass ${b} -destkeystore out.jks`, expected: `${before}${R('password')} -deststorepass ${R('password')} -destkeystore out.jks`, secrets: [a, b] };
  })(),
  (() => {
    const [a, b] = [gen(ALNUM, 12), gen(ALNUM, 12)];
    return { name: 'rman: target and catalog credentials', kind: 'password', text: `rman target sys/${a}@prod catalog rco/${b}@catdb`, expected: `rman target sys/${R('password')}@prod catalog rco/${R('password')}@catdb`, secrets: [a, b] };
  })(),
  // Token families.
  simple('vault login legacy s. token', 'vault_token', 'vault login ', `s.${gen(ALNUM, 24)}`, ''),
  simple('Vault hvs. token in VAULT_TOKEN', 'vault_token', 'export VAULT_TOKEN=', `hvs.CAESI${gen(B64URL, 86)}`, ''),
  simple('npm config set :_authToken npm_…', 'npm_token', 'npm config set //registry.npmjs.org/:_authToken ', `npm_${gen(ALNUM, 36)}`, ''),
  simple('.npmrc :_authToken= legacy UUID token', 'npm_token', '//registry.npmjs.org/:_authToken=', `${gen(HEX, 8)}-${gen(HEX, 4)}-${gen(HEX, 4)}-${gen(HEX, 4)}-${gen(HEX, 12)}`, ''),
  simple('.npmrc _auth', 'basic_auth', '_auth=', btoa(`bot:${gen(ALNUM, 12)}`), ''),
  simple('Google API key in a query string', 'google_api_key', 'curl "https://maps.googleapis.com/maps/api/geocode/json?address=x&key=', `AIza${gen(B64URL, 35)}`, '"'),
  simple('Hugging Face token', 'huggingface_token', 'HF hub token ', `hf_${gen(ALNUM, 34)}`, ' (read)'),
  simple('SendGrid key', 'sendgrid_key', 'SENDGRID_API_KEY=', `SG.${gen(B64URL, 22)}.${gen(B64URL, 43)}`, ''),
  simple('DigitalOcean token', 'digitalocean_token', 'doctl auth init -t ', `dop_v1_${gen(HEX, 64)}`, ''),
  simple('Shopify access token', 'shopify_token', 'X-Shopify-Access-Token: ', `shpat_${gen(HEX, 32)}`, ''),
  // Line continuations (backslash, line break) are whitespace inside a command.
  simple('mysql over continued lines', 'password', 'mysql -h db \\\n  -u root \\\n  -p', gen(ALNUM, 14), ' app'),
  simple('docker login over continued lines', 'password', 'docker login reg.example.com \\\n  -u bot \\\n  -p ', gen(ALNUM, 14), ''),
  simple('sqlplus user/password on a continued line', 'password', 'sqlplus \\\n  scott/', gen(ALNUM, 12), '@db'),
  simple('keytool -srcstorepass on a continued line', 'password', 'keytool -importkeystore -srckeystore a.p12 \\\n  -srcstorepass ', gen(ALNUM, 12), ' -destkeystore b.jks'),
  // Commands and tokens after a JSON-escaped line break or tab (JSON text inside a string).
  simple('mysql after an escaped newline in JSON text', 'password', '{"cmd":"ls\\nmysql -p', gen(ALNUM, 14), '"}'),
  simple('sshpass after a twice-escaped newline', 'password', '{"tool_input":"{\\"command\\":\\"cd /srv\\\\nsshpass -p ', gen(ALNUM, 12), ' ssh h\\"}"}'),
  simple('ghp_ after an escaped newline', 'github_token', '{"msg":"a\\n', `ghp_${gen(ALNUM, 36)}`, '"}'),
  simple('npm_ after an escaped newline', 'npm_token', '{"msg":"a\\n', `npm_${gen(ALNUM, 36)}`, '"}'),
  simple('hf_ after an escaped tab', 'huggingface_token', '{"msg":"a\\t', `hf_${gen(ALNUM, 34)}`, '"}'),
  simple('SG. after an escaped tab', 'sendgrid_key', '{"msg":"a\\t', `SG.${gen(B64URL, 22)}.${gen(B64URL, 43)}`, '"}'),
  simple('sk- after an escaped newline', 'openai_key', '{"msg":"key:\\n', `sk-proj-${gen(B64URL, 64)}`, '"}'),
  simple('AKIA after an escaped tab', 'aws_access_key_id', '{"msg":"id\\t', `AKIA${gen(UPPER_NUM, 16)}`, '\\tsecret"}'),
  simple('xoxb- after an escaped newline', 'slack_token', '{"msg":"bot\\n', `xoxb-${gen('0123456789', 12)}-${gen('0123456789', 13)}-${gen(ALNUM, 24)}`, '"}'),
  // Passwords in the environment of the command-line tools.
  simple('SSHPASS for sshpass -e', 'password', "SSHPASS='", gen(ALNUM, 12), "' sshpass -e ssh host"),
  simple('export SSHPASS', 'password', 'export SSHPASS=', gen(ALNUM, 12), ''),
  simple('REDISCLI_AUTH for redis-cli', 'password', 'REDISCLI_AUTH=', gen(ALNUM, 16), ' redis-cli ping'),
  simple('NPM_CONFIG__AUTH', 'basic_auth', 'NPM_CONFIG__AUTH=', btoa(`bot:${gen(ALNUM, 12)}`), ' npm publish'),
  simple('npm_config__authtoken', 'npm_token', 'export npm_config__authtoken=', `${gen(HEX, 8)}-${gen(HEX, 4)}-${gen(HEX, 4)}-${gen(HEX, 4)}-${gen(HEX, 12)}`, ''),
  // Shell quoting and separators.
  simple("mysql -p$'…' (ANSI-C quoting)", 'password', "mysql -u root -p$'", gen(ALNUM, 12), "' db"),
  simple('openssl -passout=pass:', 'password', 'openssl pkcs12 -export -passout=pass:', gen(ALNUM, 12), ' -out a.p12'),
  simple('mysqlsh -p glued', 'password', 'mysqlsh -u root -p', gen(ALNUM, 12), ' -h db'),
  // Unambiguous tools as any word of a command (in a container, over ssh, after a wrapper), in any case,
  // at a Windows path or prompt, in a YAML list item; ambiguous tools after the new wrappers and starts.
  simple('docker exec … mysql -pSECRET', 'password', 'docker exec -it db mysql -uroot -p', gen(ALNUM, 14), ''),
  simple('docker compose exec … mysqldump -pSECRET', 'password', 'docker compose exec db mysqldump -uroot -p', gen(ALNUM, 14), ' app'),
  simple('docker exec … redis-cli -a SECRET', 'password', 'docker exec db redis-cli -a ', gen(ALNUM, 16), ' ping'),
  simple('kubectl exec … -- mysql -pSECRET', 'password', 'kubectl exec -it db-0 -- mysql -p', gen(ALNUM, 14), ''),
  simple('kubectl exec -c … -- redis-cli -a SECRET', 'password', 'kubectl exec deploy/x -c c -- redis-cli -a ', gen(ALNUM, 16), ''),
  simple('ssh host mysql -pSECRET', 'password', 'ssh host mysql -p', gen(ALNUM, 14), ''),
  simple('timeout 30 mysql -pSECRET', 'password', 'timeout 30 mysql -p', gen(ALNUM, 14), ''),
  simple('nice -n 10 mysql -pSECRET', 'password', 'nice -n 10 mysql -p', gen(ALNUM, 14), ''),
  simple('watch -n 5 mysql -pSECRET', 'password', 'watch -n 5 mysql -p', gen(ALNUM, 14), ''),
  simple('! mysql -pSECRET', 'password', '! mysql -p', gen(ALNUM, 14), ''),
  simple('sudo --user=mysql mysql -pSECRET', 'password', 'sudo --user=mysql mysql -p', gen(ALNUM, 14), ''),
  simple('MYSQL.EXE -pSECRET (upper case)', 'password', 'MYSQL.EXE -u root -p', gen(ALNUM, 14), ''),
  simple('Mysql -pSECRET (mixed case)', 'password', 'Mysql -p', gen(ALNUM, 14), ''),
  simple('SQLCMD -P SECRET (upper case)', 'password', 'SQLCMD -S srv -U sa -P ', gen(ALNUM, 14), ''),
  simple('PowerShell & "C:\\Program Files\\…\\mysql.exe" -pSECRET', 'password', '& "C:\\Program Files\\MySQL\\MySQL Server 8.0\\bin\\mysql.exe" -u root -p', gen(ALNUM, 14), ''),
  simple('C:\\> mysql -pSECRET (cmd prompt)', 'password', 'C:\\> mysql -p', gen(ALNUM, 14), ''),
  simple('PS C:\\> mysql -pSECRET (PowerShell prompt)', 'password', 'PS C:\\> mysql -p', gen(ALNUM, 14), ''),
  simple('YAML list item - mysql -pSECRET', 'password', 'script:\n  - mysql -p', gen(ALNUM, 14), ''),
  simple('Markdown list item - mysql -pSECRET', 'password', '- mysql -p', gen(ALNUM, 14), ''),
  simple('docker exec … sqlplus user/SECRET', 'password', 'docker exec -it ora sqlplus scott/', gen(ALNUM, 12), '@ORCLPDB1'),
  simple('timeout 30 zip -P SECRET', 'password', 'timeout 30 zip -P ', gen(ALNUM, 14), ' a.zip f'),
  simple('kubectl exec … -- zip -P SECRET', 'password', 'kubectl exec pod -- zip -P ', gen(ALNUM, 14), ' a.zip f'),
  simple('YAML list item - htpasswd -b', 'password', '  - htpasswd -b .htpasswd admin ', gen(ALNUM, 14), ''),
  simple('PS C:\\> net use … SECRET', 'password', 'PS C:\\> net use Z: \\\\srv\\share ', gen(ALNUM, 14), ''),
  // An ambiguous tool run by `docker exec CONTAINER` without `--`; an unambiguous one after ssh's own
  // options (`ssh host -t mysql`); a line continuation inside JSON text (an escaped backslash, then an
  // escaped line break: once escaped three backslashes before `n`, twice escaped six).
  simple('docker exec … zip -P SECRET (no --)', 'password', 'docker exec -it db zip -P ', gen(ALNUM, 14), ' a.zip f'),
  simple('docker compose exec -T … openssl -k SECRET', 'password', 'docker compose exec -T app openssl enc -aes-256-cbc -k ', gen(ALNUM, 14), ' -in f'),
  simple('ssh host -t mysql -pSECRET', 'password', 'ssh deploy@db1 -t mysql -p', gen(ALNUM, 14), ' app'),
  simple('mysql over a continued line in JSON text', 'password', '{"command":"mysql -h db \\\\\\n-p', gen(ALNUM, 14), ' app"}'),
  simple('sshpass over a continued line in twice-escaped JSON', 'password', '{"tool_input":"{\\"command\\":\\"sshpass \\\\\\\\\\\\n  -p ', gen(ALNUM, 12), ' ssh h\\"}"}'),  // Cloud and file-format shapes that leaked in review (added last, so the values above stay the same).
  simple('Azure Storage connection string AccountKey', 'azure_key', 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=', `${gen(B64, 86)}==`, ';EndpointSuffix=core.windows.net'),
  simple('Service Bus connection string SharedAccessKey', 'azure_key', 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=', `${gen(B64, 43)}=`, ''),
  simple('az storage --account-key', 'azure_key', 'az storage blob upload --account-name acct --account-key ', `${gen(B64, 86)}==`, ' -c data -f a.txt'),
  simple('Azure SAS URL sig=', 'url_signature', 'https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=rw&se=2026-01-01T00:00:00Z&sig=', `${gen(ALNUM, 40)}%2B${gen(ALNUM, 2)}%3D`, ''),
  simple('S3 pre-signed URL X-Amz-Signature', 'url_signature', 'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=', gen(HEX, 64), ''),
  simple('Google OAuth access token', 'google_oauth_token', 'gcloud auth print-access-token -> ', `ya29.a0AfH6SMB${gen(ALNUM, 100)}`, ''),
  simple('Google service account access token (ya29.c.)', 'google_oauth_token', 'Authorization: Bearer ', `ya29.c.c0ASRK0Ga${gen(ALNUM, 60)}.${gen(ALNUM, 40)}`, ''),
  simple('PuTTY private key file', 'private_key', `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy key\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAI${gen(ALNUM, 24)}\n${gen(ALNUM, 20)}\n`, `Private-Lines: 1\n${gen(ALNUM, 44)}\nPrivate-MAC: ${gen(HEX, 64)}`, '\ndone'),
  simple('Rails SECRET_KEY_BASE', 'secret', 'SECRET_KEY_BASE=', gen(HEX, 128), ' bin/rails server'),
  simple('.netrc over lines', 'password', 'machine api.heroku.com\n  login me@example.com\n  password ', gen(ALNUM, 24), '\nmachine git.heroku.com'),
  simple('.netrc on one line', 'password', 'machine github.com login bot password ', gen(ALNUM, 20), ''),
  simple('Docker config.json auth', 'basic_auth', '{"auths":{"https://index.docker.io/v1/":{"auth":"', btoa(`bot:${gen(ALNUM, 16)}`), '"}}}'),
  simple('opaque token as the user info of a clone URL', 'url_token', 'git clone https://', gen(HEX, 40), '@github.com/org/repo.git'),
  simple('Azure DevOps PAT as the user info of a URL', 'url_token', 'git remote add origin https://', gen('abcdefghijklmnopqrstuvwxyz234567', 52), '@dev.azure.com/org/proj/_git/repo'),
  simple('Google OAuth refresh token (1//0…)', 'google_oauth_token', '{"refresh_token_hint": "', `1//0g${gen(ALNUM, 96)}`, '"}'),
  simple('Google OAuth refresh token, slashes JSON-escaped', 'google_oauth_token', '{\\"note\\": \\"', `1\\/\\/0gA${gen(ALNUM, 96)}`, '\\"}'),
  simple('Google OAuth refresh token, URL-encoded', 'google_oauth_token', 'https://oauth2.example.com/revoke?t=', `1%2F%2F0gA${gen(ALNUM, 96)}`, '&x=1'),
  // curl -u glued, in a cluster of short flags, and --user=.
  simple('curl -u glued', 'basic_auth', 'curl -uadmin:', gen(ALNUM, 14), ' https://artifactory.example.com/api/x'),
  simple('curl -su in a flag cluster', 'basic_auth', 'curl -su admin:', gen(ALNUM, 14), ' https://x.example.com/'),
  simple('curl -sSfu in a flag cluster', 'basic_auth', 'curl -sSfu admin:', gen(ALNUM, 14), ' https://x.example.com/'),
  simple('curl --user=', 'basic_auth', 'curl --user=admin:', gen(ALNUM, 14), ' https://x.example.com/'),
  // Authorization in Go's header map, a Python pair, and built by code from a literal.
  simple("Go header map Authorization:[Basic …]", 'basic_auth', 'req headers: map[Accept:[*/*] Authorization:[Basic ', btoa(`admin:${gen(ALNUM, 14)}`), ']]'),
  simple("Go header map Authorization:[token …]", 'authorization', 'map[Authorization:[token ', gen(ALNUM, 24), '] Accept:[*/*]]'),
  simple("Python header pair ('Authorization', 'Basic …')", 'basic_auth', "[('Authorization', 'Basic ", btoa(`admin:${gen(ALNUM, 14)}`), "')]"),
  ((secret) => ({
    name: 'Authorization: Basic $(echo -n user:password | base64)',
    kind: 'authorization',
    text: `curl -H "Authorization: Basic $(echo -n 'admin:${secret}' | base64)" https://x.example.com/`,
    expected: `curl -H "Authorization: Basic ${R('authorization')} -n '${R('authorization')}' | base64)" https://x.example.com/`,
    secrets: [secret],
  }))(gen(ALNUM, 14)),
  ((secret) => ({
    name: "Authorization: 'Basic ' + btoa('user:password')",
    kind: 'authorization',
    text: `fetch(url, {headers: {Authorization: 'Basic ' + btoa('admin:${secret}')}})`,
    expected: `fetch(url, {headers: {Authorization: '${R('authorization')} ' + btoa('${R('authorization')}')}})`,
    secrets: [secret],
  }))(gen(ALNUM, 14)),
  ((secret) => ({
    name: 'Authorization: "Basic " + base64.b64encode(b"user:password")',
    kind: 'authorization',
    text: `headers = {"Authorization": "Basic " + base64.b64encode(b"admin:${secret}").decode()}`,
    expected: `headers = {"Authorization": "${R('authorization')} " + base64.b64encode(b"${R('authorization')}").decode()}`,
    secrets: [secret],
  }))(gen(ALNUM, 14)),
  // `pass` as a key, with a value that is not a number or a boolean.
  simple('DB_PASS=', 'password', 'DB_PASS=', gen(ALNUM, 16), ''),
  simple('RABBITMQ_DEFAULT_PASS in docker run -e', 'password', 'docker run -e RABBITMQ_DEFAULT_PASS=', gen(ALNUM, 16), ' rabbitmq:3'),
  simple('Ansible inventory ansible_ssh_pass=', 'password', 'web1 ansible_host=10.0.0.5 ansible_user=root ansible_ssh_pass=', gen(ALNUM, 16), ''),
  simple('YAML db_pass:', 'password', 'database:\n  db_pass: ', gen(ALNUM, 16), '\n  db_user: app'),
  simple('"pass" in JSON text', 'password', '{"user":"bob","pass":"', gen(ALNUM, 16), '"}'),
  simple('&pass= in a query string', 'password', 'https://api.example.com/login?user=bob&pass=', gen(ALNUM, 16), '&next=/'),
  simple('mount -o user=…,pass=', 'password', 'mount -t cifs //srv/share /mnt -o user=bob,pass=', gen(ALNUM, 16), ''),
  simple('kubectl --from-literal=DB_PASS=', 'password', 'kubectl create secret generic db --from-literal=DB_PASS=', gen(ALNUM, 16), ''),
  // XML elements and name/value attribute pairs.
  simple('Maven settings.xml <password>', 'password', '<server><id>nexus</id><username>deploy</username><password>', gen(ALNUM, 16), '</password></server>'),
  simple('XML <apiKey>', 'api_key', '<config><apiKey>', gen(ALNUM, 32), '</apiKey></config>'),
  simple('XML <token> with a namespace', 'token', '<auth:token>', gen(ALNUM, 32), '</auth:token>'),
  simple('Spring <property name="password" value>', 'password', '<property name="password" value="', gen(ALNUM, 16), '"/>'),
  simple('NuGet <add key="ClearTextPassword" value>', 'password', '<packageSourceCredentials><feed><add key="Username" value="bot" /><add key="ClearTextPassword" value="', gen(ALNUM, 16), '" /></feed></packageSourceCredentials>'),
  // A PEM private key base64-encoded whole (Kubernetes Secret, kubeconfig).
  simple('kubeconfig client-key-data (base64 of a PEM key)', 'private_key', '    client-key-data: ', btoa(`-----BEGIN RSA PRIVATE KEY-----\n${pemBody(3)}\n-----END RSA PRIVATE KEY-----\n`), '\n    token: null'),
  simple('Kubernetes Secret tls.key (base64 of a PKCS#8 key)', 'private_key', 'data:\n  tls.key: ', btoa(`-----BEGIN PRIVATE KEY-----\n${pemBody(3)}\n-----END PRIVATE KEY-----\n`), '\ntype: kubernetes.io/tls'),
  // Slack webhooks with JSON-escaped or URL-encoded slashes.
  simple('slack webhook in JSON text with escaped slashes', 'slack_webhook', '{"url":"https:\\/\\/hooks.slack.com\\/services\\/', `T0${gen(UPPER_NUM, 8)}\\/B0${gen(UPPER_NUM, 8)}\\/${gen(ALNUM, 24)}`, '"}'),
  simple('slack webhook URL-encoded in a query string', 'slack_webhook', 'https://app.example.com/hook?target=https%3A%2F%2Fhooks.slack.com%2Fservices%2F', `T0${gen(UPPER_NUM, 8)}%2FB0${gen(UPPER_NUM, 8)}%2F${gen(ALNUM, 24)}`, '&x=1'),
  // Tokens right after a percent-encoded character or a \xNN escape.
  simple('github token after a URL-encoded Bearer', 'github_token', 'redirect?h=Authorization%3A%20Bearer%20', `ghp_${gen(ALNUM, 36)}`, '&x=1'),
  simple('github token after a URL-encoded token=', 'github_token', 'next=/cb%3Ftoken%3D', `ghp_${gen(ALNUM, 36)}`, ''),
  simple('JWT after a URL-encoded space', 'jwt', 'redirect?h=Authorization%3A%20Bearer%20', jwt, ''),
  simple('github token in nginx JSON log (\\x22)', 'github_token', '"POST /api HTTP/1.1" 200 {\\x22token\\x22:\\x22', `ghp_${gen(ALNUM, 36)}`, '\\x22}'),
  // An AWS secret right after its access key id, without a name.
  ...([
    ['IAM credentials CSV', 'Access key ID,Secret access key\n', ',', '\n'],
    ['BasicAWSCredentials("AKIA…", "…")', 'new BasicAWSCredentials("', '", "', '")'],
    ['AKIA…:secret pair', 'creds=', ':', ''],
    ['mc alias set with key id and secret', 'mc alias set s3 https://s3.amazonaws.com ', ' ', ' --api S3v4'],
  ] as const).map(([name, before, between, after]): CorpusEntry => {
    const id = `AKIA${gen(UPPER_NUM, 16)}`;
    const secret = gen(B64, 40);
    return {
      name,
      kind: 'aws_secret_key',
      text: `${before}${id}${between}${secret}${after}`,
      expected: `${before}${R('aws_access_key_id')}${between}${R('aws_secret_key')}${after}`,
      secrets: [id, secret],
      kinds: ['aws_access_key_id', 'aws_secret_key'],
    };
  }),
  // SQL statements that set a password.
  simple("MySQL CREATE USER … IDENTIFIED BY '…'", 'password', "CREATE USER 'app'@'%' IDENTIFIED BY '", gen(ALNUM, 16), "';"),
  simple("MySQL IDENTIFIED WITH plugin BY '…' in mysql -e", 'password', `mysql -e "ALTER USER 'root'@'localhost' IDENTIFIED WITH caching_sha2_password BY '`, gen(ALNUM, 16), `'"`),
  simple("PostgreSQL ALTER USER … WITH PASSWORD '…'", 'password', "ALTER USER app WITH PASSWORD '", gen(ALNUM, 16), "';"),
  simple("PostgreSQL CREATE ROLE … LOGIN PASSWORD '…'", 'password', "CREATE ROLE app LOGIN PASSWORD '", gen(ALNUM, 16), "' VALID UNTIL 'infinity';"),
  // Review fixes (test/scrub/rules-review.test.ts). A doubled quote inside an SQL literal is part of it.
  simple("SQL literal with a doubled ''", 'password', "create role app login encrypted password '", `${gen(ALNUM, 8)}''${gen(ALNUM, 8)}`, "';"),
  simple('logfmt pass= after a space', 'password', 'login ok user=bob pass=', gen(ALNUM, 16), ' took=12ms'),
  simple('INI pass = at a line start', 'password', '[db]\nuser = app\npass = ', gen(ALNUM, 16), '\nhost = db'),
  simple('redis.pass= (a dotted key, = glued)', 'password', 'spring.redis.pass=', gen(ALNUM, 16), ''),
  // A second review: the narrowings above had opened these.
  simple('a quoted passphrase that starts with a setting word (no, read, none, …)', 'password', 'SSH_PASSPHRASE="', `no place like home ${gen(ALNUM, 8)}`, '"'),
  simple('a JSON password that starts with "yes"', 'password', '{"password": "', `yes please ${gen(ALNUM, 8)}`, '"}'),
  simple("SQL in Markdown inline code (a backtick after the literal)", 'password', "`ALTER USER postgres WITH PASSWORD '", gen(ALNUM, 16), "'`"),
  simple("SQL in a Go raw string", 'password', "db.Exec(`CREATE USER 'bob'@'%' IDENTIFIED BY '", gen(ALNUM, 16), "'`)"),
  simple('PHP $pass = \'…\'', 'password', "$pass = '", gen(ALNUM, 16), "';"),
  simple('docker run -e "PASS=…"', 'password', 'docker run -e "PASS=', gen(ALNUM, 16), '" app'),
  simple('systemd Environment=PASS=…', 'password', 'Environment=PASS=', gen(ALNUM, 16), ''),
  simple('.env SECRET_KEY whose value starts with = (Django keys may)', 'secret', 'SECRET_KEY=', `=${gen(ALNUM, 40)}`, '\nDEBUG=false'),
  ((secret) => ({
    name: "Azure DevOps: Basic $(echo -n ':PAT' | base64), an empty user before the token",
    kind: 'authorization',
    text: `curl -H "Authorization: Basic $(echo -n ':${secret}' | base64)" https://dev.azure.com/org`,
    expected: `curl -H "Authorization: Basic ${R('authorization')} -n '${R('authorization')}' | base64)" https://dev.azure.com/org`,
    secrets: [secret],
  }))(gen(ALNUM, 52)),
  ((secret) => ({
    name: 'Authorization: Basic $(echo -n user:password | base64), unquoted',
    kind: 'authorization',
    text: `curl -H "Authorization: Basic $(echo -n admin:${secret} | base64)" https://x.example.com/`,
    expected: `curl -H "Authorization: Basic ${R('authorization')} -n ${R('authorization')} | base64)" https://x.example.com/`,
    secrets: [secret],
  }))(gen(ALNUM, 14)),
  ((secret) => ({
    name: "Authorization: f'Basic {base64.b64encode(b\"user:password\")…}'",
    kind: 'authorization',
    text: `headers = {'Authorization': f'Basic {base64.b64encode(b"admin:${secret}").decode()}'}`,
    expected: `headers = {'Authorization': ${R('authorization')}'Basic {base64.b64encode(b"${R('authorization')}").decode()}'}`,
    secrets: [secret],
  }))(gen(ALNUM, 14)),
  simple('SQL PASSWORD "…" JSON-escaped in JSON text', 'password', '{"sql":"ALTER ROLE app PASSWORD \\"', gen(ALNUM, 16), '\\";"}'),
];

// ---------------------------------------------------------------------------
// Placing an entry's text in every field of an event.

/** One place corpusEvent put the text, and the path scrubEvent must report for it. */
export interface Placement {
  /** The path of the value (or of the key, for the key placement) after scrubbing. */
  path: string;
  /** Segments to read the scrubbed value back (for a key: the object holding it). */
  at: PathSegment[];
  /** True when the text was placed as an object key. */
  key?: boolean;
}

const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const TRIMMED = /^\S(?:[^]*\S)?$/u;
const printable = (s: string, max: number) => s.length <= max && PRINTABLE.test(s) && TRIMMED.test(s);

/**
 * A schema-valid event (parseEvent accepts it) with `text` in every string
 * field that can hold it: ids and labels when the text is short, single-line
 * and trimmed; free text, metadata (nested, in arrays, as a key), change
 * values and a pii value always. Returns the event and the placements, whose
 * `path`s are exactly what scrubEvent must report with the entry's kind.
 */
export function corpusEvent(entry: Pick<CorpusEntry, 'text' | 'expected'>): { event: Record<string, unknown>; placements: Placement[] } {
  const t = entry.text;
  const placements: Placement[] = [];
  const put = (at: PathSegment[]) => placements.push({ path: formatPath(at), at });
  const event: Record<string, unknown> = {
    actor: { type: 'agent', id: 'agent-7' },
    action: { type: 'tool.call' },
    command: { text: t },
    reasoning: { summary: t },
    result: { status: 'failure', detail: t },
    approval: { note: t },
    policy: { decision: 'ALLOW', policy_snapshot: t },
    change: { previous_value: t, proposed_value: { config: { env: [t] } } },
    data_accessed: [{ type: 'secret' }],
    metadata: { shell: { history: ['ls', 'cd /srv', t] }, nested: { deep: { text: t } } },
    pii: { contact: { subject: 'subject-1', value: t } },
  };
  for (const p of [
    ['command', 'text'],
    ['reasoning', 'summary'],
    ['result', 'detail'],
    ['approval', 'note'],
    ['policy', 'policy_snapshot'],
    ['change', 'previous_value'],
    ['change', 'proposed_value', 'config', 'env', 0],
    ['metadata', 'shell', 'history', 2],
    ['metadata', 'nested', 'deep', 'text'],
    ['pii', 'contact', 'value'],
  ] as PathSegment[][])
    put(p);
  const label = (obj: string, field: string, max: number) => {
    if (!printable(t, max)) return;
    (event[obj] as Record<string, unknown>)[field] = t;
    put([obj, field]);
  };
  if (printable(t, 256)) {
    event.run_id = t;
    put(['run_id']);
    (event.actor as Record<string, unknown>).on_behalf_of = t;
    put(['actor', 'on_behalf_of']);
    (event.data_accessed as Array<Record<string, unknown>>)[0]!.id = t;
    put(['data_accessed', 0, 'id']);
  }
  if (printable(t, 1024)) {
    (event.data_accessed as unknown[]).push(t);
    put(['data_accessed', 1]);
  }
  label('action', 'name', 128);
  event.target = {};
  label('target', 'resource', 1024);
  if (printable(t, 1024)) {
    (event.command as Record<string, unknown>).cwd = t;
    put(['command', 'cwd']);
  }
  if (t.length <= 256) {
    // As an object key: reported at the key's scrubbed name.
    (event.metadata as Record<string, unknown>)[t] = 'key-holder';
    placements.push({ path: formatPath(['metadata', entry.expected]), at: ['metadata'], key: true });
  }
  return { event, placements };
}

/** Strings that no default rule may touch. */
export const NOT_SECRETS: readonly string[] = [
  'Please reset your password.',
  // Words that are settings, not secrets: a GitHub Actions permission, MySQL's error text.
  'permissions:\n  id-token: write\n  contents: read',
  "ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.5' (using password: YES)",
  'auth: {"token": "none", "api_key": "no"}',
  'password reset requested for user-42',
  'The token count was 512; max_tokens=4096 and prompt_tokens: 12.',
  'Bearer authentication is described in RFC 6750.',
  'the bearer of this letter',
  'Forgot password? Click "Reset".',
  'secret santa draw on friday',
  'rotate the API key every 90 days',
  '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  'E3B0C442-98FC-1C14-9AFB-F4C8996FB924',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'leaf hash 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
  'root_hash: n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
  'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  '2026-11-23T12:00:00.000Z',
  '2026-11-23T12:00:00+01:00',
  '[REDACTED:password]',
  'saw [REDACTED:github_token] and [REDACTED:jwt] earlier',
  'https://api.example.com/v1/users?page=2&per_page=50',
  'ssh://git@github.com:22/org/repo.git',
  'postgres://db.internal:5432/prod',
  'http://localhost:8080/health',
  'risk-assessment-for-production-deployment-2026',
  'scikit-learn sk-learn is a library',
  'git push -u origin main',
  'docker run -u 1000:1000 alpine',
  'ASIA-PACIFIC region, AKIA is a prefix',
  'the task completed successfully in 184 ms',
  'token_type: bearer',
  'has_password: true',
  'npm install --save-dev typescript',
  'approve_invoice INV-2026-0042 for vendor ACME-17',
  'See RFC 7519 for JSON Web Tokens (eyJ... prefix).',
  'cookies are stored per site',
  // A port, then an @ in the query: not a password.
  'https://example.com:8080/path?email=a@b.com',
  'http://10.0.0.5:3000/#/users/bob@example.org',
  'usage: input_tokens 812, output_tokens 64, total_tokens 876',
  'CORS_ORIGINS=http://localhost:3000,https://admin@corp.example.com',
  'http://[fe80::1]/@alice and http://[::1]:8080/users/@alice',
  'git+https://gitlab.com/grp/proj.git@v1.4.0',
  // Command lines: short flags that are not passwords. Password flags are tool-anchored, so these stay.
  'mkdir -p dir',
  'ssh -p 2222 host',
  'docker run -p 8080:80 nginx',
  'docker run --rm -p 8080:80 nginx login -p 9000',
  'mysql -p dbname',
  'mysql -u root -p dbname',
  'mysql -u root -p -h db app',
  'mysql -P 3306 -h db app',
  'mysql app; mkdir -p dir',
  'mysql app && ssh -p 2222 host',
  'mysql app | grep -p foo',
  'mkdir -p /var/lib/mysql',
  'kubectl port-forward svc/db 3306:3306',
  'git log -p',
  'cp -a src dst',
  'ls -a /tmp',
  'redis-cli -p 6380 ping',
  'pip install -U pkg',
  'tar -xzf a.tgz',
  'scp -P 2222 f host:/tmp',
  'nc -P 8080 host',
  'psql -p 5432 -h db',
  'docker login -u bot --password-stdin registry.example.com',
  'echo "$PW" | docker login -u bot --password-stdin',
  'sshpass -f pw.txt ssh -p 2222 host',
  'sshpass -e ssh -p 2222 host',
  'mongod --port 27017',
  'openssl enc -aes-256-cbc -pass env:PW -in f',
  'openssl rsa -passin file:/run/pw -in k',
  'keytool -list -storepass:env STOREPASS',
  'htpasswd -c .htpasswd admin',
  'htpasswd -D .htpasswd admin',
  'sqlplus / as sysdba',
  'sqlplus /nolog',
  'sqlplus scott@orcl',
  'rman target /',
  'net use Z: \\\\srv\\share /persistent:yes',
  'net use Z: \\\\srv\\share * /user:corp\\admin',
  'net user admin /delete',
  'vault login -method=oidc',
  'vault login -',
  'smbclient -L srv -U admin',
  'ldapsearch -x -W -D cn=admin -b dc=x',
  '7z a -p archive.7z files',
  'unzip -o a.zip',
  'az login --identity',
  'cf login -a api.example.com -u me',
  'the _auth field and _authToken in .npmrc',
  'hf_model_name_is_long_and_descriptive_xx',
  // A closing parenthesis ends an unquoted word; `-p` then `)` prompts.
  '(cd x && mysql -p)',
  'result=$(mysql -N -p)',
  // .npmrc keys only at the start of a line or after `:`; never in code.
  'self._auth = auth',
  "const _auth = require('./auth')",
  'this._auth = null;',
  '_auth = false',
  'let x = obj._authToken',
  // An escaped newline ends the command: mkdir is not mysql.
  '{"cmd":"mysql db\\nmkdir -pdir"}',
  'mysql db \\\nls; mkdir -pdir',
  // A tool name as any word: not after an option that takes it as its value, and flags of other tools stay.
  'docker exec db mkdir -p /x',
  'kubectl exec pod -- ssh -p 22 h',
  'docker run -p 8080:80 mysql',
  'docker exec db mysql -p dbname',
  'echo "use mysql -p for a prompt"',
  'grep -r mysql -p .',
  'docker run -d --name mongo -p 27017:27017 mongo',
  'docker run -d --name mysql -p3306:3306 mysql:8',
  'psql -h db -U mysql -p5432 app',
  'kubectl logs mongo -p',
  'kubectl exec -it db-0 -c mysql -- mysql -p app',
  'cp -r /var/lib/mysql /backup -p',
  'docker run --name redis-cli -a stdin redis',
  'C:\\> dir /p',
  '- mkdir -p dir',
  'timeout 30 ssh -p 2222 host',
  // ssh's destination named like a tool (`-t` takes no value, `-p` one), and a tool name as an option's value.
  'ssh -t mysql -p2222',
  'ssh -p 22 -t mysql -p2222',
  'ssh -l mysql -t host',
  'pg_dump -t mysql -p5432 db',
  // After `docker exec`, only the word after the container is its command; `docker run` is not read.
  'docker exec --user zip db ls -P x',
  'docker exec db ls zip -P x',
  'docker exec -it zip -P x',
  'docker run -p 8080:80 zip',
  // In JSON text, an escaped backslash then an escaped line break (five backslashes) still ends the command.
  '{"cmd":"mysql db\\\\\\\\\\nmkdir -pdir"}',  // Near the new shapes: `sig` inside words or without `=`, prose about tokens and .netrc words, user names as user info.
  'design=x&config=y&signal=1&sig_type=hmac&sigma=2',
  'the sig= parameter of a SAS URL',
  'signature_verified: true',
  'AccountName=acct;EndpointSuffix=core.windows.net',
  'account_key_id: 7, accountKeyCount=2',
  'ya29 is the prefix of Google access tokens (ya29.…)',
  'see https://example.com/a/1//0 and the ratio 1//0',
  'file:///srv/1//0_backup/index',
  'https://api.example.com/orgs/1//0e8400e2-e29b-41d4-a716-446655440000/members',
  'file:///srv/data/1//0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d/log',
  's3://bucket/1//00000000000000000000000000000000000000/x',
  'machine learning password policy',
  'the default password reset flow',
  'https://deploy-bot@git.example.com/repo.git',
  'https://builder-account-for-ci@ci.example.com/x',
  'https://user42@host.example.com/x',
  '{"auth": true, "auth_type": "basic", "authority": "x"}',
  'Public-Lines: 2',
  'secret_key_base_path: config/credentials.yml.enc',
  // curl's other short flags (no -u in the cluster) and -u elsewhere in a pipeline.
  'curl -sSfL https://get.example.com/install.sh -o /tmp/i.sh',
  'curl -fsS https://x.example.com/ | sort -u | head -n 5',
  // `pass` as a count, a boolean, prose or part of a word.
  '{"pass": 12, "fail": 0}',
  'pass: 12, fail: 0, skip: 1',
  '{"pass":true,"retry_pass":false}',
  'first pass: parse the file',
  'bypass=1 compass: north --pass-through=x',
  'if x: pass',
  // XML: empty or non-secret elements and attributes.
  '<password></password><password/><max_tokens>4096</max_tokens>',
  '<property name="password_policy" value="strict"/><passwordLength>12</passwordLength>',
  '<input type="password" name="password" value="">',
  // A self-closing secret tag, a closing tag not named like a secret, a number under a token element.
  '<note><password /> trailing text</note>',
  '<p><token/> the rest of the line</p>',
  'let x: Option<Token> = lexer.next(); // compare a </b>',
  '<config><max_token>512</max_token></config>',
  // A base64-encoded certificate is not a private key.
  `client-certificate-data: ${btoa('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUe\n-----END CERTIFICATE-----\n')}`,
  // "identified by" in prose, an unquoted word after it.
  'users are identified by email; CREATE USER x IDENTIFIED EXTERNALLY',
  // The word `password` then a quote in code and JSON: not a closed SQL literal.
  'input("Enter your password ")',
  '{"prompt":"Enter password ","next":"ok"}',
  'echo "Enter password "; read -s PW',
  'print("Invalid username or password " + user)',
  'getpass.getpass("New password ") + x',
  // `pass` in code and test output: comparisons, declarations, properties, statuses, counts.
  'if (pass === true) { ok() }',
  'if (password === expected) return',
  'const pass = results.every((r) => r.ok)',
  'PASS=12/12 FAIL=0',
  'tests: pass=100% fail=0%',
  '{"name": "t1", "pass": "ok"}',
  '{"status":"pass","pass":"PASSED"}',
  'lint-pass: ok',
  'PASS=$((PASS+1))',
  'clang -mllvm -debug-pass=Structure foo.c',
  'x.pass = None',
  'first_pass=done second_pass: enabled',
  'self.pass = Pass(config)',
];
