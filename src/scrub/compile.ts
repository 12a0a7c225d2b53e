/**
 * compileRules: checks a rule set and turns it into the form scrubbing runs.
 *
 * Operator rules are untrusted in the sense that a typo must not take the
 * server down or hang it, so each rule is checked here, once, at startup:
 * the kind, the flags, that the pattern compiles, that the secret group
 * exists, that it cannot match the empty string, and a static guard against
 * the classic catastrophic-backtracking shapes (a repeated group that itself
 * repeats, `(a+)+`, and backreferences). Every string is also scanned only up
 * to `maxScanChars`, which bounds what a merely slow (polynomial) pattern can cost.
 */
import { DEFAULT_RULESET, KIND_PATTERN, normalizeKey, type RuleSet, type ScrubRule, type SecretKeyRule } from './rules.js';

/**
 * Default scan bound, in UTF-16 code units per string. Every string an event
 * can carry is shorter (the longest, command.text, is 16,384), so events are
 * always scanned whole; longer text (a log line) loses its tail, see scrub.ts.
 */
export const DEFAULT_MAX_SCAN_CHARS = 65_536;
/** Longest accepted pattern source. */
export const MAX_PATTERN_LENGTH = 2048;

const ALLOWED_FLAGS = new Set(['i', 'm', 's', 'u']);

/** One rule, ready to run. */
export interface CompiledRule {
  readonly kind: string;
  /** Global (and with `d` when the secret is a group) so exec() walks every match. */
  readonly re: RegExp;
  readonly group: number | string;
  /** True when the rule only runs on strings where one of its hints occurs. */
  readonly hinted: boolean;
  readonly hints: readonly string[];
  /** A command-line rule: it also reads an argument array's joined line (ScrubRule.argv). */
  readonly argv: boolean;
}

/** A checked rule set, as scrubText and scrubEvent take it. Immutable; share it. */
export interface CompiledRules {
  /** Text rules in priority order. */
  readonly rules: readonly CompiledRule[];
  /**
   * Any hint of any hinted rule (global, case-insensitive, longest first, as a trie);
   * null when no rule has hints. One pass of it over a string tells which
   * hinted rules can match there.
   */
  readonly hint: RegExp | null;
  /**
   * Lowercased hint → indices of the rules to run when it occurs: its own
   * rules and those of every hint it contains (a match of `sk-ant-` also
   * means `sk-` occurs there).
   */
  readonly hintRules: ReadonlyMap<string, readonly number[]>;
  /**
   * The same hints as an automaton (Aho-Corasick over ASCII, A-Z folded to
   * a-z), used instead of `hint` when every hint is ASCII. Its cost per
   * character does not grow with the number of hints; the regex's does:
   * going from 61 to 110 hints (the command-line rules) made a clean event's
   * scrub about 60% slower with the regex, and no slower with the automaton.
   */
  readonly hintAutomaton: HintAutomaton | null;
  /** True when some rule has no hints (it runs on every string). */
  readonly hasUnhinted: boolean;
  /** Normalized key → kind, for exact key rules. */
  readonly exactKeys: ReadonlyMap<string, string>;
  /** [normalized suffix, kind] for suffix key rules, in order. */
  readonly suffixKeys: readonly (readonly [string, string])[];
  readonly maxScanChars: number;
  /** Every kind the rules can produce. */
  readonly kinds: ReadonlySet<string>;
  /**
   * Memo of key → key-rule kind ('' for an ordinary key). Event keys repeat
   * (schema fields, common metadata), so most lookups are one Map hit. Bounded:
   * cleared when it reaches KEY_CACHE_SIZE entries.
   */
  readonly keyCache: Map<string, string>;
}

/**
 * A hint automaton, read one UTF-16 unit at a time from row 0. A unit >= 128
 * goes back to row 0 (no ASCII hint spans it: non-Unicode `/i` never folds a
 * non-ASCII character onto an ASCII one); any other reads
 * `v = next[row + classes[unit]]`, whose `v >>> 1` is the next row and whose
 * low bit says that hints end there: the rules to run are then
 * `lists[hits[row / width]]` (every hint that is a suffix of the text read).
 *
 * Packed for the per-character cost, which every string of every event pays:
 * one typed-array load per character, no multiplication, and the states
 * numbered breadth first so the rows most text visits (the start and the
 * first letters of hints) lie together in memory.
 */
export interface HintAutomaton {
  /** ASCII unit → input class (0: no hint holds it); A-Z share the class of a-z. */
  readonly classes: Uint8Array;
  /** Number of input classes: a state's row is `state * width`. */
  readonly width: number;
  /** `next state's row * 2 + (1 if a hint ends at the next state)`, by row + class. */
  readonly next: Uint16Array | Uint32Array;
  /** State → index in `lists`, or -1. */
  readonly hits: Int32Array;
  /** Rule indices, ascending. */
  readonly lists: readonly (readonly number[])[];
}

