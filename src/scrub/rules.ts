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
  /**
   * A command-line rule: it also reads the joined line of an argument array (`["mysql", "-p…"]`,
   * a `command` with its `args`), where its match may need several elements (a tool and its
   * flag, a flag and its value). Default false: key=value, `key:`, header and token rules read
   * each element alone, so an array of lines (`["Password:", "Sorry, try again."]`) keeps its
   * lines.
   */
  argv?: boolean;
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

// A value after `key=`, `key: `, `"key": "…"` or `--flag `; never a bare true, false, null, yes, no, none,
// read or write (settings: `id-token: write` in a GitHub workflow, MySQL's `(using password: YES)`). Three shapes:
//  - after an unescaped quote: up to the closing quote, honouring JSON escapes;
//  - after an escaped quote (JSON inside a string, `\"pw\": \"…\"`): up to the next backslash or quote;
//  - unquoted: up to whitespace, a quote, `,`, `;` or `&` (query strings, ADO connection strings),
//    never ending in a backslash (which would escape the next character in JSON text).
const VALUE = String.raw`((?<=(?<!\\)")(?!(?:true|false|null|yes|no|none|read|write)")(?:[^"\\\r\n]|\\.)+|(?<=\\")(?!(?:true|false|null|yes|no|none|read|write)\\)[^"\\\r\n]+|(?<=')(?!(?:true|false|null|yes|no|none|read|write)')[^'\r\n]+|(?<![\\"'])(?!(?:true|false|null|yes|no|none|read|write)(?![^\s"'\x60,;&)\]}]))[^\s"'\x60,;&]*[^\s"'\x60,;&\\])`;

/**
 * After a key: its closing quote (also JSON-escaped), `=`, `:`, `=>` or `:=`, and the value's opening quote.
 * Not `==` or `===` as code writes them: a comparison (`if (password === expected)`, `pass == x`) is
 * not an assignment. A value starting with `=` right after a glued `=` is one (`SECRET_KEY==k2…` in a
 * `.env`: Django's random keys may start with `=`); so is code's rare `password==x`, taken too.
 * The URL check is a bounded lookbehind AFTER the key, so it only runs where a key matched.
 */
const ASSIGN_TAIL = String.raw`(?<!://[^\s/@]{0,256})\\{0,4}["']?[ \t]*(?:=>|:=|[:=])(?!=(?:=|[ \t]|$)|(?<=[ \t]=)=)[ \t]*\\{0,4}["']?`;

/**
 * A `key=value` rule, as two: `keys` is matched case-insensitively where it ends an
 * identifier (`DB_PASSWORD=`, `clientSecret:`); `flags` are CLI long options
 * whose value may follow a space (`--password hunter2`), with any `word-`
 * prefix (`--db-password`). A value starting with `-` after a space is the
 * next option, not a value. A key inside a URL's user info
 * (`https://x-access-token:…@host`) is left to the URL rules, which keep the host.
 * The flag rule is a command-line rule (argv: `["pg_dump", "--password", "…"]`); the key rule is
 * not (`["Password:", "Sorry, try again."]` are two lines).
 */
