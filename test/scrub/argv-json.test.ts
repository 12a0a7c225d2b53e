// Argument arrays written inside a string as JSON text (OpenAI-style tool call arguments, a
// serialized tool_input) are read as the event's own arrays are: the secret element's token is
// replaced in place, the rest of the text stays byte for byte, the string stays JSON of the same
// shape, and `scrubbed` names the string itself. Text that is not JSON is left to the string rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRules, DEFAULT_KEY_RULES, DEFAULT_RULES, scrubEvent, scrubText, withDefaults } from '../../src/scrub/index.js';

const rules = compileRules();
const P = '[REDACTED:password]';

/** True when the string rules alone keep `s` JSON (a rule reading to the end of a value can take a quote: `password=` in an element). */
const textRulesKeepJson = (s: string): boolean => {
  try {
    JSON.parse(scrubText(s, rules));
    return true;
  } catch {
    return false;
  }
};

/** The shape of a JSON value: arrays' lengths and objects' keys, every string as 's'. */
const shape = (v: unknown): unknown =>
  typeof v === 'string' ? 's' : Array.isArray(v) ? v.map(shape) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : v;

describe('argument arrays in JSON text', () => {
  it('OpenAI function_call arguments holding an argv', () => {
    const args = '{"argv":["mysql","-uroot","-pS3cret"]}';
    const r = scrubEvent({ metadata: { function_call: { name: 'run', arguments: args } } }, rules);
    expect(r.event.metadata.function_call.arguments).toBe(`{"argv":["mysql","-uroot","-p${P}"]}`);
    expect(r.scrubbed).toEqual([{ path: 'metadata.function_call.arguments', kind: 'password' }]);
  });

  it('a serialized command + args pair (an MCP call, a tool_input)', () => {
    const input = JSON.stringify({ command: 'redis-cli', args: ['-a', 'S3cret'] });
    const r = scrubEvent({ metadata: { tool_input: input } }, rules);
    expect(r.event.metadata.tool_input).toBe(`{"command":"redis-cli","args":["-a","${P}"]}`);
    expect(r.scrubbed).toEqual([{ path: 'metadata.tool_input', kind: 'password' }]);
    // Command as an array, keys in either order, pretty-printed, nested in tool_calls.
    const calls = JSON.stringify({ tool_calls: [{ args: ['-p', 'Wd7nK3xPq9', 'ssh', 'deploy@db1'], command: ['sshpass'] }] }, null, 2);
    const r2 = scrubEvent({ metadata: { calls } }, rules);
    expect(r2.event.metadata.calls).toBe(calls.replace('"Wd7nK3xPq9"', `"${P}"`));
  });

  it('keeps the rest of the text byte for byte: spacing, escapes, other values', () => {
    const text = ' [ "mysql" ,\n\t"-u\\u0072oot" , "-pS3c\\/ret", "-e", "select \\"x\\"" ] ';
    const r = scrubEvent({ s: text }, rules);
    expect(r.event.s).toBe(` [ "mysql" ,\n\t"-u\\u0072oot" , "-p${P}", "-e", "select \\"x\\"" ] `);
    expect(JSON.parse(r.event.s)).toEqual(['mysql', '-uroot', `-p${P}`, '-e', 'select "x"']);
  });

  it('finds arrays at any depth, without recursion', () => {
    const deep = '['.repeat(20_000) + '["mysql","-pS3cret"]' + ']'.repeat(20_000);
    const r = scrubEvent({ s: deep }, rules);
    expect(r.event.s).toBe('['.repeat(20_000) + `["mysql","-p${P}"]` + ']'.repeat(20_000));
  });

  it('a JSON string with no secret stays byte-identical', () => {
    for (const s of [
      '{"argv":["ls","-la","/srv"],"cwd":"/srv"}',
      '[ "mysql" , "-h" , "db.internal" , "app" ]',
      '{"command":"mysql","args":["-h","db","app"],"n":1.5e3,"ok":true,"x":null}',
      '{"tags":["mysql","migration"],"é":"\\u00e9"}',
      '[]',
      '{}',
    ]) {
      const r = scrubEvent({ s }, rules);
      expect(r.event.s).toBe(s);
      expect(r.scrubbed).toEqual([]);
    }
  });

  it('text that only starts like JSON is left to the string rules', () => {
    for (const s of [
      '[INFO] mysql -p db started',
      '[2026-12-07 12:00:00] mysql -pS3cret db: started [ok]', // starts and ends like an array
      '{mysql -pS3cret}',
      '[1] mysql -p db [2]',
      '{"argv": ["mysql", "-pS3cret"]', // cut short
      '["mysql", "-pS3cret",]', // trailing comma
      "['mysql', '-pS3cret']", // Python's repr
      '{argv: ["mysql", "-pS3cret"]}',
    ]) {
      const r = scrubEvent({ s }, rules);
      expect(r.event.s).toBe(scrubText(s, rules));
    }
    expect(scrubText('[INFO] mysql -p db started', rules)).toBe('[INFO] mysql -p db started');
  });

  it('an array holding anything but strings is not a command line, as in an event', () => {
    const s = '["redis-cli","-a",123456]';
    expect(scrubEvent({ s }, rules).event.s).toBe(s);
  });

  it('a string past the scan bound is not parsed', () => {
    const s = JSON.stringify({ argv: ['mysql', '-pS3cret'], pad: 'x'.repeat(70_000) });
    const r = scrubEvent({ s }, rules);
    expect(r.event.s.endsWith('[REDACTED:unscanned]')).toBe(true);
  });

  it('a string under a secret key goes whole, as before', () => {
    const r = scrubEvent({ password: '["mysql","-pS3cret"]' }, rules);
    expect(r.event.password).toBe(P);
  });
});