/**
 * Builds the automaton for lowercased ASCII `hints`, each with the rule
 * indices to run when it occurs. Returns null when a hint is not ASCII (the
 * caller keeps the regex) or when there are no hints.
 */
export function buildHintAutomaton(hints: ReadonlyMap<string, ReadonlySet<number>>): HintAutomaton | null {
  if (hints.size === 0) return null;
  const classes = new Uint8Array(128);
  let width = 1;
  for (const h of hints.keys()) {
    for (let i = 0; i < h.length; i++) {
      const c = h.charCodeAt(i);
      if (c >= 128) return null;
      if (classes[c] === 0) {
        classes[c] = width;
        if (c >= 97 && c <= 122) classes[c - 32] = width; // A-Z read as a-z (hints are lowercase)
        width++;
      }
    }
  }
  // A trie of the hints, then fail links breadth first (the textbook construction).
  const go: number[][] = [new Array<number>(width).fill(-1)];
  const out: Array<Set<number>> = [new Set()];
  for (const [h, idx] of hints) {
    let st = 0;
    for (let i = 0; i < h.length; i++) {
      const k = classes[h.charCodeAt(i)]!;
      if (go[st]![k] === -1) {
        go[st]![k] = go.length;
        go.push(new Array<number>(width).fill(-1));
        out.push(new Set());
      }
      st = go[st]![k]!;
    }
    for (const i of idx) out[st]!.add(i);
  }
  const fail = new Array<number>(go.length).fill(0);
  const queue: number[] = [];
  for (let k = 0; k < width; k++) {
    if (go[0]![k] === -1) go[0]![k] = 0;
    else queue.push(go[0]![k]!);
  }
  for (let q = 0; q < queue.length; q++) {
    const r = queue[q]!;
    for (const i of out[fail[r]!]!) out[r]!.add(i);
    for (let k = 0; k < width; k++) {
      const u = go[r]![k]!;
      if (u === -1) {
        go[r]![k] = go[fail[r]!]![k]!;
      } else {
        fail[u] = go[fail[r]!]![k]!;
        queue.push(u);
      }
    }
  }
  // Renumber breadth first (the queue's order), then pack.
  const n = go.length;
  const id = new Array<number>(n);
  id[0] = 0;
  queue.forEach((st, i) => (id[st] = i + 1));
  const next = n * width * 2 <= 0x10000 ? new Uint16Array(n * width) : new Uint32Array(n * width);
  const hits = new Int32Array(n).fill(-1);
  const lists: number[][] = [];
  for (let st = 0; st < n; st++) {
    const row = id[st]! * width;
    for (let k = 0; k < width; k++) {
      const to = go[st]![k]!;
      next[row + k] = id[to]! * width * 2 + (out[to]!.size === 0 ? 0 : 1);
    }
    if (out[st]!.size !== 0) {
      hits[id[st]!] = lists.length;
      lists.push([...out[st]!].sort((a, b) => a - b));
    }
  }
  return { classes, width, next, hits, lists };
}

/** Entries in CompiledRules.keyCache before it is cleared. */
export const KEY_CACHE_SIZE = 4096;

/** Options for {@link compileRules}. */
export interface CompileOptions {
  /** Scan at most this many UTF-16 code units per string (at least 1,024). Default 65,536. */
  maxScanChars?: number;
}

/**
 * A rule set (or rules file) that cannot be used. `issues` holds one line per
 * problem, each starting with the rule's location (`rules[2].pattern: …`).
 */