function keyValueRule(kind: string, keys: string, flags: string, hints: string[]): ScrubRule[] {
  const flag = String.raw`(?<![\w-])--(?:[a-z0-9-]*-)?(?:${flags})(?:=|[ \t]+(?!-))["']?`;
  const assign = String.raw`(?:${keys})${ASSIGN_TAIL}`;
  return [
    { kind, pattern: `${flag}${VALUE}`, flags: 'i', secretGroup: 1, hints, argv: true },
    { kind, pattern: `${assign}${VALUE}`, flags: 'i', secretGroup: 1, hints },
  ];
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

// ---------------------------------------------------------------------------
// Command lines. Short flags mean different things to different tools (`-p` is
// a password to mysql glued, a port to ssh, "parents" to mkdir), so every rule
// for a short flag or a positional password is anchored to its tool:
//
//  - the tool must be the command word of a simple command: at the start of
//    the string or after `;`, `&`, `|` (so `&&`, `||`), `(` (so `$(`), `{`, a
//    backtick or a line break (also a JSON-escaped `\n`, `\r`, `\t`, once or
//    twice escaped); or after a quote (`sh -c "mysql …"`,
//    a command inside JSON text), `: ` (`run: mysql …` in CI YAML, a log line's
//    `failed: mysql …`) or a `$ `/`# ` prompt; then optionally wrappers
//    (`sudo -u x`, `env A=1`, `nohup`, `time`, `exec`, `xargs`, `then`, `do`,
//    `VAR=value`, `docker exec -it CONTAINER`) and a path (`/usr/bin/`, `C:\…\`); also
//    after ` -- `, a YAML/Markdown `- ` item or a Windows prompt at a line start;
//  - or, for tools whose names are unambiguous as words (ANY_WORD: mysql, redis-cli, sqlplus, …),
//    any word of the command that does not follow an option, in any letter case
//    (`docker exec -it db mysql`, `ssh host MYSQL.EXE`), or that follows ssh's options
//    without a value after its destination (`ssh host -t mysql`);
//  - the flag must follow within the same command: nothing between the tool
//    and the flag crosses `;`, `&`, `|`, a backtick or a line break (also a
//    JSON-escaped one); a line continuation (backslash, line break; also one
//    inside JSON text, `\\\n`) is whitespace.
//
// So `mysql db; mkdir -p x` and `echo zip -P X` are left alone (the second is
// a documented leak). Flag rules match the flag first and check the tool with
// a bounded lookbehind, so every flag of a command is found in one pass
// (`keytool -storepass A -keypass B`) and a string costs at most one bounded
// look back (CMD_SPAN) per occurrence of the flag: linear, like the curl rule.

/**
 * A line start (also a JSON-escaped `\n`, `\r`, a quote: a line inside JSON text, or `: ` as in a
 * log message), its indentation, then a YAML or Markdown list item's `- ` or a Windows prompt
 * (`C:\> `, `PS C:\Users\me> `, a bare `> `).
 */
const LINE_ITEM = String.raw`(?:^|[\r\n"']|:[ \t]|\\{1,4}[nr])[ \t]{0,64}(?:-|(?:PS[ \t]+)?(?:[A-Za-z]:[^\r\n<>|"]{0,128})?>)[ \t]`;
/** Where a command word can start (see above). Used inside lookbehinds. */
const CMD_START = String.raw`(?:^|[\r\n;&|({\x60"']|:[ \t]|[$#][ \t]|\\{1,4}[nrt]|[ \t]--[ \t]|${LINE_ITEM})[ \t]*`;
/**
 * A line continuation inside JSON text, up to its `n`: an escaped backslash then an escaped line
 * break, `\\\n` or `\\\r\n` once escaped (three backslashes), six backslashes twice escaped
 * (`\\\\\\r\\n`), twelve thrice (a JSON log line quoting such an event). Written without counted
 * repetitions, which WS+ may not hold (the backtracking guard). The run of backslashes is exact:
 * other runs before `n` (two, a line break escaped twice; five, an escaped backslash then a line
 * break) still end the command.
 */
const JSON_CONT_HEAD = String.raw`(?<!\\)\\\\\\(?:\\\\\\(?:\\\\\\\\\\\\)?)?(?:r\\\\?\\?\\?)?`;
/**
 * Whitespace inside a command: a space, a tab, or a line continuation (a
 * backslash then a line break), which the shell reads as a space; also one
 * inside JSON text (JSON_CONT_HEAD).
 */
const WS = String.raw`(?:[ \t]|\\\r?\n|${JSON_CONT_HEAD}n)`;
/**
 * WS without the JSON form, where the patterns would pass the length cap (2,048) with it: right
 * after the tool's name (CMD_BODY reads a JSON continuation after that first space), and between
 * the options of sshpass and of registry logins before `login`.
 */
const WS_PLAIN = String.raw`(?:[ \t]|\\\r?\n)`;
/**
 * Up to three wrapper words, each with up to three options: short ones, of which only `-u`, `-g`,
 * `-n`, `-s`, `-k` take a value (`sudo -u mysql`, `nice -n 10`, `watch -n 5`, `timeout -s KILL`),
 * and long ones with an optional `=value` (`sudo --user=mysql`); `timeout` then its duration
 * (`timeout 30`, `timeout 1.5m`). Kept this narrow on purpose: it is matched backwards inside every
 * lookbehind, and free-form options with values made a hostile string (`sudo -u keytool
 * -storepass …` repeated) 20× slower.
 */
const WRAPPER_OPTS = String.raw`(?:[ \t]+-(?:[ugnsk][ \t]+[\w.@-]{1,32}|[A-Za-z]{1,4}|-[a-z][a-z-]{0,31}(?:=[\w.@-]{1,64})?)){0,3}`;
/**
 * `docker exec [options] CONTAINER` (also podman, nerdctl, `docker compose exec SERVICE`,
 * docker-compose, podman-compose): the next word is the command run in the container, so it reads
 * as a wrapper. Its options, narrow for the same reason as WRAPPER_OPTS: clusters of `-i`, `-t`,
 * `-d`, `-T`; `-u`, `-w`, `-e` with a value (glued or after a space); `--user`, `--workdir`,
 * `--env`, `--env-file`, `--detach-keys`, `--index` with a value (after `=` or a space); any other
 * long option without one (`--privileged`). The container's name does not start with `-`.
 */
const EXEC_OPT = String.raw`[ \t]+-(?:[itdT]{1,4}|[uwe][ \t]*[^\s;&|\x60"'-][^\s;&|\x60"']{0,63}|-(?:user|workdir|env|env-file|detach-keys|index)(?:=|[ \t]+)[^\s;&|\x60"']{1,64}|-[a-z][a-z-]{0,31})`;
const CONTAINER_EXEC = String.raw`(?:(?:docker|podman|nerdctl)(?:[ \t]+compose)?|docker-compose|podman-compose)[ \t]+exec(?:${EXEC_OPT}){0,4}[ \t]+[^\s;&|\x60"'-][^\s;&|\x60"']{0,127}`;
const WRAPPER = String.raw`(?:sudo|doas|env|nohup|time|exec|command|xargs|then|do|else|nice|ionice|watch|!|[A-Za-z_]\w{0,63}=[^\s;&|\x60]{0,256})${WRAPPER_OPTS}|timeout${WRAPPER_OPTS}[ \t]+\d{1,9}(?:\.\d{1,9})?[smhd]?`;
/** Up to three wrappers, for tools that may be any word (ANY_WORD: they are found after `docker exec CONTAINER` anyway). */
const WRAPPERS = String.raw`(?:(?:${WRAPPER})[ \t]+){0,3}`;
/** Up to three wrappers, `docker exec CONTAINER` among them, for tools anchored to the command word. */
const EXEC_WRAPPERS = String.raw`(?:(?:${WRAPPER}|${CONTAINER_EXEC})[ \t]+){0,3}`;
/**
 * A word that is an option (`-c`, `--name`), which may take the next word as its value: a tool
 * name right after one is that value (`docker run --name mongo -p 27017:27017`), not the tool.
 * `--` alone and `--opt=value` take none. Used in a negative lookbehind at a word's end.
 */
const OPT_WORD = String.raw`(?<![^\s"'])-{1,2}[^\s"'=-][^\s"'=]{0,63}`;
/** An optional directory before the tool name: `/usr/bin/`, `./`, `C:\Tools\`. */
const TOOL_PATH = String.raw`(?:[^\s;&|()\x60"'<>]{0,256}[/\\])?`;
/** Where an ambiguous tool (zip, openssl, …) starts: the command word, after wrappers and a directory. */
const CMD = `${CMD_START}${EXEC_WRAPPERS}${TOOL_PATH}`;
/** The same for an unambiguous tool, as one alternative of ANY_WORD. */
const CMD_ANY = `${CMD_START}${WRAPPERS}${TOOL_PATH}`;
/**
 * Where a tool whose name is unambiguous as a word (mysql, redis-cli, sqlplus, …) can start: as the
 * command word (CMD), or as ANY word of a command that does not follow an option (so `docker exec -it
 * db mysql`, `ssh host mysql`, `timeout 30 mysql`, `kubectl exec pod -- mysql`, `- mysql` in a YAML
 * list, `C:\> mysql`; not `--name mysql`), optionally with a directory, also a quoted one with
 * spaces (`& "C:\Program Files\MySQL\bin\mysql.exe"`): the quote must then close right after the
 * name, and that cheap lookahead is checked first (lookbehinds match backwards), so a long run of
 * `/` words without quotes does not pay for scanning the path.
 */
/**
 * ssh then up to three words, its destination, and one or two of its options that take no value
 * (`ssh host -t`, `ssh -p 22 db -tt`): the next word is the remote command, though it follows an
 * option word. ssh's options are known: `-46AaCfGgKkMNnqsTtVvXxYy` take no value, the others one,
 * so the destination is a word that does not start with `-` and does not follow an option ending
 * in one of those (in `ssh -t mysql -p2222` and `ssh -p 22 -t mysql`, `mysql` is the destination).
 */
const SSH_REMOTE = String.raw`(?<=(?<![^\s"'/\\])ssh(?:\.exe)?(?:[ \t]+[^\s;&|\x60]{1,128}){0,3}(?<![ \t]-[A-Za-z46]{0,7}[BbcDEeFIiJLlmOoPpQRSWw])[ \t]+[^\s;&|\x60-][^\s;&|\x60]{0,127}(?:[ \t]+-[46AaCfGgKkMNnqsTtVvXxYy]{1,8}){1,2})`;
const ANY_WORD = String.raw`(?:${CMD_ANY}|(?<![ \t]|${OPT_WORD})[ \t]+${TOOL_PATH}|${SSH_REMOTE}[ \t]+${TOOL_PATH}|["'](?:[^"'\r\n/\\]{0,64}[/\\]){1,8}(?=[\w.-]{1,40}\\{0,4}["']))`;
/**
 * A regex source whose ASCII letters match either case (outside escapes and classes), for tool
 * names: `MYSQL.EXE`, `Mysql`, `SQLCMD`. Flags stay case-sensitive (`-p` is not `-P`).
 */
function anyCase(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      out += src.slice(i, i + 2);
      i++;
    } else if (c === '[') {
      const end = src.indexOf(']', i + 1);
      out += src.slice(i, end + 1);
      i = end;
    } else if (/[a-z]/i.test(c)) {
      out += `[${c.toUpperCase()}${c.toLowerCase()}]`;
    } else {
      out += c;
    }
  }
  return out;
}
/** After an unambiguous tool name: `.exe` in any case, and the closing quote of a quoted path. */
const TOOL_END = String.raw`(?:\.[Ee][Xx][Ee])?(?:\\{0,4}["'])?`;
/** How far after the tool a flag may be (characters). Bounds the look back. */
const CMD_SPAN = 256;
/** The rest of the command between the tool and a flag: anything but a command separator. */
// A backslash is part of it unless it starts a JSON-escaped line break or tab (`\n`, `\r`, `\t`, once or
// twice escaped: the last backslash of a run before n/r/t is refused), which ends the command as the line
// break it stands for does; a line continuation (backslash, line break) is whitespace.
const CMD_BODY = String.raw`(?:${WS_PLAIN}(?:[^\\\r\n;&|\x60]|\\(?![nrt\r\n])|\\\r?\n|${JSON_CONT_HEAD}n){0,${CMD_SPAN}})?`;

