/**
 * The scrubbing rule table. Rules are data, so operators can extend the table
 * from a JSON file (see load.ts) without code:
 *
 *  - text rules (ScrubRule) find a secret inside a string; only the secret
 *    (one capture group) is replaced, the text around it is kept;
 *  - key rules (SecretKeyRule) name object keys whose whole value is a secret
 *    (`"password": "…"`), whatever the value looks like.
 *
 * Order is priority: when spans of two rules overlap, the union is redacted
 * under the kind of the earlier rule. So specific rules (a GitHub token) come
 * before contextual ones (a bearer token, `token=…`), and Anthropic before
 * OpenAI, whose `sk-` pattern also matches `sk-ant-` keys.
 *
 * Every sample secret in comments and tests is fake.
 */

/** A rule that finds secrets inside text. */
export interface ScrubRule {
  /** Marker kind: `[REDACTED:<kind>]`. Lowercase letters, digits and `_`, starting with a letter. */
  kind: string;
  /** JavaScript regular expression source. */
  pattern: string;
  /** Extra flags from `i`, `m`, `s`, `u` (`g` and `d` are always added). */
  flags?: string;
  /** The capture group holding the secret: a number or a group name. Default 0, the whole match. */
  secretGroup?: number | string;
  /**
   * Literal strings (matched case-insensitively) of which at least one occurs
   * wherever the rule can match. A cheap pre-check skips the rule for strings
   * without any; a rule without hints runs on every string.
   */
  hints?: string[];
}

/** A rule that names object keys whose values are secrets. */
export interface SecretKeyRule {
  kind: string;
  /**
   * Key names, compared after normalization: lowercased, with `-`, `_`, `.`
   * and spaces removed (`X-Api-Key`, `x_api_key` and `xApiKey` are all `xapikey`).
   */
  names: string[];
  /** `exact` (default): the whole normalized key; `suffix`: the normalized key ends with a name. */
  match?: 'exact' | 'suffix';
}

/** A set of rules: what compileRules takes and what an operator file holds. */
export interface RuleSet {
  rules: readonly ScrubRule[];
  keys?: readonly SecretKeyRule[];
}

/** Normalizes a key for key-rule matching. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_. ]/g, '');
}

// A value after `key=`, `key: `, `"key": "…"` or `--flag `; never a bare true, false or null. Three shapes:
//  - after an unescaped quote: up to the closing quote, honouring JSON escapes;
//  - after an escaped quote (JSON inside a string, `\"pw\": \"…\"`): up to the next backslash or quote;
//  - unquoted: up to whitespace, a quote, `,`, `;` or `&` (query strings, ADO connection strings),
//    never ending in a backslash (which would escape the next character in JSON text).
const VALUE = String.raw`(?!(?:true|false|null)(?![^\s"'\x60,;&]))((?<=(?<!\\)")(?:[^"\\\r\n]|\\.)+|(?<=\\")[^"\\\r\n]+|(?<=')[^'\r\n]+|(?<![\\"'])[^\s"'\x60,;&]*[^\s"'\x60,;&\\])`;

/**
 * A `key=value` rule. `keys` is matched case-insensitively where it ends an
 * identifier (`DB_PASSWORD=`, `clientSecret:`); `flags` are CLI long options
 * whose value may follow a space (`--password hunter2`), with any `word-`
 * prefix (`--db-password`). A value starting with `-` after a space is the
 * next option, not a value. A key inside a URL's user info
 * (`https://x-access-token:…@host`) is left to the URL rules, which keep the host.
 */
function keyValueRule(kind: string, keys: string, flags: string, hints: string[]): ScrubRule {
  const flag = String.raw`(?<![\w-])--(?:[a-z0-9-]*-)?(?:${flags})(?:=|[ \t]+(?!-))["']?`;
  // The URL check is a bounded lookbehind AFTER the key, so it only runs where a key matched.
  const assign = String.raw`(?:${keys})(?<!://[^\s/@]{0,256})\\{0,4}["']?[ \t]*(?:=>|:=|[:=])[ \t]*\\{0,4}["']?`;
  return { kind, pattern: `(?:${flag}|${assign})${VALUE}`, flags: 'i', secretGroup: 1, hints };
}