export class ScrubRulesError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], prefix = 'invalid scrub rules') {
    super(`${prefix}: ${issues.join('; ')}`);
    this.name = 'ScrubRulesError';
    this.issues = issues;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * One regex source matching any of `words`, factored as a trie
 * (`a(?:kia|sia)` rather than `akia|asia`): the engine then dispatches on
 * each character instead of trying every word at every position, about 3×
 * faster here. Where a word is a prefix of another, the longer is preferred
 * (`pass(?:word)?`), as with longest-first alternation.
 */
export function trieSource(words: readonly string[]): string {
  type Node = Map<string, Node | null>;
  const root: Node = new Map();
  for (const w of words) {
    let n = root;
    for (const ch of w) {
      let next = n.get(ch);
      if (next === undefined || next === null) {
        next = new Map();
        n.set(ch, next);
      }
      n = next;
    }
    n.set('', null);
  }
  const emit = (n: Node): string => {
    const alts = [...n].filter(([k]) => k !== '').map(([k, v]) => escapeRegExp(k) + emit(v as Node));
    if (alts.length === 0) return '';
    const body = alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
    if (!n.has('')) return body;
    return alts.length === 1 ? `(?:${body})?` : `${body}?`;
  };
  return emit(root);
}

/**
 * Finds a repeated group containing a repetition (`(a+)+`, `(?:x*)*`,
 * `(a{2,})+`) or a backreference. Returns a reason or undefined. A heuristic:
 * it does not catch overlapping alternatives such as `(a|a)*`.
 */
export function catastrophicShape(src: string): string | undefined {
  // One frame per open group: does it contain an unbounded or multi repetition?
  const stack: boolean[] = [false];
  const markRepeat = () => {
    stack[stack.length - 1] = true;
  };
  // Reads a quantifier at i; returns [length, unbounded, repeats] or undefined.
  const quantifier = (i: number): [number, boolean, boolean] | undefined => {
    const c = src[i];
    if (c === '*' || c === '+') return [src[i + 1] === '?' ? 2 : 1, true, true];
    if (c === '?') return [src[i + 1] === '?' ? 2 : 1, false, false];
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(src.slice(i, i + 24));
      if (m === null) return undefined;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      return [m[0].length, max === Infinity, max >= 2];
    }
    return undefined;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1];
      if (n !== undefined && /[1-9]/.test(n)) return 'backreferences are not allowed';
      if (n === 'k' && src[i + 2] === '<') return 'backreferences are not allowed';
      if ((n === 'p' || n === 'P' || n === 'u' || n === 'x') && src[i + 2] === '{') {
        const close = src.indexOf('}', i + 2);
        i = close === -1 ? src.length : close + 1;
      } else {
        i += 2;
      }
    } else if (c === '[') {
      // Skip the class; `]` right after `[` or `[^` is a literal in JS only with the u flag off, rare enough to ignore.
      i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      stack.push(false);
      i++;
      if (src[i] === '?') i++; // (?: (?= (?! (?<= (?<! (?<name>: the ? is not a quantifier
      continue;
    } else if (c === ')') {
      const inner = stack.length > 1 ? (stack.pop() as boolean) : false;
      i++;
      const q = quantifier(i);
      if (q !== undefined) {
        if (inner && q[1]) return 'a repeated group contains a repetition (catastrophic backtracking)';
        i += q[0];
        if (q[2]) markRepeat();
      }
      if (inner) markRepeat();
      continue;
    } else {
      i++;
    }
    const q = quantifier(i);
    if (q !== undefined) {
      if (q[2]) markRepeat();
      i += q[0];
    }
  }
  return undefined;
}

/** Checks one text rule; returns issues (empty when fine) and the compiled rule. */
function checkRule(rule: ScrubRule, at: string): { issues: string[]; compiled?: CompiledRule } {
  const issues: string[] = [];
  if (typeof rule.kind !== 'string' || !KIND_PATTERN.test(rule.kind)) {
    issues.push(`${at}.kind: must be 1-64 characters of a-z, 0-9 and "_", starting with a letter`);
  }
  const flags = rule.flags ?? '';
  if (typeof flags !== 'string' || [...flags].some((f) => !ALLOWED_FLAGS.has(f)) || new Set(flags).size !== flags.length) {
    issues.push(`${at}.flags: only i, m, s and u, each at most once`);
  }
  if (typeof rule.pattern !== 'string' || rule.pattern.length === 0 || rule.pattern.length > MAX_PATTERN_LENGTH) {
    issues.push(`${at}.pattern: must be a non-empty string of at most ${MAX_PATTERN_LENGTH} characters`);
    return { issues };
  }
  const hints = rule.hints;
  if (hints !== undefined && (!Array.isArray(hints) || hints.length === 0 || hints.some((h) => typeof h !== 'string' || h.length === 0 || h.length > 64))) {
    issues.push(`${at}.hints: must be a non-empty list of 1-64 character strings`);
  }
  if (issues.length > 0) return { issues };
  const shape = catastrophicShape(rule.pattern);
  if (shape !== undefined) return { issues: [`${at}.pattern: ${shape}`] };
  let probe: RegExp;
  try {
    probe = new RegExp(`${rule.pattern}|`, flags);
  } catch (e) {
    return { issues: [`${at}.pattern: not a valid regular expression (${(e as Error).message})`] };
  }
  // With the empty alternative the probe always matches '', which reveals the group count and names.
  const m = probe.exec('') as RegExpExecArray;
  const group = rule.secretGroup ?? 0;
  if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0 || group >= m.length) {
      issues.push(`${at}.secretGroup: the pattern has no capture group ${group} (it has ${m.length - 1})`);
    }
  } else if (typeof group !== 'string' || m.groups === undefined || !(group in m.groups)) {
    issues.push(`${at}.secretGroup: the pattern has no group named ${JSON.stringify(group)}`);
  }
  if (new RegExp(`^(?:${rule.pattern})$`, flags).test('')) {
    issues.push(`${at}.pattern: matches the empty string`);
  }
  if (issues.length > 0) return { issues };
  const re = new RegExp(rule.pattern, `${flags}g${group === 0 ? '' : 'd'}`);
  return { issues, compiled: { kind: rule.kind, re, group, hinted: hints !== undefined, hints: hints ?? [], argv: rule.argv === true } };
}