/**
 * An unquoted shell word: no whitespace, quote, backtick, `;`, `&`, `|`, and
 * no `(`, `)`, `<`, `>` either (unquoted, they end a word: `$(mysql -pX)`).
 * A backslash goes with the character after it, so the word never ends in
 * one, and it stops before a JSON-escaped line break or tab (`\n`, `\r`,
 * `\t`, also twice escaped: `\\n`).
 */
const BARE_WORD = String.raw`(?:[^\s"'\x60;&|()<>\\]|\\[^\s"'\x60;&|()<>nrt\\]|\\\\(?![nrt]))+`;

/**
 * A command-line argument value, the secret in group 1: quoted (the quotes
 * stay, the content goes, as in VALUE), JSON-escaped quoted (`\"…\"`), or
 * bash ANSI-C quoted (`$'…'`, the `$'` and `'` stay), or a bare word (BARE_WORD)
 * that is not a command substitution (`$(cat pw)` names no secret). `prefix` is a literal part between the opening
 * quote and the secret that stays (`pass:` of openssl, `user%` of smbclient). A bare value is one
 * that no quote or backslash precedes; `bareAfter` (a lookbehind) says that otherwise, where the
 * prefix may hold a backslash (`CORP\me%` of smbclient).
 */
function argValue(prefix = '', bareAfter = String.raw`(?<![\\"']${prefix})`): string {
  return String.raw`(?:\\{0,4}["']|\$')?${prefix}((?<=(?<!\\)"${prefix})(?:[^"\\\r\n]|\\.)+|(?<=\\"${prefix})[^"\\\r\n]+|(?<=\$'${prefix})(?:[^'\\\r\n]|\\[^\r\n])+|(?<=(?<!\$)'${prefix})[^'\r\n]+|${bareAfter}(?!\$\()${BARE_WORD})`;
}

/** How a flag takes its value: glued only (`-pSECRET`), after spaces only, or either (also `-p=SECRET`). */
type FlagValue = 'glued' | 'spaced' | 'either' | 'spacedOrEq';
const FLAG_SEP: Record<FlagValue, string> = {
  glued: '',
  // After a space, a word starting with `-` is the next option (`-p -h db`).
  spaced: String.raw`${WS}+(?!-)`,
  either: String.raw`(?:=|${WS}+(?!-))?`,
  spacedOrEq: String.raw`(?:=|${WS}+(?!-))`,
};
/**
 * Where a flag starts: after a space or tab, or at the line break of a line
 * continuation (`mysql \` then `-pX` on the next line, unindented), also one
 * inside JSON text (the `n` of `\\\n`).
 */
const FLAG_LEAD = String.raw`(?:[ \t]|(?<=\\\r?)\n|(?<=${JSON_CONT_HEAD})n)`;

/**
 * A tool-anchored short flag whose value is a secret (see the block comment
 * above). `tools`: regex alternatives for the command word; `flag`: the flag
 * (case-sensitive: `-p` is mysql's password, `-P` its port); `body`: what
 * may stand between the tool and the flag (default: the rest of the command);
 * `hints`: literals every match contains (the tool names).
 */
function commandFlagRule(
  kind: string,
  o: { tools: string; flag: string; value: FlagValue; body?: string; prefix?: string; bareAfter?: string; hints: string[]; anyWord?: boolean },
): ScrubRule {
  const flag = `(?:${o.flag})`;
  const sep = FLAG_SEP[o.value];
  // anyWord: the tool's name is unambiguous as a word, so it may be any word of the command, in any case.
  const tool = o.anyWord === true ? String.raw`${ANY_WORD}(?:${anyCase(o.tools)})${TOOL_END}` : String.raw`${CMD}(?:${o.tools})(?:\.exe)?`;
  // The lookahead (a value follows) is cheap and runs before the lookbehind, which is not:
  // `mysql -p db` and `-p -h` never pay for the look back.
  return {
    kind,
    pattern: String.raw`${FLAG_LEAD}${flag}(?=${sep}\S)(?<=${tool}${o.body ?? CMD_BODY}${WS}+${flag})${sep}${argValue(o.prefix, o.bareAfter)}`,
    secretGroup: 1,
    hints: o.hints,
    argv: true,
  };
}

/**
 * Between a registry tool and `-p`: up to three options (with a value) or the
 * words `registry`, `auth`, `acr` (`helm registry login`, `crane auth login`,
 * `az acr login`), then `login`, then the rest of the command. So
 * `docker run -p 8080:80 …` is not a login, and `docker login -u bot
 * --password-stdin` has no `-p`.
 */
const LOGIN_BODY = String.raw`(?:${WS_PLAIN}+(?:-[^\s;&|\x60]{1,64}(?:${WS_PLAIN}+[^\s;&|\x60-][^\s;&|\x60]{0,255})?|registry|auth|acr)){0,3}${WS_PLAIN}+login${CMD_BODY}`;
/**
 * Between sshpass and `-p`: only sshpass's own options (`-f FILE`, `-d FD`,
 * `-P PROMPT`, `-e`, `-v`). The first other word is the command sshpass runs,
 * whose `-p` is not sshpass's (`sshpass -f pw.txt ssh -p 2222 host`).
 */
const SSHPASS_OPTS = String.raw`(?:${WS_PLAIN}+(?:-[fdP][ \t]*[^\s;&|\x60]{1,256}|-[evhV][^\s;&|\x60]{0,63})){0,4}`;
/** Oracle's `user/` before a password (also `userid=user/`, `"user/…"`), as in `sqlplus scott/tiger@db`. */
const ORACLE_USER = String.raw`(?:\\{0,4}["'])?(?:[Uu][Ss][Ee][Rr][Ii][Dd]=(?:\\{0,4}["'])?)?[A-Za-z][\w$#]{0,127}/`;
/** Oracle's `user/SECRET` words after a tool (`tool`: the lookbehind source up to the tool's name). */
function oracleRule(tool: string, hints: string[]): ScrubRule {
  return {
    kind: 'password',
    pattern: String.raw`${FLAG_LEAD}${ORACLE_USER}(?<=${tool}${CMD_BODY}${WS}+${ORACLE_USER})(?:\\{0,4}")?((?<=/\\{0,4}")[^"\\\r\n]+|(?<=/)[^\s"'\x60;&|@\\]+)`,
    secretGroup: 1,
    hints,
    argv: true,
  };
}
/** htpasswd's options (`-C 10` takes a number) and its positional words. */
const HT_OPT = String.raw`[ \t]+(?:-[A-Za-z]{1,8}|\d{1,2})`;
const HT_WORD = String.raw`[ \t]+(?!-)(?:\\{0,4}"[^"\r\n]*"|'[^'\r\n]*'|[^\s"'\x60;&|]+)`;

/**
 * Where a token starts: not after a letter, digit or `_` (as `\b` before a
 * word character), or right after a JSON-escaped line break or tab (`\n`,
 * `\r`, `\t` in JSON text: its letter is a word character, so `\b` fails),
 * a percent-encoded character (`Bearer%20ghp_…`, `token%3Dghp_…`) or a `\xNN`
 * escape (`\x22`, a quote in nginx's JSON logs).
 */