/**
 * `://user:password@host` of a URL (also JSON-escaped, `:\/\/`, once or
 * twice); group 1 is the password, as described at the connection_string rule. Passwords are often not percent-encoded, so:
 *  - the password runs to the LAST @ of the authority that a host follows
 *    (a name or an [IPv6] literal, then : / ? # , ; ) a quote, whitespace or
 *    the end), and it may hold @ # ? and, before its first @, /;
 *  - the authority ends at the first / after an @, so an @ in the path or
 *    query (`/notify?to=ops@corp.example`, `proj.git@v1.4.0`) is not taken
 *    for the end of a password, and the host that stays is the real one;
 *  - `host:8080/…` is a port, not a password; `[fe80::1]` is not a user;
 *  - nothing crosses a `:/` (or `:\`, escaped) or whitespace, which keeps a
 *    long run of URLs linear to scan (each part stops at the next one).
 */
const URL_PASSWORD = String.raw`:(?:\\{0,4}/){2}[^\s:/?#"'<>\[\]\\]*:(?!\d{1,5}(?:[/\s"'<>,;)\]\\]|$))(?!@)((?:(?!:[/\\])[^\s"'@])*(?:@[^\s"'@/\\]*){0,8})@(?=(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@:"'<>\\[\],;)]+)(?:[:/?#\s"'<>\\,;)\]]|$)|[/:\\])`;

