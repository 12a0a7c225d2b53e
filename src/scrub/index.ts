/**
 * Secrets scrubbing: find secrets in events and text and replace them with
 * `[REDACTED:<kind>]`. Pure and browser-safe (no node:* imports); the server
 * reads the operator rules file and passes its text to loadRulesFile.
 * Rules, kinds, the file format and the guarantees: spec/scrubbing.md.
 */
export {
  DEFAULT_RULES,
  DEFAULT_KEY_RULES,
  DEFAULT_RULESET,
  KIND_PATTERN,
  UNSCANNED_KIND,
  marker,
  normalizeKey,
  type RuleSet,
  type ScrubRule,
  type SecretKeyRule,
} from './rules.js';
export {
  compileRules,
  withDefaults,
  catastrophicShape,
  ScrubRulesError,
  DEFAULT_MAX_SCAN_CHARS,
  MAX_PATTERN_LENGTH,
  type CompiledRule,
  type CompiledRules,
  type CompileOptions,
} from './compile.js';
export { loadRulesFile, MAX_FILE_HINT_CHARS, MAX_FILE_HINTS, RulesFileSchema } from './load.js';
export {
  scrubEvent,
  scrubText,
  scrubTextDetailed,
  secretKeyKind,
  type ScrubbedEntry,
  type ScrubEventResult,
  type ScrubTextResult,
} from './scrub.js';