const ESCAPE_BEFORE = String.raw`(?<=\\[nrt]|%[0-9A-Fa-f]{2}|\\x[0-9A-Fa-f]{2})`;
const WORD_START = String.raw`(?:(?<![A-Za-z0-9_])|${ESCAPE_BEFORE})`;
/**
 * WORD_START for a token whose own characters include `-` (base64url): not after `-` either, so a
 * match starts only at the start of a run of its characters (see the jwt rule). The escapes end
 * such a run (`%`, `\` are not its characters), so starting after one keeps that.
 */
const TOKEN_RUN_START = String.raw`(?:(?<![A-Za-z0-9_-])|${ESCAPE_BEFORE})`;
/**
 * Where an .npmrc key (`_auth`, `_authToken`) can start: at the start of a
 * line (also after a JSON-escaped `\n`, or a quote: `echo "_auth=…" >> .npmrc`),
 * or after `:` (`//registry/:_authToken=`); after a space only with `=` glued
 * (`npm config set _auth=…`). So `self._auth = auth` and `const _auth = …`
 * in code are not credentials.
 */
const NPMRC_KEY_START = String.raw`(?<=^|[\r\n:"']|\\[nr])(?<![\w.$-])`;
/** Not a bare true, false or null (`_auth=false`), also quoted. */
const NOT_LITERAL = String.raw`(?!(?:\\{0,4}["'])?(?:true|false|null)(?![\w-]))`;

/** Whitespace between .netrc tokens: spaces, line breaks, also JSON-escaped ones (`\\n`, once or twice). */
const NETRC_SP = String.raw`(?:\s|\\{1,2}[nrt]){1,16}`;
/** A .netrc token before `password`: `login USER`, `account A`, `port P`. */
const NETRC_ITEM = String.raw`${NETRC_SP}(?:login|account|port)${NETRC_SP}[^\s\\]{1,256}`;

/**
 * XML rules for secret names ending in `names`: the text of an element (`<password>…</password>`, up to
 * the next `<`; a namespace prefix and attributes allowed), when the tag is not self-closing (`<password/>`)
 * and the next tag closes an element named like a secret too (so `Option<Token> = …; // a </b>` in code is
 * not one); with `notDigits`, not a number (`<max_token>512</max_token>`). And the `value` attribute after
 * a `name` or `key` attribute naming one (`key="ClearTextPassword" value="…"`, also JSON-escaped quotes).
 */
function xmlRules(kind: string, names: string, hints: string[], notDigits = false): ScrubRule[] {
  const q = String.raw`\\{0,4}["']`;
  const name = String.raw`(?:[\w-]{1,32}:)?[\w.-]{0,64}?(?:${names})`;
  return [
    {
      kind,
      pattern: String.raw`<${name}(?:[ \t][^<>]{0,256})?(?<!/)>\s*${notDigits ? String.raw`(?!\d+\s*<)` : ''}([^<\s][^<]*)</${name}[ \t]*>`,
      flags: 'i',
      secretGroup: 1,
      hints,
    },
    {
      kind,
      pattern: String.raw`(?<![\w-])(?:name|key)[ \t]*=[ \t]*${q}[\w.:-]{0,64}?(?:${names})${q}[ \t]+value[ \t]*=[ \t]*${q}((?<=(?<!\\)")[^"\r\n]+|(?<=\\")[^"\\\r\n]+|(?<=')[^'\r\n]+)`,
      flags: 'i',
      secretGroup: 1,
      hints,
    },
  ];
}

/** A `/` in a URL: plain, JSON-escaped once or twice (`\/`, `\\\/`), or URL-encoded (`%2F`). */
const SLASH = String.raw`(?:/|\\/|\\\\\\/|%2[Ff])`;

/** An AWS access key id. */
const AWS_KEY_ID = String.raw`(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|A3T[A-Z0-9])[A-Z0-9]{16}`;
const AWS_KEY_ID_HINTS = ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'APKA', 'A3T'];

/**
 * A quoted SQL literal (the quotes stay; also JSON-escaped ones; `''` inside `'…'` is a quote). Unquoted
 * words are prose ("identified by email"). The literal is closed, on its line, its first character is not
 * a space, and no letter, digit or `_` follows it (a backtick may: Markdown, Go raw strings): so code and JSON
 * around the word are not read as one (`input("Enter your password ")`, `{"prompt":"Enter password ","next":…}`).
 */
const SQL_END = String.raw`(?!\w)`;
const SQL_VALUE = String.raw`\\{0,4}["']((?<=(?<!\\)')[^'\s](?:[^'\r\n]|'')*(?='${SQL_END})|(?<=(?<!\\)")[^"\s][^"\r\n]*(?="${SQL_END})|(?<=\\")[^"\\\s][^"\\\r\n]*(?=\\{1,4}"${SQL_END}))`;

/** Authorization schemes, before the credentials. */
const AUTH_SCHEMES = '(?:basic|bearer|token|bot|digest|negotiate|ntlm|apikey|hmac|aws4-hmac-sha256)';