/** The built-in text rules, in priority order. */
export const DEFAULT_RULES: readonly ScrubRule[] = Object.freeze([
  // PEM blocks, whole, BEGIN to END; a truncated block (no END) to the end of the string.
  {
    kind: 'private_key',
    pattern: String.raw`-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)`,
    hints: ['PRIVATE KEY'],
  },
  // header.payload.signature, both JSON parts base64url of `{"` (eyJ); the signature may be empty (alg none).
  { kind: 'jwt', pattern: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, hints: ['eyJ'] },
  { kind: 'anthropic_key', pattern: String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`, hints: ['sk-ant-'] },
  // Legacy sk-…, sk-proj-, sk-svcacct-, sk-admin-. Real keys hold a digit early on; prose like sk-learn does not.
  // Lookaheads are bounded (256) so a long run of key characters costs linear time.
  {
    kind: 'openai_key',
    pattern: String.raw`\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]{0,256}[0-9])[A-Za-z0-9_-]{20,}`,
    hints: ['sk-'],
  },
  {
    kind: 'github_token',
    pattern: String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`,
    hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  {
    kind: 'gitlab_token',
    pattern: String.raw`\bgl(?:pat|dt|ptt|rt|cbt|imt|oas|ft|agent|soat|ffct|ddt|wt)-[A-Za-z0-9_-]{20,}`,
    hints: ['glpat-', 'gldt-', 'glptt-', 'glrt-', 'glcbt-', 'glimt-', 'gloas-', 'glft-', 'glagent-', 'glsoat-', 'glffct-', 'glddt-', 'glwt-'],
  },
  // Keep the host and kind of webhook readable; the path is the secret.
  {
    kind: 'slack_webhook',
    pattern: String.raw`\bhooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['hooks.slack.com'],
  },
  { kind: 'slack_token', pattern: String.raw`\b(?:xox[abposrec]|xapp)-[A-Za-z0-9-]{10,}`, hints: ['xox', 'xapp-'] },
  {
    kind: 'stripe_key',
    pattern: String.raw`\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}`,
    hints: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
  },
  { kind: 'stripe_webhook_secret', pattern: String.raw`\bwhsec_[A-Za-z0-9+/=]{20,}`, hints: ['whsec_'] },
  {
    kind: 'aws_access_key_id',
    pattern: String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z0-9]{16}\b`,
    hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'APKA', 'A3T'],
  },
  // A 40-character secret shortly after "aws … secret" (aws_secret_access_key=, "AWS secret key: …",
  // and aws configure's prompt "AWS Secret Access Key [****************EKEY]: …").
  {
    kind: 'aws_secret_key',
    pattern: String.raw`aws[\w .-]{0,40}?secret[\w .*[\]-]{0,48}?[\s:="']{1,4}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    flags: 'i',
    secretGroup: 1,
    hints: ['aws'],
  },
  {
    kind: 'basic_auth',
    pattern: String.raw`authorization\\{0,4}["']?[ \t]*[:=][ \t]*\\{0,4}["']?basic[ \t]+([A-Za-z0-9+/=._~-]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['authorization'],
  },
  // curl -u user:password (other tools use -u for uid:gid, so only within 512 characters after "curl").
  {
    kind: 'basic_auth',
    pattern: String.raw`\bcurl\b[^\r\n]{0,512}?[ \t](?:-u|--user)[ \t]+["']?[^\s:"']*:([^\s"']+)`,
    secretGroup: 1,
    hints: ['curl'],
  },
  // Standalone "Bearer <token>": the token must hold a digit, so "bearer authentication" is prose.
  {
    kind: 'bearer_token',
    pattern: String.raw`\bbearer[ \t]+(?=[A-Za-z0-9._~+/-]{0,256}[0-9])([A-Za-z0-9._~+/-]{16,}=*)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['bearer'],
  },
  // Any other Authorization header value, with or without a scheme.
  {
    kind: 'authorization',
    pattern: String.raw`\b(?:proxy-)?authorization\\{0,4}["']?[ \t]*[:=][ \t]*\\{0,4}["']?(?:(?:basic|bearer|token|bot|digest|negotiate|ntlm|apikey|hmac|aws4-hmac-sha256)[ \t]+)?([^\s"',;\\]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['authorization'],
  },
  // scheme://user:password@host keeps the user and the host. Passwords are often
  // not percent-encoded, so the password may hold @ # ? / and runs to the LAST @
  // that a host follows (a run without / ? # @ : then a delimiter or the end); the
  // user may hold an @ too (user@corp.com). Not a port: ":8080/path?mail=a@b.c".
  {
    kind: 'connection_string',
    pattern: String.raw`\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse)${URL_PASSWORD}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['://', ':\\/', ':\\\\/'],
  },
  {
    kind: 'url_password',
    pattern: String.raw`\b[a-z][a-z0-9+.-]{1,30}${URL_PASSWORD}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['://', ':\\/', ':\\\\/'],
  },
  {
    kind: 'cookie',
    pattern: String.raw`(?<![A-Za-z0-9_-])(?:set-)?cookie\\{0,4}["']?[ \t]*:[ \t]*\\{0,4}["']?([^\r\n"'\\]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['cookie'],
  },
  // ADO.NET / ODBC connection strings: the value runs to the next ";" and may hold spaces.
  {
    kind: 'password',
    pattern: String.raw`(?:^|;)[ \t]*(?:password|pwd)[ \t]*=[ \t]*([^;\r\n"\\]*[^;\s"\\])`,
    flags: 'i',
    secretGroup: 1,
    hints: ['password', 'pwd'],
  },
  // key=value forms, JSON-ish "key": "value", ADO/JDBC Password=…; and CLI flags.
  keyValueRule('password', String.raw`pass(?:word|wd|phrase)|(?<![a-z])pwd`, 'password|passwd|pass|passphrase', ['pass', 'pwd']),
  keyValueRule('api_key', String.raw`api[_-]?key`, 'api-key|apikey', ['apikey', 'api_key', 'api-key']),
  keyValueRule('token', 'token', 'token', ['token']),
  keyValueRule('secret', String.raw`secret(?:[_-]?key)?|private[_-]?key|access[_-]?key`, 'secret|secret-key|private-key|access-key', [
    'secret',
    'private',
    'access',
  ]),
] satisfies ScrubRule[]);

/** The built-in key rules. A value under such a key is redacted whole. */
export const DEFAULT_KEY_RULES: readonly SecretKeyRule[] = Object.freeze([
  // Plurals too (a list of passwords), but not `tokens`: max_tokens, input_tokens are usage counts.
  { kind: 'password', names: ['password', 'passwd', 'passphrase', 'passwords'], match: 'suffix' },
  { kind: 'password', names: ['pwd'] },
  { kind: 'private_key', names: ['privatekey', 'privatekeys'], match: 'suffix' },
  // Not `secrets`: Kubernetes' imagePullSecrets and secrets lists hold names, and num_secrets is a count.
  { kind: 'secret', names: ['secret', 'secretkey', 'accesskey', 'credential', 'credentials', 'secretkeys', 'accesskeys'], match: 'suffix' },
  { kind: 'api_key', names: ['apikey', 'apikeys'], match: 'suffix' },
  { kind: 'token', names: ['token'], match: 'suffix' },
  { kind: 'authorization', names: ['authorization'], match: 'suffix' },
  { kind: 'authorization', names: ['auth'] },
  { kind: 'cookie', names: ['cookie', 'setcookie'] },
] satisfies SecretKeyRule[]);

/** The built-in rule set. */
export const DEFAULT_RULESET: RuleSet = Object.freeze({ rules: DEFAULT_RULES, keys: DEFAULT_KEY_RULES });

/** The marker that replaces a secret. Kinds are validated, so the marker itself never looks like a secret. */
export function marker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** Kind names: short, lowercase, so markers are unambiguous and easy to search for. */
export const KIND_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** Kind recorded when a string is longer than the scan bound and its tail is dropped. */
export const UNSCANNED_KIND = 'unscanned';
