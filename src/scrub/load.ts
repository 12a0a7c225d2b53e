/**
 * The operator rules file (TLOG_SCRUB_RULES=/path/to/rules.json): JSON text
 * in, a checked RuleSet out. Its rules extend the built-in table (see
 * withDefaults); they cannot remove a built-in rule. Format: spec/scrubbing.md.
 *
 * Pure: the caller reads the file.
 */
import { z } from 'zod';
import { compileRules, MAX_PATTERN_LENGTH, ScrubRulesError } from './compile.js';
import { KIND_PATTERN, type RuleSet } from './rules.js';

const kind = z.string().regex(KIND_PATTERN, 'must be 1-64 characters of a-z, 0-9 and "_", starting with a letter');

const RuleSchema = z.strictObject({
  kind,
  pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
  flags: z
    .string()
    .regex(/^[imsu]{0,4}$/, 'only i, m, s and u')
    .optional(),
  secretGroup: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
  hints: z.array(z.string().min(1).max(64)).min(1).optional(),
  argv: z.boolean().optional(),
});

const KeyRuleSchema = z.strictObject({
  kind,
  names: z.array(z.string().min(1).max(128)).min(1),
  match: z.enum(['exact', 'suffix']).optional(),
});

/** The file: `{ "version": 1, "rules": [...], "keys": [...] }`; both lists optional. */
export const RulesFileSchema = z.strictObject({
  version: z.literal(1),
  rules: z.array(RuleSchema).max(1000).optional(),
  keys: z.array(KeyRuleSchema).max(1000).optional(),
});

const PREFIX = 'invalid scrub rules file';

/**
 * Caps on a file's hints, over all its rules. The hint automaton (compile.ts) has a state per hint
 * character and a row of up to 129 input classes per state, so its table grows with the total
 * length of the hints: at these caps it is at most about 34 MB (65,537 states × 129 × 4 bytes),
 * built in well under a second; without them a large file could exhaust memory at start-up.
 */
export const MAX_FILE_HINTS = 4096;
export const MAX_FILE_HINT_CHARS = 65_536;

/**
 * Parses and checks an operator rules file. Every rule is also compiled, so a
 * bad regex fails here, at startup, with its location.
 *
 * @throws ScrubRulesError with one issue per problem (`rules[1].pattern: …`).
 */
export function loadRulesFile(text: string): RuleSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ScrubRulesError([`not valid JSON (${(e as Error).message})`], PREFIX);
  }
  const r = RulesFileSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${path === '' ? '(file)' : path}: ${i.message}`;
    });
    throw new ScrubRulesError(issues, PREFIX);
  }
  const set: RuleSet = { rules: r.data.rules ?? [], keys: r.data.keys ?? [] };
  let hintCount = 0;
  let hintChars = 0;
  for (const rule of set.rules) {
    for (const h of rule.hints ?? []) {
      hintCount++;
      hintChars += h.length;
    }
  }
  if (hintCount > MAX_FILE_HINTS || hintChars > MAX_FILE_HINT_CHARS) {
    throw new ScrubRulesError(
      [`rules: ${hintCount} hints of ${hintChars} characters in all; at most ${MAX_FILE_HINTS} hints and ${MAX_FILE_HINT_CHARS} characters`],
      PREFIX,
    );
  }
  try {
    compileRules(set);
  } catch (e) {
    if (e instanceof ScrubRulesError) throw new ScrubRulesError(e.issues, PREFIX);
    throw e;
  }
  return set;
}