/** The built-in text rules, in priority order. */
export const DEFAULT_RULES: readonly ScrubRule[] = Object.freeze([
  // PEM blocks, whole, BEGIN to END; a truncated block (no END) to the end of the string.
  {
    kind: 'private_key',
    pattern: String.raw`-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)`,
    hints: ['PRIVATE KEY'],
  },
  // PuTTY .ppk files: the private lines after `Private-Lines: N`, through the `Private-MAC:` (or v1
  // `Private-Hash:`) line; without one, to the end of the string (a truncated file). The header,
  // comment and public lines stay (they are not secret).
  {
    kind: 'private_key',
    pattern: String.raw`Private-Lines:[ \t]*\d+[\s\S]*?(?:Private-(?:MAC|Hash):[ \t]*[0-9A-Fa-f]*|$)`,
    hints: ['Private-Lines:'],
  },
  // A PEM private key, base64-encoded whole (Kubernetes `tls.key: LS0t…`, kubeconfig `client-key-data:`):
  // a base64 run whose decoding starts with `-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY`
  // (the fixed base64 of those headers), to the run's end. One line: a wrapped run keeps its later lines.
  {
    kind: 'private_key',
    pattern: String.raw`(?<![A-Za-z0-9+/])LS0tLS1CRUdJTiB(?:QUklWQVRFIEtF|SU0EgUFJJVkFURSBL|FQyBQUklWQVRFIEtF|EU0EgUFJJVkFURSBL|PUEVOU1NIIFBSSVZBVEUgS0VZ|FTkNSWVBURUQgUFJJVkFURSBL|QR1AgUFJJVkFURSBL)[A-Za-z0-9+/]*={0,2}`,
    hints: ['LS0tLS1CRUdJTiB'],
  },
  // header.payload.signature, both JSON parts base64url of `{"` (eyJ); the signature may be empty (alg none).
  // It starts only where a run of its own characters starts (not after `-` either, unlike WORD_START):
  // a start inside a run (`-eyJ-eyJ…`) would scan the rest of the run for the `.` at every `eyJ`,
  // quadratic in the run's length (64 KiB of `-eyJ` took seconds).
  { kind: 'jwt', pattern: String.raw`${TOKEN_RUN_START}eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, hints: ['eyJ'] },
  { kind: 'anthropic_key', pattern: String.raw`${WORD_START}sk-ant-[A-Za-z0-9_-]{20,}`, hints: ['sk-ant-'] },
  // Legacy sk-…, sk-proj-, sk-svcacct-, sk-admin-. Real keys hold a digit early on; prose like sk-learn does not.
  // Lookaheads are bounded (256) so a long run of key characters costs linear time.
  {
    kind: 'openai_key',
    pattern: String.raw`${WORD_START}sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]{0,256}[0-9])[A-Za-z0-9_-]{20,}`,
    hints: ['sk-'],
  },
  {
    kind: 'github_token',
    pattern: String.raw`${WORD_START}(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`,
    hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  {
    kind: 'gitlab_token',
    pattern: String.raw`${WORD_START}gl(?:pat|dt|ptt|rt|cbt|imt|oas|ft|agent|soat|ffct|ddt|wt)-[A-Za-z0-9_-]{20,}`,
    hints: ['glpat-', 'gldt-', 'glptt-', 'glrt-', 'glcbt-', 'glimt-', 'gloas-', 'glft-', 'glagent-', 'glsoat-', 'glffct-', 'glddt-', 'glwt-'],
  },
  // Keep the host and kind of webhook readable; the path is the secret.
  {
    kind: 'slack_webhook',
    // Slashes also JSON-escaped (`\/`, once or twice) or URL-encoded (`%2F`).
    pattern: String.raw`(?:${WORD_START}|(?<=%2[Ff]))hooks\.slack\.com${SLASH}(?:services|workflows|triggers)${SLASH}((?:[A-Za-z0-9/_-]|\\/|\\\\\\/|%2[Ff])+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['hooks.slack.com'],
  },
  { kind: 'slack_token', pattern: String.raw`${WORD_START}(?:xox[abposrec]|xapp)-[A-Za-z0-9-]{10,}`, hints: ['xox', 'xapp-'] },
  {
    kind: 'stripe_key',
    pattern: String.raw`${WORD_START}[sr]k_(?:live|test)_[A-Za-z0-9]{10,}`,
    hints: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
  },
  { kind: 'stripe_webhook_secret', pattern: String.raw`${WORD_START}whsec_[A-Za-z0-9+/=]{20,}`, hints: ['whsec_'] },
  {
    kind: 'aws_access_key_id',
    pattern: String.raw`${WORD_START}${AWS_KEY_ID}\b`,
    hints: AWS_KEY_ID_HINTS,
  },
  // npm access tokens (granular and automation): npm_ + 36 letters and digits.
  { kind: 'npm_token', pattern: String.raw`${WORD_START}npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`, hints: ['npm_'] },
  // .npmrc credentials, whatever their shape (legacy tokens are UUIDs): `//registry/:_authToken=…`,
  // and `npm config set //registry/:_authToken VALUE` (a space after the registry-scoped key).
  // Also npm's environment form npm_config__authToken= (any case). Only where an .npmrc key can be
  // (NPMRC_KEY_START), so `this._authToken = token` in code is not one. The `npm config set` form
  // is a command-line rule (argv: the key and the value are two elements), the key forms are not.
  {
    kind: 'npm_token',
    pattern: String.raw`(?<=:)_authToken[ \t]+(?!-)${NOT_LITERAL}${argValue()}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['_authtoken'],
    argv: true,
  },
  {
    kind: 'npm_token',
    pattern: String.raw`(?:${NPMRC_KEY_START}_authToken[ \t]*=[ \t]*|(?<=[ \t])_authToken=|(?<![\w.$-])npm_config__authToken[ \t]*=[ \t]*)${NOT_LITERAL}${argValue()}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['_authtoken'],
  },
  // .npmrc `_auth` is base64(user:password), as in a Basic header.
  {
    kind: 'basic_auth',
    pattern: String.raw`(?<=:)_auth[ \t]+(?!-)${NOT_LITERAL}${argValue()}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['_auth'],
    argv: true,
  },
  {
    kind: 'basic_auth',
    pattern: String.raw`(?:${NPMRC_KEY_START}_auth[ \t]*=[ \t]*|(?<=[ \t])_auth=|(?<![\w.$-])npm_config__auth[ \t]*=[ \t]*)${NOT_LITERAL}${argValue()}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['_auth'],
  },
  // Google API keys: AIza + 35 characters.
  { kind: 'google_api_key', pattern: String.raw`${WORD_START}AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])`, hints: ['AIza'] },
  // Google OAuth 2.0 access tokens: ya29. then base64url, dots inside (`ya29.c.…` of service accounts).
  { kind: 'google_oauth_token', pattern: String.raw`${WORD_START}ya29\.(?=[\w.-]{20})[\w.-]*[\w-]`, hints: ['ya29.'] },
  // Google OAuth 2.0 refresh tokens: `1//0` then base64url (~100 characters), also with the
  // slashes JSON-escaped or URL-encoded. A long run holding both cases is required: `1//0` alone
  // is a path or a ratio, and a hex or UUID path segment after `1//` is one case only.
  // Lookaheads are bounded (256) so a long run costs linear time.
  {
    kind: 'google_oauth_token',
    pattern: String.raw`${WORD_START}1(?:\\/\\/|//|%2[Ff]%2[Ff])0(?=[\w-]{0,256}[A-Z])(?=[\w-]{0,256}[a-z])[\w-]{30,}`,
    hints: ['1//0', '1\\/\\/0', '1%2f%2f0'],
  },
  // Azure: Storage connection strings' AccountKey=…, Service Bus / Event Hubs / IoT Hub SharedAccessKey=…
  // (any key=value form, as the secret rule reads them), az's --account-key, AZURE_STORAGE_KEY=.
  ...keyValueRule(
    'azure_key',
    String.raw`(?<![a-z0-9])(?:account[_-]?key|sharedaccesskey|azure[_-]?storage[_-]?key)`,
    'account-key',
    ['accountkey', 'account_key', 'account-key', 'sharedaccesskey', 'storagekey', 'storage_key', 'storage-key'],
  ),
  // The signature of a pre-signed URL, which grants access on its own: Azure SAS `sig=`, S3
  // `X-Amz-Signature=`, GCS `X-Goog-Signature=`; a query parameter (after `?`, `&`, `&amp;` or a
  // JSON-escaped `\u0026`), so `sig` inside a word or without `=` is not one.
  {
    kind: 'url_signature',
    pattern: String.raw`(?:[?&;]|\\u0026)(?:sig|x-amz-signature|x-goog-signature)=([^&\s"'#<>\\]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['sig=', 'signature='],
  },
  // HashiCorp Vault service, batch and recovery tokens. Legacy `s.…` tokens have no telling shape:
  // they are found after `vault login` (below) and in VAULT_TOKEN= (the token rule).
  { kind: 'vault_token', pattern: String.raw`${WORD_START}hv[sbr]\.[A-Za-z0-9_-]{24,}`, hints: ['hvs.', 'hvb.', 'hvr.'] },
  // Docker Hub personal and organization access tokens.
  { kind: 'docker_token', pattern: String.raw`${WORD_START}dckr_(?:pat|oat)_[A-Za-z0-9_-]{8,}`, hints: ['dckr_'] },
  // Hugging Face user access tokens: hf_ + 30+ letters and digits (no `_`, so hf_model_name is not one).
  { kind: 'huggingface_token', pattern: String.raw`${WORD_START}hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_])`, hints: ['hf_'] },
  // PyPI and TestPyPI API tokens: macaroons whose base64 starts with the issuer's domain.
  {
    kind: 'pypi_token',
    pattern: String.raw`${WORD_START}pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`,
    hints: ['pypi-AgE'],
  },
  { kind: 'sendgrid_key', pattern: String.raw`${WORD_START}SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`, hints: ['SG.'] },
  // DigitalOcean personal access, OAuth and refresh tokens.
  { kind: 'digitalocean_token', pattern: String.raw`${WORD_START}do[opr]_v1_[a-f0-9]{64}(?![a-f0-9])`, hints: ['dop_v1_', 'doo_v1_', 'dor_v1_'] },
  // Shopify admin API access tokens, shared secrets, custom and private app tokens.
  {
    kind: 'shopify_token',
    pattern: String.raw`${WORD_START}shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}(?![a-fA-F0-9])`,
    hints: ['shpat_', 'shpss_', 'shpca_', 'shppa_'],
  },
  // A 40-character secret right after an access key id, as the pair is written without a name: IAM's
  // credentials CSV (`AKIA…,<secret>`), code (`BasicAWSCredentials("AKIA…", "<secret>")`), `AKIA…:<secret>`,
  // and CLI positionals (`mc alias set s3 URL AKIA… <secret>`).
  {
    kind: 'aws_secret_key',
    pattern: String.raw`${WORD_START}${AWS_KEY_ID}(?:\\{0,4}["'])?(?:[ \t]*[,:][ \t]*|[ \t]+)(?:\\{0,4}["'])?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    secretGroup: 1,
    hints: AWS_KEY_ID_HINTS,
    argv: true,
  },
  // A 40-character secret shortly after "aws … secret" (aws_secret_access_key=, "AWS secret key: …",
  // and aws configure's prompt "AWS Secret Access Key [****************EKEY]: …").
  {
    kind: 'aws_secret_key',
    pattern: String.raw`aws[\w .-]{0,40}?secret[\w .*[\]-]{0,48}?[\s:="']{1,4}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    flags: 'i',
    secretGroup: 1,
    hints: ['aws'],
    argv: true,
  },
  {
    kind: 'basic_auth',
    // Also Go's header map (`map[Authorization:[Basic …]]`) and Python's pair (`('Authorization', 'Basic …')`).
    pattern: String.raw`authorization\\{0,4}["']?[ \t]*[:=,][ \t]*\[?\\{0,4}["']?basic[ \t]+([A-Za-z0-9+/=._~-]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['authorization'],
  },
  // `"auth": "<base64 of user:password>"` in JSON text: Docker's config.json (`auths`), also escaped
  // (`\"auth\": \"…\"`). Only the quoted key, as a JSON key (the `auth` key rule reads it in an event).
  { kind: 'basic_auth', pattern: String.raw`"auth\\{0,4}"[ \t]*:[ \t]*\\{0,4}"${VALUE}`, flags: 'i', secretGroup: 1, hints: ['"auth'] },
  // curl -u user:password (other tools use -u for uid:gid, so only within 512 characters after "curl").
  // Also glued (`-uadmin:…`), last in a cluster of short flags (`-su`, `-sSfu`), and `--user=`.
  // A quoted value runs to its closing quote (`-u 'me:pa ss'`), a JSON-escaped one to its `\"`.
  {
    kind: 'basic_auth',
    pattern: String.raw`${WORD_START}curl\b[^\r\n]{0,512}?[ \t](?:-[A-Za-z]{0,8}?u[ \t]*|--user(?:=|[ \t]+))(?:\\{0,4}["'])?[^\s:"']{0,256}:((?<=(?<!\\)["'][^\s:"']{0,256}:)[^"'\r\n]+|(?<=\\{1,4}"[^\s:"']{0,256}:)[^"\\\r\n]+|[^\s"']+)`,
    secretGroup: 1,
    hints: ['curl'],
    argv: true,
  },
  // Standalone "Bearer <token>": the token must hold a digit, so "bearer authentication" is prose.
  {
    kind: 'bearer_token',
    pattern: String.raw`${WORD_START}bearer[ \t]+(?=[A-Za-z0-9._~+/-]{0,256}[0-9])([A-Za-z0-9._~+/-]{16,}=*)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['bearer'],
  },
  // Any other Authorization header value, with or without a scheme; also in Go's header map
  // (`Authorization:[token …]`, the value then ends before `]]` or `] `).
  {
    kind: 'authorization',
    pattern: String.raw`${WORD_START}(?:proxy-)?authorization\\{0,4}["']?[ \t]*[:=][ \t]*\[?\\{0,4}["']?(?:${AUTH_SCHEMES}[ \t]+)?((?:[^\s"',;\\\]]|\](?![\]\s"',;\\]|$))+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['authorization'],
  },
  // A scheme followed by code that builds the credentials: the first string literal after it, as in
  // `Authorization: Basic $(echo -n 'admin:…' | base64)`, `'Basic ' + btoa('admin:…')`,
  // `"Basic " + base64.b64encode(b"admin:…")`, an f-string or template `f'Basic {b64encode(b"admin:…")}'`,
  // `` `Basic ${btoa('admin:…')}` ``: within 64 characters, before any `)`; inside `$(`, also an unquoted
  // `user:password` word (`$(echo -n admin:… | base64)`), not an option or a variable. A literal that starts
  // with `$`, or is `:` alone or before a variable (`"$U:$P"`, `':'`, `":$PAT"`), is not the credentials:
  // none is taken then. Azure DevOps' empty user before a token (`':<PAT>'`) is taken.
  {
    kind: 'authorization',
    pattern: String.raw`authorization\\{0,4}["']?[ \t]*[:=,][ \t]*\[?(?:[fbr]?\\{0,4}["'\x60])?${AUTH_SCHEMES}(?:(?:[ \t]*\\{0,4}["'][ \t]*\+|[ \t]+\$\()[^"'\r\n)]{0,64}?\\{0,4}["']|[ \t]+\$?\{[^"'\r\n)}]{0,64}?\\{0,4}["']|[ \t]+\$\([^"'\r\n)]{0,64}?[ \t])((?<=(?<!\\)["'])(?!\$|:(?:["'$]|$)|\s*["'])[^"'\r\n]+|(?<=\\")(?!\$|:(?:[\\$]|$))[^"\\\r\n]+|(?<=[ \t])(?!-)[^\s"'$():|;&]{0,256}:[^\s"'()|;&]+)`,
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
    pattern: String.raw`${WORD_START}(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse)${URL_PASSWORD}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['://', ':\\/', ':\\\\/'],
  },
  {
    kind: 'url_password',
    pattern: String.raw`${WORD_START}[a-z][a-z0-9+.-]{1,30}${URL_PASSWORD}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['://', ':\\/', ':\\\\/'],
  },
  // A token alone as a URL's user info (`https://<token>@github.com/o/r`, as git and Azure DevOps
  // take a PAT): 20+ of letters, digits, `_`, `-`, holding a digit and a letter, right before `@` and a
  // host. Shorter or without a digit it reads as a user name (`ssh://git@host`, `https://deploy@host`).
  {
    kind: 'url_token',
    pattern: String.raw`:(?<=[a-z0-9+.-]:)(?:\\{0,4}/){2}(?=[\w-]{0,256}[0-9])(?=[\w-]{0,256}[a-z])([\w-]{20,})@(?=[\w[])`,
    flags: 'i',
    secretGroup: 1,
    // Every match holds an `@`: a URL without one (the common case) does not run the rule.
    hints: ['@'],
  },
  // Oracle JDBC URLs carry credentials without `://`: jdbc:oracle:thin:scott/tiger@//host:1521/svc, …@host:1521:SID.
  // The password is bounded (256): it must be followed by @, and an unbounded run would make a long
  // string without @ quadratic to scan.
  {
    kind: 'connection_string',
    pattern: String.raw`${WORD_START}jdbc:oracle:(?:thin|oci8?|kprb):[A-Za-z][\w$#]{0,127}/(?:\\{0,4}")?((?<=/\\{0,4}")[^"\\\r\n]{1,256}|(?<=/)[^\s"'@\\]{1,256})(?=(?:\\{0,4}")?@)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['jdbc:oracle:'],
  },
  {
    kind: 'cookie',
    pattern: String.raw`(?<![A-Za-z0-9_-])(?:set-)?cookie\\{0,4}["']?[ \t]*:[ \t]*\\{0,4}["']?([^\r\n"'\\]+)`,
    flags: 'i',
    secretGroup: 1,
    hints: ['cookie'],
  },
  // Command lines (see "Command lines" above): tool-anchored short flags and positional passwords.
  // MySQL/MariaDB clients take the password glued, -pSECRET or -p'…'; `-p` then a space prompts, and
  // the next word is the database, so it is kept. -P is the port.
  commandFlagRule('password', {
    tools: String.raw`mysql(?:dump|admin|import|show|check|pump|binlog|sh|slap|_upgrade)?|mariadb(?:-dump|-admin|-import|-show|-check|-binlog|-backup)?`,
    flag: '-p',
    value: 'glued',
    hints: ['mysql', 'mariadb'],
    anyWord: true,
  }),
  commandFlagRule('password', { tools: 'sshpass', flag: '-p', value: 'either', body: SSHPASS_OPTS, hints: ['sshpass'], anyWord: true }),
  // -a is the password only to redis-cli and its kin (cp -a, ls -a are not); --pass is the long-flag rule's.
  commandFlagRule('password', {
    tools: 'redis-cli|redis-benchmark|valkey-cli|keydb-cli',
    flag: '-a',
    value: 'spaced',
    hints: ['redis-cli', 'redis-benchmark', 'valkey-cli', 'keydb-cli'],
    anyWord: true,
  }),
  // Registry and cloud logins: docker, podman, buildah, nerdctl, skopeo, oras, helm registry, crane auth, az (acr), cf login -p.
  commandFlagRule('password', {
    tools: 'docker|podman|buildah|nerdctl|skopeo|oras|helm|crane|az|cf',
    flag: '-p',
    value: 'either',
    body: LOGIN_BODY,
    hints: ['login'],
  }),
  // twine upload/register -p SECRET (the password or a PyPI token).
  commandFlagRule('password', { tools: 'twine', flag: '-p', value: 'either', hints: ['twine'] }),
  // MongoDB shells and tools: -p SECRET (their port is --port).
  commandFlagRule('password', {
    tools: String.raw`mongo(?:sh|dump|restore|export|import|stat|top|files)?`,
    flag: '-p',
    value: 'either',
    hints: ['mongo'],
    anyWord: true,
  }),
  // SQL Server: -P is the password (-p prints statistics).
  commandFlagRule('password', { tools: 'sqlcmd|bcp|osql', flag: '-P', value: 'either', hints: ['sqlcmd', 'bcp', 'osql'], anyWord: true }),
  // OpenLDAP clients: -w SECRET (-W prompts); ldappasswd also -a OLD and -s NEW.
  commandFlagRule('password', {
    tools: String.raw`ldap(?:search|modify|add|delete|modrdn|passwd|whoami|compare|exop)`,
    flag: '-w',
    value: 'either',
    hints: ['ldap'],
    anyWord: true,
  }),
  commandFlagRule('password', { tools: 'ldappasswd', flag: '-[as]', value: 'either', hints: ['ldappasswd'], anyWord: true }),
  // Java keystores; -storepass:env NAME and -storepass:file PATH name no secret, so need a space.
  commandFlagRule('password', {
    tools: 'keytool|jarsigner',
    flag: String.raw`-(?:src|dest)?(?:store|key)pass|-new`,
    value: 'spaced',
    hints: ['keytool', 'jarsigner'],
    anyWord: true,
  }),
  commandFlagRule('password', { tools: 'zip|unzip', flag: '-P', value: 'either', hints: ['zip'] }),
  // 7-Zip: -pSECRET glued; -p alone prompts.
  commandFlagRule('password', { tools: '7z|7za|7zr|7zz', flag: '-p', value: 'glued', hints: ['7z'] }),
  // openssl enc -k SECRET; -pass/-passin/-passout/-password pass:SECRET (env:, file:, fd:, stdin name no secret).
  commandFlagRule('password', { tools: 'openssl', flag: '-k', value: 'spaced', hints: ['openssl'] }),
  commandFlagRule('password', {
    tools: 'openssl',
    flag: '-pass(?:in|out|word)?',
    value: 'spacedOrEq',
    prefix: 'pass:',
    hints: ['openssl'],
  }),
  // Samba: -U user%SECRET, --user=user%SECRET; without % the tool prompts. The user may hold a
  // backslash (`CORP\me%…`, as an argv element has it): a bare value is one whose user follows the
  // space, `=` or `-U` before it.
  commandFlagRule('password', {
    tools: 'smbclient|rpcclient|smbcacls|smbcquotas|smbget|smbtree|smbtar|net|winexe',
    flag: '-U|--user',
    value: 'either',
    prefix: String.raw`[^\s%"']{0,128}%`,
    bareAfter: String.raw`(?<=(?:[ \t=]|-U)[^\s%"']{0,128}%)`,
    hints: ['%'],
  }),
  // Oracle tools: user/SECRET[@connect] (EZConnect, TNS alias or none), also userid=user/SECRET.
  // Every such word of the command (rman target …/… catalog …/…); `/ as sysdba` and /nolog have no user.
  // sqlplus, sqlldr, rman, expdp, impdp, dgmgrl may be any word of the command, in any case; exp and imp,
  // short and ambiguous, only the command word.
  oracleRule(`${ANY_WORD}(?:${anyCase('sqlplus|sqlldr|rman|expdp|impdp|dgmgrl')})${TOOL_END}`, ['sqlplus', 'sqlldr', 'rman', 'expdp', 'impdp', 'dgmgrl']),
  oracleRule(String.raw`${CMD}(?:exp|imp)(?:\.exe)?`, ['exp', 'imp']),
  // htpasswd -b (batch): the password is the last positional, after FILE USER, or after USER with -n.
  {
    kind: 'password',
    pattern: String.raw`htpasswd(?<=${CMD}htpasswd)(?:\.exe)?(?=(?:${HT_OPT}){0,8}?[ \t]+-[A-Za-z]{0,7}b)(?:(?=(?:${HT_OPT}){0,8}?[ \t]+-[A-Za-z]{0,7}n)(?:${HT_OPT}){0,8}|(?!(?:${HT_OPT}){0,8}?[ \t]+-[A-Za-z]{0,7}n)(?:${HT_OPT}){0,8}${HT_WORD})${HT_WORD}${FLAG_SEP.spaced}${argValue()}`,
    secretGroup: 1,
    hints: ['htpasswd'],
    argv: true,
  },
  // Windows: net use [D:] \\server\share SECRET, net use … /user:[DOMAIN\]NAME SECRET, net user NAME SECRET.
  // `*` prompts; a word starting with / is an option.
  {
    kind: 'password',
    pattern: String.raw`${WORD_START}net(?<=${CMD}net) (?:use(?:[ \t]+(?:[a-z]:|\*))?[ \t]+\\\\[^\s"']+|use[ \t][^\r\n;&|\x60]{0,${CMD_SPAN}}?[ \t]/u(?:ser)?:(?:"[^"\r\n]*"|[^\s"']+)|user[ \t]+(?:"[^"\r\n]*"|[^\s"'/]+))${FLAG_SEP.spaced}(?![/*])${argValue()}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['net use'],
    argv: true,
  },
  // vault login TOKEN: the positional, whatever its shape (legacy s.…, a dev root token). Not `-` (stdin)
  // nor a method's key=value (username=…; password=… is the password rule's).
  {
    kind: 'vault_token',
    pattern: String.raw`[ \t]login(?<=${CMD}vault(?:\.exe)?(?:[ \t]+-[^\s;&|\x60]{1,64}){0,4}[ \t]+login)(?:[ \t]+-[^\s;&|\x60]{1,64}){0,8}${FLAG_SEP.spaced}(?![^\s"'=]*=)${argValue()}`,
    secretGroup: 1,
    hints: ['vault'],
    argv: true,
  },
  // .netrc: `machine HOST [login USER] [account A] [port P] password SECRET` (also `default …` at a line
  // start), on one line or several, also in JSON text (escaped line breaks). A quoted value to its quote.
  // The host must hold a dot or a `login`/`account`/`port` must follow it, so "machine learning password
  // policy" is prose.
  {
    kind: 'password',
    pattern: String.raw`${WORD_START}password(?<=(?:(?:(?<![\w-])|(?<=\\[nrt]))machine${NETRC_SP}(?:[^\s\\]{0,128}\.[^\s\\]{1,128}(?:${NETRC_ITEM}){0,4}|[^\s\\]{1,256}(?:${NETRC_ITEM}){1,4})|(?:^|[\r\n]|\\[nr])[ \t]*default(?:${NETRC_ITEM}){0,4})${NETRC_SP}password)${NETRC_SP}"?((?<=")[^"\\\r\n]+|(?<!")(?:[^\s"\\]|\\[^\s"nrt\\])+)`,
    secretGroup: 1,
    hints: ['password'],
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
  // SSHPASS (sshpass -e) and REDISCLI_AUTH (redis-cli) hold passwords in the environment.
  ...keyValueRule(
    'password',
    String.raw`pass(?:word|wd|phrase)|(?:(?<![a-z])|(?<=\\[nrt]))(?:pwd|sshpass)|rediscli_auth`,
    'password|passwd|pass|passphrase|requirepass',
    ['pass', 'pwd', 'rediscli_auth'],
  ),
  // XML: an element named like a secret key, `<password>…</password>`, `<db:apiKey>…</db:apiKey>`, and a
  // name/value attribute pair, `<add key="ClearTextPassword" value="…"/>`, `<property name="db.password" value="…"/>`.
  ...xmlRules('password', 'password|passwd|passphrase|pwd', ['pass', 'pwd']),
  ...xmlRules('api_key', String.raw`api[_-]?key`, ['apikey', 'api_key', 'api-key']),
  ...xmlRules('token', 'token', ['token'], true),
  ...xmlRules('secret', String.raw`secret(?:[_-]?(?:access[_-]?)?key)?|access[_-]?key|private[_-]?key`, ['secret', 'accesskey', 'access_key', 'access-key', 'privatekey', 'private_key', 'private-key']),
  // SQL: `IDENTIFIED BY '…'` (MySQL, Oracle; also `IDENTIFIED WITH plugin BY '…'`, `BY PASSWORD '…'`; not
  // Oracle's unquoted `IDENTIFIED BY tiger`), and a quoted literal right after `PASSWORD` (PostgreSQL's
  // `WITH PASSWORD '…'`, `LOGIN PASSWORD '…'`, `ENCRYPTED PASSWORD '…'`).
  {
    kind: 'password',
    pattern: String.raw`(?<![\w-])identified(?:[ \t]+with[ \t]+["'\x60]?[\w$]{1,64}["'\x60]?)?[ \t]+by[ \t]+(?:(?:password|values)[ \t]+)?${SQL_VALUE}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['identified'],
  },
  {
    kind: 'password',
    pattern: String.raw`(?<![\w-])password[ \t]+${SQL_VALUE}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['password'],
  },
  // `pass` as a key. After `_` or `-` (DB_PASS=, ansible_ssh_pass=, db_pass:, --from-literal=DB_PASS=; not
  // LLVM's `-debug-pass=`); after `.` with `=` or `:` glued (redis.pass=; `x.pass = None` is code). Alone
  // only where a key starts: at a line start (`PASS=…`, an INI `pass = …`), after `?&,;$@(`, a backtick,
  // a quote, `=`, `{`, `|` or `:` (`&pass=`, `-o user=bob,pass=`, PHP `$pass =`, `-e "PASS=…"`, `Environment=PASS=`), after a space with `=` glued (`user=bob pass=…`, `export PASS=…`; not
  // after const/let/var), or as a quoted key (`"pass": "…"`). Alone before an unquoted `:` it is prose
  // ("first pass: parse"). Not a value: a number, also `12/12` or `100%`; a boolean; a test status (`ok`,
  // `pass(ed)`, `fail(ed)`, `done`, …); none/nil/undefined; a shell `$((…))`.
  {
    kind: 'password',
    pattern: String.raw`(?:(?<=[_-])(?<!debug-)pass|(?<=\.)pass(?=\\{0,4}["']?[:=])|(?<=(?:^|[\r\n]|\\[nrt])[ \t]{0,16})pass(?=\\{0,4}["']?[ \t]*=)|(?<=[?&,;$@(\x60"'={|:])pass(?=\\{0,4}["']?[ \t]*=)|(?<=[ \t])(?<!(?<![\w$.])(?:const|let|var)[ \t]{1,16})pass(?=\\{0,4}["']?=)|(?<=["'])pass(?=\\{0,4}["'][ \t]*[:=]))${ASSIGN_TAIL}(?!(?:-?\d+(?:\.\d+)?(?:%|/\d+(?:\.\d+)?)?|true|false|null|yes|no|on|off|ok|pass(?:ed)?|fail(?:ed)?|skip(?:ped)?|done|enabled|disabled|none|nil|undefined)(?:[\s"'\x60,;&)\]}\\]|$)|\$\(\()${VALUE}`,
    flags: 'i',
    secretGroup: 1,
    hints: ['pass'],
  },
  ...keyValueRule('api_key', String.raw`api[_-]?key`, 'api-key|apikey', ['apikey', 'api_key', 'api-key']),
  ...keyValueRule('token', 'token', 'token', ['token']),
  ...keyValueRule('secret', String.raw`secret(?:[_-]?key(?:[_-]?base)?)?|private[_-]?key|access[_-]?key`, 'secret|secret-key|private-key|access-key', [
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
  // Azure Storage account keys; SharedAccessKey (Service Bus, Event Hubs) is exact, so it is not a plain `secret`.
  { kind: 'azure_key', names: ['sharedaccesskey', 'azurestoragekey'] },
  { kind: 'azure_key', names: ['accountkey'], match: 'suffix' },
  // Rails' secret_key_base.
  { kind: 'secret', names: ['secret', 'secretkey', 'accesskey', 'credential', 'credentials', 'secretkeys', 'accesskeys', 'secretkeybase'], match: 'suffix' },
  { kind: 'api_key', names: ['apikey', 'apikeys'], match: 'suffix' },
  { kind: 'token', names: ['token'], match: 'suffix' },
  { kind: 'authorization', names: ['authorization'], match: 'suffix' },
  { kind: 'authorization', names: ['auth'] },
  { kind: 'cookie', names: ['cookie', 'setcookie'] },
  { kind: 'jwt', names: ['jwt'] },
  { kind: 'bearer_token', names: ['bearer'] },
  // Exact names only: pin_count, pinned, otp_enabled, otp_required are not secrets.
  { kind: 'pin', names: ['pin', 'pincode'] },
  { kind: 'otp', names: ['otp', 'otpcode', 'totp', 'totpcode'] },
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