function checkKeyRule(rule: SecretKeyRule, at: string): string[] {
  const issues: string[] = [];
  if (typeof rule.kind !== 'string' || !KIND_PATTERN.test(rule.kind)) {
    issues.push(`${at}.kind: must be 1-64 characters of a-z, 0-9 and "_", starting with a letter`);
  }
  if (!Array.isArray(rule.names) || rule.names.length === 0 || rule.names.some((n) => typeof n !== 'string' || normalizeKey(n).length === 0)) {
    issues.push(`${at}.names: must be a non-empty list of key names (not only "-", "_", "." or spaces)`);
  }
  if (rule.match !== undefined && rule.match !== 'exact' && rule.match !== 'suffix') {
    issues.push(`${at}.match: must be "exact" or "suffix"`);
  }
  return issues;
}

/**
 * Checks and compiles a rule set. Pass `withDefaults(operatorRules)` to extend
 * the built-in table, or nothing for the built-in table alone.
 *
 * @throws ScrubRulesError listing every problem found.
 */
export function compileRules(set: RuleSet = DEFAULT_RULESET, opts: CompileOptions = {}): CompiledRules {
  const maxScanChars = opts.maxScanChars ?? DEFAULT_MAX_SCAN_CHARS;
  if (!Number.isSafeInteger(maxScanChars) || maxScanChars < 1024) {
    throw new RangeError(`maxScanChars must be an integer >= 1024, got ${maxScanChars}`);
  }
  const issues: string[] = [];
  const rules: CompiledRule[] = [];
  const kinds = new Set<string>();
  if (!Array.isArray(set.rules)) issues.push('rules: must be a list');
  (Array.isArray(set.rules) ? set.rules : []).forEach((rule, i) => {
    const r = checkRule(rule, `rules[${i}]`);
    issues.push(...r.issues);
    if (r.compiled !== undefined) {
      rules.push(r.compiled);
      kinds.add(r.compiled.kind);
    }
  });
  const exactKeys = new Map<string, string>();
  const suffixKeys: Array<readonly [string, string]> = [];
  (set.keys ?? []).forEach((rule, i) => {
    const bad = checkKeyRule(rule, `keys[${i}]`);
    issues.push(...bad);
    if (bad.length > 0) return;
    kinds.add(rule.kind);
    for (const name of rule.names) {
      const n = normalizeKey(name);
      if (rule.match === 'suffix') suffixKeys.push([n, rule.kind]);
      else if (!exactKeys.has(n)) exactKeys.set(n, rule.kind);
    }
  });
  if (issues.length > 0) throw new ScrubRulesError(issues);
  const own = new Map<string, Set<number>>();
  rules.forEach((r, i) => {
    for (const h of r.hints) {
      const l = h.toLowerCase();
      if (!own.has(l)) own.set(l, new Set());
      own.get(l)!.add(i);
    }
  });
  const uniqueHints = [...own.keys()].sort((a, b) => b.length - a.length);
  const hintRules = new Map<string, number[]>();
  for (const h of uniqueHints) {
    const idx = new Set<number>();
    for (const [other, set] of own) if (h.includes(other)) for (const i of set) idx.add(i);
    hintRules.set(h, [...idx].sort((a, b) => a - b));
  }
  return Object.freeze({
    rules: Object.freeze(rules),
    hint: uniqueHints.length === 0 ? null : new RegExp(trieSource(uniqueHints), 'gi'),
    hintRules,
    hintAutomaton: buildHintAutomaton(own),
    hasUnhinted: rules.some((r) => !r.hinted),
    exactKeys,
    suffixKeys: Object.freeze(suffixKeys),
    maxScanChars,
    kinds,
    keyCache: new Map<string, string>(),
  });
}

/** The built-in rules followed by `extra` (which so has lower priority on overlaps). */
export function withDefaults(extra: RuleSet | undefined, base: RuleSet = DEFAULT_RULESET): RuleSet {
  if (extra === undefined) return base;
  return { rules: [...base.rules, ...extra.rules], keys: [...(base.keys ?? []), ...(extra.keys ?? [])] };
}