describe('argument arrays in JSON text (properties)', () => {
  const words = ['-p', '-pS3cret', '-P', '-a', 'mysql', 'redis-cli', 'docker', 'login', 'ssh', 'host', 'S3cret', '', ' ', "it's", '"', '\\', '\n', 'a b', ';', '[REDACTED:password]', '-p[REDACTED:password]', 'password=', '{', ']', '\u00e9', 'sshpass'];
  const argv = fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 8 });
  const text = fc.tuple(argv, fc.constantFrom(0, 1, 2), fc.constantFrom(undefined, 2)).map(([a, form, indent]) =>
    JSON.stringify(form === 0 ? a : form === 1 ? { argv: a } : { command: a[0], args: a.slice(1), id: 7 }, null, indent),
  );

  it('scrubbing a scrubbed JSON string changes nothing and reports nothing; it stays JSON of the same shape', () => {
    fc.assert(
      fc.property(text, (s) => {
        const once = scrubEvent({ metadata: { arguments: s } }, rules);
        const out = once.event.metadata.arguments;
        if (textRulesKeepJson(s)) expect(shape(JSON.parse(out))).toEqual(shape(JSON.parse(s)));
        const twice = scrubEvent(once.event, rules);
        expect(twice.event).toEqual(once.event);
        expect(twice.scrubbed).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it('finds in the JSON string what it finds in the parsed arrays', () => {
    fc.assert(
      fc.property(argv, (a) => {
        const s = JSON.stringify({ argv: a });
        if (!textRulesKeepJson(s)) return;
        const parsed = scrubEvent({ argv: a }, rules).event.argv;
        const r = scrubEvent({ s }, rules);
        // The string rules read the text too (a secret shape in an element), so compare only
        // where the array reading changed an element.
        const got = JSON.parse(r.event.s).argv as string[];
        for (let i = 0; i < a.length; i++) if (parsed[i] !== a[i] && a.length >= 2) expect(got[i]).toContain('[REDACTED:');
      }),
      { numRuns: 800 },
    );
  });

  it('the hint pre-check never skips what the full scan would find', () => {
    const unhinted = compileRules({ rules: DEFAULT_RULES.map(({ hints: _h, ...r }) => r), keys: DEFAULT_KEY_RULES });
    const regexHints = compileRules(withDefaults({ rules: [{ kind: 'umlaut_pin', pattern: 'PÜN (\\d{6})', secretGroup: 1, hints: ['PÜN '] }] }));
    fc.assert(
      fc.property(text, (s) => {
        const event = { metadata: { arguments: s } };
        const want = scrubEvent(event, unhinted);
        expect(scrubEvent(event, rules)).toEqual(want);
        expect(scrubEvent(event, regexHints)).toEqual(want);
      }),
      { numRuns: 800 },
    );
  });
});
