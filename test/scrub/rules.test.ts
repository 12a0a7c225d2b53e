// Operator rules: a rules file extends the defaults; bad rules and bad files
// fail at load with an error that names the rule and the problem.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledRules } from '../../src/scrub/compile.js';
import {
  catastrophicShape,
  compileRules,
  DEFAULT_RULES,
  loadRulesFile,
  ScrubRulesError,
  scrubEvent,
  scrubText,
  withDefaults,
  type RuleSet,
} from '../../src/scrub/index.js';

function rulesError(fn: () => unknown): ScrubRulesError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ScrubRulesError);
  return caught as ScrubRulesError;
}

const operatorFile = JSON.stringify({
  version: 1,
  rules: [
    { kind: 'acme_token', pattern: String.raw`\bacme_[A-Za-z0-9]{24}\b`, hints: ['acme_'] },
    { kind: 'employee_pin', pattern: String.raw`PIN (?<pin>\d{4,8})\b`, secretGroup: 'pin' },
  ],
  keys: [{ kind: 'session', names: ['session_id', 'sid'] }],
});

describe('operator rules file', () => {
  const fake = `acme_${'Xy12'.repeat(6)}`;

  it('extends the defaults: new kinds found, built-in kinds still found', () => {
    const compiled = compileRules(withDefaults(loadRulesFile(operatorFile)));
    const gh = `ghp_${'Ab12'.repeat(9)}`;
    expect(scrubText(`use ${fake} then ${gh}; PIN 123456 please`, compiled)).toBe(
      'use [REDACTED:acme_token] then [REDACTED:github_token]; PIN [REDACTED:employee_pin] please',
    );
    const r = scrubEvent({ metadata: { sid: 'abc', 'Session-Id': 42, note: fake } }, compiled);
    expect(r.event).toEqual({ metadata: { sid: '[REDACTED:session]', 'Session-Id': '[REDACTED:session]', note: '[REDACTED:acme_token]' } });
    expect(r.scrubbed.map((e) => e.kind)).toEqual(['session', 'session', 'acme_token']);
  });

  it('the defaults alone do not know the operator kinds', () => {
    expect(scrubText(`use ${fake}`, compileRules())).toBe(`use ${fake}`);
  });

  it('loads a file with only keys, or only rules', () => {
    expect(loadRulesFile('{"version":1,"keys":[{"kind":"x","names":["foo"],"match":"suffix"}]}').rules).toEqual([]);
    expect(loadRulesFile('{"version":1}')).toEqual({ rules: [], keys: [] });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{version: 1', /^invalid scrub rules file: not valid JSON/],
    ['no version', '{"rules":[]}', /version: /],
    ['unknown top-level field', '{"version":1,"rule":[]}', /\(file\): .*rule/],
    ['bad kind', '{"version":1,"rules":[{"kind":"Bad Kind","pattern":"x"}]}', /rules\[0\]\.kind: must be 1-64 characters/],
    ['bad regex', '{"version":1,"rules":[{"kind":"k","pattern":"(unclosed"}]}', /rules\[0\]\.pattern: not a valid regular expression/],
    ['unknown flag', '{"version":1,"rules":[{"kind":"k","pattern":"x","flags":"gx"}]}', /rules\[0\]\.flags: only i, m, s and u/],
    ['missing group', '{"version":1,"rules":[{"kind":"k","pattern":"a(b)","secretGroup":2}]}', /rules\[0\]\.secretGroup: the pattern has no capture group 2 \(it has 1\)/],
    ['missing named group', '{"version":1,"rules":[{"kind":"k","pattern":"a(?<x>b)","secretGroup":"y"}]}', /no group named "y"/],
    ['empty match', '{"version":1,"rules":[{"kind":"k","pattern":"a*"}]}', /rules\[0\]\.pattern: matches the empty string/],
    ['nested quantifier', '{"version":1,"rules":[{"kind":"k","pattern":"(a+)+b"}]}', /rules\[0\]\.pattern: a repeated group contains a repetition/],
    ['backreference', '{"version":1,"rules":[{"kind":"k","pattern":"(a)\\\\1"}]}', /backreferences are not allowed/],
    ['empty hints', '{"version":1,"rules":[{"kind":"k","pattern":"x","hints":[]}]}', /rules\[0\]\.hints/],
    ['bad key rule', '{"version":1,"keys":[{"kind":"k","names":[]}]}', /keys\[0\]\.names/],
    ['bad match', '{"version":1,"keys":[{"kind":"k","names":["a"],"match":"prefix"}]}', /keys\[0\]\.match/],
  ];
  it.each(bad)('refuses %s with a clear error', (_name, text, message) => {
    const e = rulesError(() => loadRulesFile(text));
    expect(e.message).toMatch(/^invalid scrub rules file: /);
    expect(e.message).toMatch(message);
    expect(e.issues.length).toBeGreaterThan(0);
  });

  it('caps the hints of a file: at most 4,096 hints and 65,536 characters in all', () => {
    const file = (rules: number, hints: number, len: number) =>
      JSON.stringify({
        version: 1,
        rules: Array.from({ length: rules }, (_, i) => ({
          kind: 'k',
          pattern: `zq${i}x`,
          hints: Array.from({ length: hints }, (_, j) => `${i}_${j}_`.padEnd(len, 'h')),
        })),
      });
    // At the caps: accepted.
    expect(loadRulesFile(file(16, 256, 16)).rules).toHaveLength(16);
    expect(loadRulesFile(file(16, 64, 64)).rules).toHaveLength(16);
    // One hint too many, or one character too many.
    const many = rulesError(() => loadRulesFile(file(16, 257, 8)));
    expect(many.message).toBe('invalid scrub rules file: rules: 4112 hints of 32896 characters in all; at most 4096 hints and 65536 characters');
    const over = JSON.parse(file(16, 64, 64)) as { rules: unknown[] };
    over.rules.push({ kind: 'k', pattern: 'zqx', hints: ['z'] });
    const long = rulesError(() => loadRulesFile(JSON.stringify(over)));
    expect(long.issues).toEqual(['rules: 1025 hints of 65537 characters in all; at most 4096 hints and 65536 characters']);
  });

  it('lists every bad rule, not just the first', () => {
    const e = rulesError(() => loadRulesFile('{"version":1,"rules":[{"kind":"ok","pattern":"fine"},{"kind":"k","pattern":"("},{"kind":"k2","pattern":"(x*)*"}]}'));
    expect(e.issues).toHaveLength(2);
    expect(e.issues[0]).toMatch(/^rules\[1\]\.pattern/);
    expect(e.issues[1]).toMatch(/^rules\[2\]\.pattern/);
  });
});

describe('compileRules', () => {
  it('accepts the default rules (they pass their own checks)', () => {
    const c = compileRules();
    expect(c.rules).toHaveLength(DEFAULT_RULES.length);
    expect(c.kinds).toContain('anthropic_key');
  });

  it('refuses a bad programmatic rule set and a bad bound', () => {
    const set = { rules: [{ kind: 'k', pattern: '[' }] } as RuleSet;
    expect(rulesError(() => compileRules(set)).message).toMatch(/^invalid scrub rules: rules\[0\]\.pattern/);
    expect(() => compileRules(undefined, { maxScanChars: 10 })).toThrow(RangeError);
  });

  it('runs hintless rules on every string and hinted ones only where a hint occurs', () => {
    const c = compileRules({ rules: [{ kind: 'always', pattern: 'zz\\d' }, { kind: 'hinted', pattern: 'q\\d', hints: ['nothere'] }] });
    expect(scrubText('zz1 q1', c)).toBe('[REDACTED:always] q1');
    expect(scrubText('zz1 q1 nothere', c)).toBe('[REDACTED:always] [REDACTED:hinted] nothere');
  });

  it('a hint contained in a longer hint still triggers its rule', () => {
    const c = compileRules({ rules: [{ kind: 'long', pattern: 'abcdef\\d', hints: ['abcdef'] }, { kind: 'short', pattern: 'cde', hints: ['cde'] }] });
    expect(scrubText('xabcdefx', c)).toBe('xab[REDACTED:short]fx');
  });

  it('never re-redacts a marker, even with a rule that matches markers', () => {
    const c = compileRules({ rules: [{ kind: 'greedy', pattern: '\\[[A-Z:a-z_]+\\]|secret\\d' }] });
    const once = scrubText('a secret1 b', c);
    expect(once).toBe('a [REDACTED:greedy] b');
    expect(scrubText(once, c)).toBe(once);
  });
});

describe('hint automaton', () => {
  // The rules each pre-check says may match: the automaton's, and the regex's (the fallback path).
  const byAutomaton = (s: string, c: CompiledRules) => {
    const ac = c.hintAutomaton!;
    const on = new Set<number>();
    let row = 0;
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i);
      const v = u < 128 ? ac.next[row + ac.classes[u]!]! : 0;
      row = v >>> 1;
      if ((v & 1) !== 0) for (const r of ac.lists[ac.hits[row / ac.width]!]!) on.add(r);
    }
    return [...on].sort((a, b) => a - b);
  };
  const byRegex = (s: string, c: CompiledRules) => {
    const on = new Set<number>();
    const re = new RegExp(c.hint!.source, 'gi');
    let h: RegExpExecArray | null;
    while ((h = re.exec(s)) !== null) {
      for (const r of c.hintRules.get(h[0].toLowerCase()) ?? []) on.add(r);
      re.lastIndex = h.index + 1;
    }
    return [...on].sort((a, b) => a - b);
  };
  const defaults = compileRules();

  it('selects the same rules as the hint regex', () => {
    const hints = [...defaults.hintRules.keys()];
    const piece = fc.oneof(
      fc.constantFrom(...hints),
      fc.constantFrom(...hints).map((h) => h.toUpperCase()),
      fc.constantFrom(...hints).map((h) => h.slice(0, -1)),
      fc.constantFrom('ſ', 'K', 'İ', 'é', ' ', '-', '_', '.'),
      fc.string({ maxLength: 5 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }).map((a) => a.join('')), (s) => {
        expect(byAutomaton(s, defaults)).toEqual(byRegex(s, defaults));
      }),
      { numRuns: 3000 },
    );
  });

  it('folds ASCII case only, and finds overlapping and contained hints', () => {
    const c = compileRules({
      rules: [
        { kind: 'a', pattern: 'abc', hints: ['abc'] },
        { kind: 'b', pattern: 'bcd', hints: ['bcd'] },
        { kind: 'c', pattern: 'zbc', hints: ['bc'] },
        { kind: 'd', pattern: 'sk', hints: ['sk'] },
      ],
    });
    expect(c.hintAutomaton).not.toBeNull();
    expect(byAutomaton('xABCDx', c)).toEqual([0, 1, 2]);
    expect(byAutomaton('xSKx', c)).toEqual([3]);
    // Non-Unicode /i never folds a non-ASCII letter onto ASCII: U+017F is not s, U+212A is not k.
    for (const s of ['\u017fk', 's\u212a']) {
      expect(byAutomaton(s, c)).toEqual([]);
      expect(byRegex(s, c)).toEqual([]);
    }
  });

  it('keeps the regex when a hint is not ASCII', () => {
    const c = compileRules({ rules: [{ kind: 'k', pattern: String.raw`é\d`, hints: ['é'] }] });
    expect(c.hintAutomaton).toBeNull();
    expect(scrubText('xé1 é', c)).toBe('x[REDACTED:k] é');
  });
});

describe('catastrophicShape', () => {
  it.each(['(a+)+', '(?:a*)*b', '(a{2,})+', '((ab)*c)+', '(x+y?)*', '(a|b+)*', '(a)\\1', '(?<n>a)\\k<n>'])('flags %s', (src) => {
    expect(catastrophicShape(src)).toBeDefined();
  });
  it.each(['(ab)+', '(?:a+)?', '(?:\\d{1,3}\\.){3}', 'a+b+', '[(a+)]+', '\\(a+\\)+', '(?:[a-z0-9-]*-)?x', ...DEFAULT_RULES.map((r) => r.pattern)])('accepts %s', (src) => {
    expect(catastrophicShape(src)).toBeUndefined();
  });
});
