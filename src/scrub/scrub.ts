/**
 * scrubText and scrubEvent: replace every secret the compiled rules find with
 * `[REDACTED:<kind>]`, keeping the text around it. scrubEvent also reads an
 * array of strings, and a `command` with its `args`, as one command line
 * (argv; see "Argument arrays" below).
 *
 * Invariants:
 *  - Idempotent: scrubbing scrubbed output changes nothing. Markers are cut
 *    out of every match before replacing, and a string is rescanned after
 *    replacement until no rule matches (a bounded fixpoint).
 *  - Overlapping matches of different rules are merged into one redaction
 *    covering their union, under the kind of the earliest rule. A partial
 *    overlap therefore never leaves a piece of a secret behind.
 *  - Input is never mutated; scrubEvent returns a fresh deep copy.
 *  - Paths in the report name where a secret was, never the secret: object
 *    keys that held a secret appear in their scrubbed form.
 */
import { formatPath, type PathSegment } from '../events/path.js';
import { isPlainObject, setOwn } from '../events/json.js';
import { KEY_CACHE_SIZE, type CompiledRules, type HintAutomaton } from './compile.js';
import { marker, normalizeKey, UNSCANNED_KIND } from './rules.js';

/** One scrubbed place: a field path (src/events/path.ts format) and the kind of secret. */
export interface ScrubbedEntry {
  path: string;
  kind: string;
}

/** What scrubEvent returns: the scrubbed copy and one entry per (path, kind). */
export interface ScrubEventResult<T> {
  event: T;
  scrubbed: ScrubbedEntry[];
}

/** What scrubTextDetailed returns: the text and the kinds found, in order of first appearance. */
export interface ScrubTextResult {
  text: string;
  kinds: string[];
}

interface Span {
  start: number;
  end: number;
  kind: string;
  /** Rule index: lower wins when spans merge. */
  prio: number;
}

const MARKER_G = /\[REDACTED:[a-z][a-z0-9_]{0,63}\]/g;
const EXACT_MARKER = /^\[REDACTED:[a-z][a-z0-9_]{0,63}\]$/;
const MARKER_START = '[REDACTED:';
const WHITESPACE_ONLY = /^\s*$/;
/** Passes of find-and-replace before giving up and redacting the whole string. */
const MAX_PASSES = 4;
/** When a string is cut at the scan bound, look this far back for whitespace to cut at. */
const CUT_LOOKBACK = 256;

/**
 * Which hinted rules can match `s` (undefined: none): one pass of the hint
 * automaton, or, when a hint is not ASCII, of the hint regex. Stepping one
 * character after each regex hit finds hints that overlap an earlier one;
 * the automaton finds every occurrence of every hint by construction.
 *
 * The set (rule index → 1) is one shared array, valid until the next call: V8 allocates a typed
 * array over 64 bytes outside its heap, several times slower, and a fresh one per hinted string
 * cost a URL string 0.3 µs once the default table passed 64 rules. Every caller reads it before
 * calling again (scrubbing is synchronous).
 */
function hintedRules(s: string, c: CompiledRules): Uint8Array | undefined {
  const ac = c.hintAutomaton;
  if (ac !== null) return scanHints(s, ac, c.rules.length);
  const hint = c.hint;
  if (hint === null) return undefined;
  let active: Uint8Array | undefined;
  hint.lastIndex = 0;
  let h: RegExpExecArray | null;
  while ((h = hint.exec(s)) !== null) {
    active ??= activeSet(c.rules.length);
    for (const i of c.hintRules.get(h[0].toLowerCase()) ?? []) active[i] = 1;
    hint.lastIndex = h.index + 1;
  }
  return active;
}

/** The shared set of hintedRules, cleared, for n rules. */
let ACTIVE = new Uint8Array(64);
function activeSet(n: number): Uint8Array {
  if (ACTIVE.length < n) ACTIVE = new Uint8Array(n);
  else ACTIVE.fill(0, 0, n);
  return ACTIVE;
}

function scanHints(s: string, ac: HintAutomaton, n: number): Uint8Array | undefined {
  const { classes, next } = ac;
  let active: Uint8Array | undefined;
  let row = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    const v = u < 128 ? next[row + classes[u]!]! : 0;
    row = v >>> 1;
    if ((v & 1) !== 0) {
      active ??= activeSet(n);
      for (const r of ac.lists[ac.hits[row / ac.width]!]!) active[r] = 1;
    }
  }
  return active;
}

/**
 * Returned when no rule can match: shared, so the common case (a clean
 * string) allocates nothing. The callers never modify a span list of length 0.
 */
const NO_SPANS: Span[] = [];

/**
 * Every match of every rule that can match `s`. Kept small (the pre-checks
 * are helpers) so that V8 still inlines it: the clean path runs for every
 * string of every event.
 */
function findSpans(s: string, c: CompiledRules): Span[] {
  const active = hintedRules(s, c);
  if (active === undefined && !c.hasUnhinted) return NO_SPANS;
  const spans: Span[] = [];
  const rules = c.rules;
  for (let prio = 0; prio < rules.length; prio++) {
    const rule = rules[prio]!;
    if (rule.hinted && active?.[prio] !== 1) continue;
    matchRule(rule, prio, s, spans);
  }
  return spans;
}

/** Every match of one rule in `s`, as spans (the rule's group, if it names one). */
function matchRule(rule: CompiledRules['rules'][number], prio: number, s: string, spans: Span[]): void {
  const re = rule.re;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[0].length === 0) {
      // A zero-width match (lookarounds only) redacts nothing; step past it.
      re.lastIndex++;
      continue;
    }
    let start = m.index;
    let end = start + m[0].length;
    if (rule.group !== 0) {
      const ind = typeof rule.group === 'number' ? m.indices?.[rule.group] : m.indices?.groups?.[rule.group];
      if (ind === undefined) continue;
      [start, end] = ind;
    }
    if (end > start) spans.push({ start, end, kind: rule.kind, prio });
  }
}

/** Removes marker ranges from spans, so a marker is never re-redacted. */
function subtractMarkers(s: string, spans: Span[]): Span[] {
  if (spans.length === 0 || !s.includes(MARKER_START)) return spans;
  const markers: Array<[number, number]> = [];
  MARKER_G.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = MARKER_G.exec(s)) !== null) markers.push([m.index, m.index + m[0].length]);
  if (markers.length === 0) return spans;
  // Markers are sorted and disjoint: binary-search the first one ending after
  // each span's start, so many spans and many markers stay n log n.
  const out: Span[] = [];
  for (const span of spans) {
    let lo = 0;
    let hi = markers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (markers[mid]![1] <= span.start) lo = mid + 1;
      else hi = mid;
    }
    let from = span.start;
    for (let j = lo; j < markers.length && markers[j]![0] < span.end; j++) {
      const [ms, me] = markers[j]!;
      if (ms > from) out.push({ ...span, start: from, end: ms });
      from = Math.max(from, me);
    }
    if (from < span.end) out.push({ ...span, start: from, end: span.end });
  }
  return out.filter((p) => !WHITESPACE_ONLY.test(s.slice(p.start, p.end)));
}

/** Sorts and merges overlapping spans; the merged span takes the kind of its highest-priority part. */
function mergeSpans(spans: Span[]): Span[] {
  if (spans.length <= 1) return spans;
  spans.sort((a, b) => a.start - b.start || a.prio - b.prio);
  const out: Span[] = [{ ...spans[0]! }];
  for (let i = 1; i < spans.length; i++) {
    const sp = spans[i]!;
    const last = out[out.length - 1]!;
    if (sp.start < last.end) {
      last.end = Math.max(last.end, sp.end);
      if (sp.prio < last.prio) {
        last.prio = sp.prio;
        last.kind = sp.kind;
      }
    } else {
      out.push({ ...sp });
    }
  }
  return out;
}

/** Replaces merged spans by their markers, adding their kinds to `kinds` (in order of first appearance). */
function replaceSpans(s: string, spans: readonly Span[], kinds: string[]): string {
  let out = '';
  let at = 0;
  for (const sp of spans) {
    out += s.slice(at, sp.start) + marker(sp.kind);
    at = sp.end;
    if (!kinds.includes(sp.kind)) kinds.push(sp.kind);
  }
  return out + s.slice(at);
}

/**
 * One find-and-replace pass; null when nothing matched. The replacement loop is replaceSpans',
 * written out: calling it here made V8 inline differently and a clean string's scrub 15% slower.
 */
function pass(s: string, c: CompiledRules, kinds: string[]): string | null {
  const spans = mergeSpans(subtractMarkers(s, findSpans(s, c)));
  if (spans.length === 0) return null;
  let out = '';
  let at = 0;
  for (const sp of spans) {
    out += s.slice(at, sp.start) + marker(sp.kind);
    at = sp.end;
    if (!kinds.includes(sp.kind)) kinds.push(sp.kind);
  }
  return out + s.slice(at);
}

/** Scrubs a string within the scan bound; null when unchanged (the common case, no allocation). */
function scrubBounded(s: string, c: CompiledRules, kinds: string[]): string | null {
  let cur = s;
  let changed = false;
  for (let i = 0; i < MAX_PASSES; i++) {
    const next = pass(cur, c, kinds);
    if (next === null) return changed ? cur : null;
    cur = next;
    changed = true;
  }
  // Still matching after MAX_PASSES (only an odd operator rule can do this): redact it all.
  return marker(kinds[0] ?? UNSCANNED_KIND);
}

/** Where to cut a string longer than the bound: at whitespace near the bound, never inside a surrogate pair. */
function cutPoint(s: string, max: number): number {
  for (let i = max - 1; i > max - CUT_LOOKBACK; i--) {
    const ch = s.charCodeAt(i);
    if (ch === 0x20 || ch === 0x0a || ch === 0x09 || ch === 0x0d) return i + 1;
  }
  const hi = s.charCodeAt(max - 1);
  return hi >= 0xd800 && hi <= 0xdbff ? max - 1 : max;
}

function scrubString(s: string, c: CompiledRules, kinds: string[]): string | null {
  if (s.length <= c.maxScanChars) return scrubBounded(s, c, kinds);
  // Past the bound nothing is scanned, so nothing past it may be kept.
  const head = s.slice(0, cutPoint(s, c.maxScanChars));
  const scrubbed = scrubBounded(head, c, kinds) ?? head;
  if (!kinds.includes(UNSCANNED_KIND)) kinds.push(UNSCANNED_KIND);
  return scrubbed + marker(UNSCANNED_KIND);
}

/**
 * Scrubs one string and reports the kinds found.
 *
 * Text longer than the rules' `maxScanChars` is cut there (at whitespace
 * within 256 characters before the bound, if any) and ends with
 * `[REDACTED:unscanned]`: what was not scanned is not kept.
 */
export function scrubTextDetailed(s: string, c: CompiledRules): ScrubTextResult {
  const kinds: string[] = [];
  const text = scrubString(s, c, kinds) ?? s;
  return { text, kinds };
}

/**
 * Scrubs one string: a log line, an error message. Returns `s` itself when
 * nothing was found.
 *
 * @example scrubText("curl -H 'Authorization: Bearer ghp_…' https://api.example.com/x", rules)
 *   // "curl -H 'Authorization: Bearer [REDACTED:github_token]' https://api.example.com/x"
 */
export function scrubText(s: string, c: CompiledRules): string {
  return scrubString(s, c, []) ?? s;
}

// ---------------------------------------------------------------------------
// Argument arrays. Agents log the commands they run as arrays too
// (`["mysql", "-u", "root", "-pS3cret"]`, MCP's `{"command": "mysql", "args":
// […]}`), and the command-line rules need the tool before its flag: scrubbed
// one by one, no element has both. So an array of two or more strings is also
// read as ONE command line, its elements joined by spaces, by the command-line
// rules only (CompiledRule.argv): the others read each element alone, since an
// array is as often a list of lines (`["Password:", "Sorry, try again."]`).
//
// An element is one argument, whatever it holds: one with whitespace, a quote
// or a shell operator is written as one quoted word, `'…'`, after a bare flag
// or `--name=` prefix (`-p'my pw'`, `--password='my pw'`: the same word to a
// shell). Inside, what would end the word or the command (quotes, backticks,
// `;`, `&`, `|`, line breaks) and a `-` starting a word become OPAQUE, the
// rest stays. So the whole element can be a flag's value, no flag inside it
// is read, and nothing inside ends the command: `["mysql db", "mkdir -pv x"]`
// (two command lines) is not `mysql db mkdir -pv x`, and `-e "select 1; drop"`
// does not end a mysql command.
//
// A match in the joined line is mapped back to the element it starts in and
// clipped to it (a secret is one argument). It counts only if it needs the
// other elements: one that the element's word in the line finds in isolation,
// by the same rule at the same place, is left to the element read alone
// (`vault login --token hvs.…` as one element: its opaque `-` makes `--token`
// a positional in the line, not alone). An element with a flag prefix is an
// argument, not a command line: there every match stands (`--password=my pw`
// loses `my pw`, where read alone it loses `my`). Elements are also scrubbed on
// their own, as before; the two are merged, element by element, and rescanned
// to a fixpoint like a string.

/** ASCII characters that end an unquoted shell word or change its meaning. */
const SHELL_SPECIAL = (() => {
  const t = new Uint8Array(128);
  for (const ch of ' \t\n\r\v\f\'"`;&|()<>') t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** Whitespace to `\s` beyond ASCII. */
function isUnicodeSpace(u: number): boolean {
  return u === 0xa0 || u === 0x1680 || (u >= 0x2000 && u <= 0x200a) || u === 0x2028 || u === 0x2029 || u === 0x202f || u === 0x205f || u === 0x3000 || u === 0xfeff;
}

/** A character that makes an element need quotes: whitespace, a quote or a shell operator. */
function isSpecial(u: number): boolean {
  return u < 128 ? SHELL_SPECIAL[u] === 1 : isUnicodeSpace(u);
}

/**
 * What some characters of a quoted element become in the joined line: a control character, not
 * whitespace to `\s`, not a word character, in no hint of the default rules, found in no text.
 */
const OPAQUE = '\u001f';
const OPAQUE_CODE = 0x1f;
/** In a quoted element: what would end the quoted word or the command, and a `-` that starts a word. */
const OPAQUE_CHARS = /['"`;&|\r\n\u2028\u2029]|(?<=\s)-/g;

/** The unit at `k` of a quoted element as the joined line has it (see OPAQUE_CHARS). */
function opaqueAt(a: string, k: number): number {
  const u = a.charCodeAt(k);
  if (u === 0x27 || u === 0x22 || u === 0x60 || u === 0x3b || u === 0x26 || u === 0x7c || u === 0x0d || u === 0x0a || u === 0x2028 || u === 0x2029) return OPAQUE_CODE;
  if (u === 0x2d && k > 0) {
    const b = a.charCodeAt(k - 1);
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c || (b >= 128 && isUnicodeSpace(b))) return OPAQUE_CODE;
  }
  return u;
}

/** True when `s` cannot stand bare as one shell word: empty, or holding whitespace, a quote or an operator. */
function needsQuote(s: string): boolean {
  if (s.length === 0) return true;
  for (let i = 0; i < s.length; i++) if (isSpecial(s.charCodeAt(i))) return true;
  return false;
}

/**
 * The part of a quoted element kept bare before its quote: `--name=`, `-name=` or a short flag
 * (`-p`). Not `NAME=`: an element may be a whole command line, `NAME=value cmd …`.
 */
const BARE_PREFIX = /^(?:--?[A-Za-z0-9][\w.-]*=|-[A-Za-z0-9])/;

/**
 * How an element stands in the joined line when it is left out of it (a HOLE): one opaque word,
 * so the words around it stay apart and a flag after it still reads as in the same command.
 */
const HOLE = OPAQUE;
/** What ends a string cut at the scan bound (scrubString). */
const UNSCANNED_END = marker(UNSCANNED_KIND);
/** lineHoles' marks: an element left out of the line to make it fit, or one read as a long string (cut). */
const HOLE_FIT = 1;
const HOLE_CUT = 2;

/** The length of element `a`'s word in the joined line (see joinArgs). */
function wordLength(a: string): number {
  return needsQuote(a) ? a.length + 2 : a.length;
}

/**
 * Which elements the joined line leaves out (HOLE), by their lengths alone: null when the whole
 * line fits the scan bound `max`; undefined when even one made of holes would not. An element
 * longer than the bound, or cut at it by an earlier scrub (ending with the unscanned marker), is
 * HOLE_CUT: it is read alone, as a string is (scrubString), and never in the line, so a second
 * scrub reads the line as the first did. Then, while the line is too long, the longest elements
 * are HOLE_FIT: read alone only. The choice is a function of the elements, made again at every
 * pass, so the passes' fixpoint is the scrub's: elements read alone may shrink the line and let
 * a later pass read more of it, and scrubbing the result again changes nothing.
 */
function lineHoles(args: readonly string[], max: number): Uint8Array | null | undefined {
  // Cheap bound first (the usual case): every element quoted.
  let bound = args.length - 1;
  let cut = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    bound += a.length + 2;
    if (a.length > max || (a.length >= UNSCANNED_END.length && a.endsWith(UNSCANNED_END))) cut = true;
  }
  if (bound <= max && !cut) return null;
  const holes = new Uint8Array(args.length);
  const words: number[] = new Array(args.length);
  let total = args.length - 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.length > max || a.endsWith(UNSCANNED_END)) {
      holes[i] = HOLE_CUT;
      words[i] = HOLE.length;
    } else {
      words[i] = wordLength(a);
    }
    total += words[i]!;
  }
  if (total <= max) return holes;
  const order: number[] = [];
  for (let i = 0; i < args.length; i++) if (holes[i] === 0 && words[i]! > HOLE.length) order.push(i);
  order.sort((x, y) => words[y]! - words[x]! || x - y);
  for (const i of order) {
    if (total <= max) break;
    holes[i] = HOLE_FIT;
    total -= words[i]! - HOLE.length;
  }
  return total <= max ? holes : undefined;
}

/** An array read as one command line. */
interface JoinedArgs {
  text: string;
  /** Where each element's word starts in `text` (prefix and quotes included), and where it ends. */
  from: number[];
  to: number[];
  /** -1 for an element written as it is, -2 for a hole; else the length of its bare prefix, before its quote. */
  pre: number[];
}

/** Joins `args` (see above), leaving out the `holes` (lineHoles, which makes it fit the scan bound). */
function joinArgs(args: readonly string[], holes: Uint8Array | null): JoinedArgs {
  let text = '';
  const from: number[] = [];
  const to: number[] = [];
  const pre: number[] = [];
  for (let i = 0; i < args.length; i++) {
    if (i !== 0) text += ' ';
    const a = args[i]!;
    from.push(text.length);
    if (holes !== null && holes[i] !== 0) {
      text += HOLE;
      pre.push(-2);
    } else if (!needsQuote(a)) {
      text += a;
      pre.push(-1);
    } else {
      const p = BARE_PREFIX.exec(a)?.[0].length ?? 0;
      text += `${a.slice(0, p)}'${a.slice(p).replace(OPAQUE_CHARS, OPAQUE)}'`;
      pre.push(p);
    }
    to.push(text.length);
  }
  return { text, from, to, pre };
}

/** The element a span of the joined line starts in (the first it overlaps); -1 when it lies between elements. */
function argAt(j: JoinedArgs, sp: Span): number {
  let lo = 0;
  let hi = j.to.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (j.to[mid]! <= sp.start) lo = mid + 1;
    else hi = mid;
  }
  return lo === j.to.length || j.from[lo]! >= sp.end ? -1 : lo;
}

/**
 * A span of element k's word (offsets from the word's start) as a span of the element: clipped
 * to it, the added quotes left out; undefined when nothing of the element is left.
 */
function wordToArg(j: JoinedArgs, k: number, start: number, end: number, sp: Span): Span | undefined {
  const length = j.to[k]! - j.from[k]!;
  let s = Math.max(start, 0);
  let e = Math.min(end, length);
  const p = j.pre[k]!;
  if (p >= 0) {
    // The word: the prefix (as is), the opening quote, the element's rest, the closing quote.
    const at = (w: number) => (w <= p ? w : Math.min(w - 1, length - 2));
    s = at(s);
    e = at(e);
  }
  return e > s ? { start: s, end: e, kind: sp.kind, prio: sp.prio } : undefined;
}

/** Spans found in the joined line, as spans of the elements they start in (see wordToArg); none in a hole. */
function spansPerArg(j: JoinedArgs, spans: readonly Span[]): Array<Span[] | undefined> {
  const per: Array<Span[] | undefined> = [];
  for (const sp of spans) {
    const k = argAt(j, sp);
    if (k < 0 || j.pre[k] === -2) continue;
    const mapped = wordToArg(j, k, sp.start - j.from[k]!, sp.end - j.from[k]!, sp);
    if (mapped !== undefined) (per[k] ??= []).push(mapped);
  }
  return per;
}

/**
 * Every match of the command-line rules (CompiledRule.argv) in a joined line: findSpans for those
 * rules only. Apart from findSpans so that its clean path, which every string takes, stays as it is.
 */
function findJointSpans(s: string, c: CompiledRules): Span[] {
  const active = hintedRules(s, c);
  if (active === undefined && !c.hasUnhinted) return NO_SPANS;
  const spans: Span[] = [];
  const rules = c.rules;
  for (let prio = 0; prio < rules.length; prio++) {
    const rule = rules[prio]!;
    if (!rule.argv || (rule.hinted && active?.[prio] !== 1)) continue;
    matchRule(rule, prio, s, spans);
  }
  return spans;
}

/**
 * The matches of element k's joined-line spans that need the other elements: a match that the
 * element's word finds in isolation, by the same rule at the same place, is the element's own
 * reading's business (`alone`: its spans read alone, when the word is the element itself). For an
 * element with a flag prefix every match stands (see above). In an element written in quotes (one
 * argument holding whitespace or a quote) a match that stands runs to the element's end: the
 * value of `user/password` or `user:password` may hold spaces and quotes (`["sqlplus",
 * "scott/\"ti ger\"@db"]`), whose quotes the line makes opaque.
 */
function jointOnly(j: JoinedArgs, k: number, joint: Span[], alone: Span[], c: CompiledRules, length: number): Span[] {
  const p = j.pre[k]!;
  const toEnd = (spans: Span[]) => (p < 0 ? spans : spans.map((sp) => ({ ...sp, end: length })));
  if (p > 0) return toEnd(joint);
  let own = alone;
  if (p === 0) {
    own = [];
    for (const sp of findJointSpans(j.text.slice(j.from[k]!, j.to[k]!), c)) {
      const mapped = wordToArg(j, k, sp.start, sp.end, sp);
      if (mapped !== undefined) own.push(mapped);
    }
  }
  if (own.length === 0) return toEnd(joint);
  // findSpans lists a rule's spans together, in order: one binary search per joint span.
  const byRule = new Map<number, Span[]>();
  for (const a of own) {
    let list = byRule.get(a.prio);
    if (list === undefined) byRule.set(a.prio, (list = []));
    list.push(a);
  }
  return toEnd(
    joint.filter((sp) => {
      const list = byRule.get(sp.prio);
      if (list === undefined) return true;
      // The last of the rule's own spans starting before this one ends: the one that can overlap it.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid]!.start < sp.end) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 || list[lo - 1]!.end <= sp.start;
    }),
  );
}

/**
 * The hint automaton run over the line joinArgs would build with `holes`, without building it:
 * true when a hint occurs there, in a quoted element or in a hole (whose own readings the line
 * does not hold). Runs for every array of strings, so an element that needs no quotes (the usual
 * case) is read once: the automaton and the quoting check in one loop.
 */
function argsHinted(args: readonly string[], ac: HintAutomaton, holes: Uint8Array | null): boolean {
  const { classes, next } = ac;
  let row = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (i !== 0) {
      const v = next[row + classes[0x20]!]!;
      if ((v & 1) !== 0) return true;
      row = v >>> 1;
    }
    if (holes !== null && holes[i] !== 0) {
      if (feedRange(ac, 0, a, 0, a.length, false) < 0) return true;
      row = feedRange(ac, row, HOLE, 0, HOLE.length, false);
      if (row < 0) return true;
      continue;
    }
    const from = row;
    let bare = a.length !== 0;
    for (let k = 0; k < a.length; k++) {
      const u = a.charCodeAt(k);
      if (isSpecial(u)) {
        bare = false;
        break;
      }
      const v = u < 128 ? next[row + classes[u]!]! : 0;
      // A hint read before a special character turned up is in the element read alone: reporting
      // it is right for that reading.
      if ((v & 1) !== 0) return true;
      row = v >>> 1;
    }
    if (bare) continue;
    // The element alone, then as joinArgs writes it: the bare prefix, the quote, the rest (see
    // OPAQUE_CHARS), the quote.
    if (feedRange(ac, 0, a, 0, a.length, false) < 0) return true;
    const p = BARE_PREFIX.exec(a)?.[0].length ?? 0;
    row = feedRange(ac, from, a, 0, p, false);
    if (row >= 0) row = feedRange(ac, row, "'", 0, 1, false);
    if (row >= 0) row = feedRange(ac, row, a, p, a.length, true);
    if (row >= 0) row = feedRange(ac, row, "'", 0, 1, false);
    if (row < 0) return true;
  }
  return false;
}

/**
 * `s[from, to)` through the hint automaton from `row`: the row reached, or -1 when a hint ends on
 * the way. `opaque`: read as in a quoted element (opaqueAt).
 */
function feedRange(ac: HintAutomaton, row: number, s: string, from: number, to: number, opaque: boolean): number {
  const { classes, next } = ac;
  for (let i = from; i < to; i++) {
    const u = opaque ? opaqueAt(s, i) : s.charCodeAt(i);
    const v = u < 128 ? next[row + classes[u]!]! : 0;
    if ((v & 1) !== 0) return -1;
    row = v >>> 1;
  }
  return row;
}

/** True when some element may hold a match: a hint in the joined line (`holes`), in a quoted element or a hole. */
function mayMatch(args: readonly string[], c: CompiledRules, holes: Uint8Array | null | undefined): boolean {
  if (c.hasUnhinted) return true;
  if (holes !== null && holes !== undefined && holes.includes(HOLE_CUT)) return true;
  const ac = c.hintAutomaton;
  if (holes === undefined) return args.some((a) => hintedRules(a, c) !== undefined);
  if (ac !== null) return argsHinted(args, ac, holes);
  // A hint that is not ASCII: the same on the built line, with the regex.
  const j = joinArgs(args, holes);
  return hintedRules(j.text, c) !== undefined || args.some((a, i) => j.pre[i]! !== -1 && hintedRules(a, c) !== undefined);
}

/** The END line of a PEM private key block, as the private_key rule has it. */
const PEM_END = /-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
/**
 * An element that can be a line (or lines) of a key's body: base64, empty, or an encrypted PEM's
 * header (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`). A block without its END goes on only through
 * such elements, so a truncated key in a shell history does not take the next command.
 */
function isPemBody(a: string): boolean {
  for (const line of a.split('\n')) {
    const t = line.trim();
    if (!PEM_BASE64.test(t) && !PEM_HEADER.test(t)) return false;
  }
  return true;
}
const PEM_BASE64 = /^[A-Za-z0-9+/=]*$/;
const PEM_HEADER = /^(?:Proc-Type|DEK-Info|Comment):/;
/** The kind whose match, when it runs to the end of its element, goes on in the next elements. */
const PRIVATE_KEY_KIND = 'private_key';

/**
 * A private-key span of `alone` (element `a` read alone) that runs to the element's end without
 * an END line after `from`: a block the next elements go on with (Ansible's stdout_lines of `cat
 * id_ed25519`). The span, or undefined.
 */
function openKeySpan(a: string, alone: readonly Span[], from: number): Span | undefined {
  for (const sp of alone) {
    if (sp.kind === PRIVATE_KEY_KIND && sp.end === a.length && sp.start >= from && !PEM_END.test(a.slice(sp.start, sp.end))) return sp;
  }
  return undefined;
}

/** What scrubArgs found: the elements (the same string where unchanged) and each one's kinds. */
interface ScrubbedArgs {
  args: string[];
  kinds: string[][];
}

/**
 * Scrubs an array of strings read as one command line (see above). Returns null when nothing
 * was found.
 *
 * Most arrays are not commands and hold no hint: one automaton pass over the joined line (not
 * built) tells, and then no element needs a scan of its own (an element written as it is is a run
 * of the line, and a rule matches only where a hint of it occurs; a quoted one and a hole are read
 * alone too).
 *
 * A private-key block split over elements (`["-----BEGIN … PRIVATE KEY-----", "b3Bl…", …,
 * "-----END … PRIVATE KEY-----"]`) goes whole: the elements after the one it starts in, up to
 * and including its END (or to the array's end), as a string's block goes to its END or its end.
 */
function scrubArgs(args: readonly string[], c: CompiledRules): ScrubbedArgs | null {
  const max = c.maxScanChars;
  const firstHoles = lineHoles(args, max);
  if (!mayMatch(args, c, firstHoles)) return null;
  const cur = args.slice();
  const kinds: string[][] = args.map(() => []);
  let changedAny = false;
  // Elements past the scan bound are read as strings are, once: cut at it (scrubString).
  if (firstHoles) {
    for (let i = 0; i < cur.length; i++) {
      if (firstHoles[i] !== HOLE_CUT) continue;
      const r = scrubString(cur[i]!, c, kinds[i]!);
      if (r !== null) {
        cur[i] = r;
        changedAny = true;
      }
    }
  }
  const last = new Int8Array(args.length).fill(-1);
  for (let p = 0; p < MAX_PASSES; p++) {
    const holes = p === 0 ? firstHoles : lineHoles(cur, max);
    const j = holes === undefined ? undefined : joinArgs(cur, holes);
    const per = j === undefined ? [] : spansPerArg(j, findJointSpans(j.text, c));
    let changed = false;
    // A private-key block open from an earlier element, with its rule's priority.
    let openKey: Span | undefined;
    for (let i = 0; i < cur.length; i++) {
      const a = cur[i]!;
      const isCut = holes != null && holes[i] === HOLE_CUT;
      const alone = isCut ? NO_SPANS : findSpans(a, c);
      const joint = per[i] === undefined ? undefined : jointOnly(j!, i, per[i]!, alone, c, a.length);
      let all = joint === undefined || joint.length === 0 ? alone : alone.length === 0 ? joint : alone.concat(joint);
      let keyFrom = 0;
      if (openKey !== undefined) {
        const end = PEM_END.exec(a);
        const body = end !== null || isPemBody(a);
        if (body) {
          keyFrom = end === null ? a.length : end.index + end[0].length;
          if (keyFrom > 0) all = all.concat({ start: 0, end: keyFrom, kind: openKey.kind, prio: openKey.prio });
        }
        if (end !== null || !body) openKey = undefined;
      }
      if (!isCut) openKey = openKeySpan(a, alone, keyFrom) ?? openKey;
      const spans = mergeSpans(subtractMarkers(a, all));
      if (spans.length === 0) continue;
      cur[i] = replaceSpans(a, spans, kinds[i]!);
      last[i] = p;
      changed = true;
    }
    if (!changed) return p === 0 && !changedAny ? null : { args: cur, kinds };
    changedAny = true;
  }
  // Still matching after MAX_PASSES (only an odd operator rule can do this): those elements go whole.
  for (let i = 0; i < cur.length; i++) if (last[i] === MAX_PASSES - 1) cur[i] = marker(kinds[i]![0]!);
  return { args: cur, kinds };
}

/** True when every item of `a` is a string. */
function allStrings(a: readonly unknown[]): a is string[] {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
}

/**
 * `{"command": …, "args": […]}` (MCP server and tool configs, Kubernetes containers): `command` a
 * string or an array of strings, `args` a non-empty array of strings. Their elements as one list.
 */
function commandAndArgs(o: Record<string, unknown>): string[] | undefined {
  if (!own(o, 'command') || !own(o, 'args')) return undefined;
  const cmd = o.command;
  const args = o.args;
  if (!Array.isArray(args) || args.length === 0 || !allStrings(args)) return undefined;
  if (typeof cmd === 'string') return [cmd, ...args];
  if (Array.isArray(cmd) && cmd.length !== 0 && allStrings(cmd)) return [...cmd, ...args];
  return undefined;
}

// ---------------------------------------------------------------------------
// Argument arrays written as JSON text. Tool call arguments are often a JSON string (OpenAI's
// `function_call.arguments`, a serialized `tool_input`): `"{\"argv\":[\"mysql\",\"-pS3cret\"]}"`.
// The string rules read it as text, where every element follows a quote, so no array is read as a
// command line. A string that is a JSON object or array (first non-whitespace character `{` or `[`,
// within the scan bound, JSON.parse accepts it) is also read as the event is: each array of two or
// more strings and each `command` + `args` pair in it, at any depth, by scrubArgs. A changed
// element's token (quotes included) is replaced in place by the JSON of its scrubbed value; the
// rest of the text stays byte for byte, so the string is still JSON of the same shape. One level:
// a JSON string inside that JSON is text to it.

/** JSON whitespace. */
const isJsonSpace = (u: number): boolean => u === 0x20 || u === 0x0a || u === 0x0d || u === 0x09;

/**
 * True when `s` may be a JSON object or array, by its ends: `{` then `"` or `}`, or `[` then the
 * start of a value or `]`, and the matching `}` or `]` last (whitespace around). A failed
 * JSON.parse throws, which costs several times a clean string's scrub: this keeps log lines
 * (`[INFO] …`, `[2026-12-07 …] …`) and prose in braces from getting that far.
 */
function mayBeJsonText(s: string): boolean {
  let i = 0;
  while (i < s.length && isJsonSpace(s.charCodeAt(i))) i++;
  const open = s.charCodeAt(i);
  if (open !== 0x7b && open !== 0x5b) return false;
  let e = s.length - 1;
  while (e > i && isJsonSpace(s.charCodeAt(e))) e--;
  if (e === i || s.charCodeAt(e) !== open + 2) return false;
  i++;
  while (i < e && isJsonSpace(s.charCodeAt(i))) i++;
  const u = s.charCodeAt(i);
  if (open === 0x7b) return u === 0x22 || i === e;
  // A string, an object, an array, a number, true, false, null; or the end.
  return u === 0x22 || u === 0x7b || u === 0x5b || u === 0x2d || (u >= 0x30 && u <= 0x39) || u === 0x74 || u === 0x66 || u === 0x6e || i === e;
}

/** A string token of the JSON text: `[start, end)` with its quotes. */
interface JsonStr {
  start: number;
  end: number;
}
/** An array or object of the JSON text: its values in text order, an object's keys beside them (duplicates kept). */
interface JsonBox {
  items: JsonItem[];
  /** null for an array. */
  keys: string[] | null;
  /** An object's key waiting for its value. */
  key: string | undefined;
}
/** A value of the JSON text: a string token, a box, or null for a number, boolean or null. */
type JsonItem = JsonStr | JsonBox | null;

const isBox = (x: JsonItem): x is JsonBox => x !== null && 'items' in x;
const isStr = (x: JsonItem): x is JsonStr => x !== null && 'start' in x;

/** The value of the string token `[start, end)` of valid JSON text `t`. */
function jsonString(t: string, start: number, end: number): string {
  const raw = t.slice(start + 1, end - 1);
  return raw.includes('\\') ? (JSON.parse(t.slice(start, end)) as string) : raw;
}

/**
 * Scrubs the argument arrays of JSON text `t` (see above); null when `t` is not JSON or nothing
 * was found. Kinds found are added to `kinds`. Linear: JSON.parse checks the text, one pass with
 * an explicit stack (no recursion, any depth) finds the tokens, and each array is read once, when
 * the box holding it closes (an object's `command` and `args` are then read as a pair instead).
 */
function scrubJsonArgs(t: string, c: CompiledRules, kinds: string[]): string | null {
  // Without a `[` anywhere the text holds no array (an object of scalars: most tool arguments).
  if (t.length > c.maxScanChars || !mayBeJsonText(t) || !t.includes('[')) return null;
  try {
    JSON.parse(t);
  } catch {
    return null;
  }
  const edits: Array<{ start: number; end: number; text: string }> = [];
  /** Scrubs string tokens `toks` read as one command line, queuing an edit per changed element. */
  const read = (toks: readonly JsonStr[]) => {
    const args = toks.map((s) => jsonString(t, s.start, s.end));
    const r = scrubArgs(args, c);
    if (r === null) return;
    for (let i = 0; i < toks.length; i++) {
      if (r.args[i] === args[i]) continue;
      edits.push({ start: toks[i]!.start, end: toks[i]!.end, text: JSON.stringify(r.args[i]) });
      for (const k of r.kinds[i]!) if (!kinds.includes(k)) kinds.push(k);
    }
  };
  /** An array of two or more string tokens: its tokens, else undefined. */
  const argv = (x: JsonItem): JsonStr[] | undefined => (isBox(x) && x.keys === null && x.items.length >= 2 && x.items.every(isStr) ? (x.items as JsonStr[]) : undefined);
  /** Reads the arrays among a box's items, an object's `command` + `args` as one line (commandAndArgs). */
  const close = (b: JsonBox) => {
    let skip = -1;
    let skip2 = -1;
    if (b.keys !== null) {
      const ci = b.keys.lastIndexOf('command');
      const ai = b.keys.lastIndexOf('args');
      const cmd = ci < 0 ? undefined : b.items[ci]!;
      const args = ai < 0 ? undefined : b.items[ai]!;
      const argToks = args !== undefined && isBox(args) && args.keys === null && args.items.length > 0 && args.items.every(isStr) ? (args.items as JsonStr[]) : undefined;
      const cmdToks = cmd === undefined ? undefined : isStr(cmd) ? [cmd] : isBox(cmd) && cmd.keys === null && cmd.items.length > 0 && cmd.items.every(isStr) ? (cmd.items as JsonStr[]) : undefined;
      if (argToks !== undefined && cmdToks !== undefined) {
        read([...cmdToks, ...argToks]);
        skip = ci;
        skip2 = ai;
      }
    }
    for (let i = 0; i < b.items.length; i++) {
      if (i === skip || i === skip2) continue;
      const toks = argv(b.items[i]!);
      if (toks !== undefined) read(toks);
    }
  };
  const stack: JsonBox[] = [];
  let root: JsonItem = null;
  const put = (x: JsonItem) => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      root = x;
      return;
    }
    if (top.keys !== null) {
      top.keys.push(top.key!);
      top.key = undefined;
    }
    top.items.push(x);
  };
  for (let i = 0; i < t.length; ) {
    const u = t.charCodeAt(i);
    if (u === 0x7b || u === 0x5b) {
      stack.push({ items: [], keys: u === 0x7b ? [] : null, key: undefined });
      i++;
    } else if (u === 0x7d || u === 0x5d) {
      const b = stack.pop()!;
      close(b);
      put(b);
      i++;
    } else if (u === 0x22) {
      let j = i + 1;
      for (;;) {
        const v = t.charCodeAt(j);
        if (v === 0x5c) j += 2;
        else if (v === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== null && top.key === undefined) top.key = jsonString(t, i, j + 1);
      else put({ start: i, end: j + 1 });
      i = j + 1;
    } else if (u === 0x2c || u === 0x3a || u === 0x20 || u === 0x0a || u === 0x0d || u === 0x09) {
      i++;
    } else {
      // A number, true, false or null: to the next delimiter.
      let j = i + 1;
      for (; j < t.length; j++) {
        const v = t.charCodeAt(j);
        if (v === 0x2c || v === 0x5d || v === 0x7d || v === 0x20 || v === 0x0a || v === 0x0d || v === 0x09) break;
      }
      put(null);
      i = j;
    }
  }
  const top = argv(root);
  if (top !== undefined) read(top);
  if (edits.length === 0) return null;
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += t.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + t.slice(at);
}

/**
 * A string of an event: the string rules, then, for JSON text, its argument arrays
 * (scrubJsonArgs), the two again on what changed until neither finds anything (at most MAX_PASSES
 * rounds; still changing after that, it goes whole). Null when unchanged.
 */
function scrubValueString(s: string, c: CompiledRules, kinds: string[]): string | null {
  const r = scrubString(s, c, kinds);
  const u = (r ?? s).charCodeAt(0);
  // Anything but `{`, `[` or whitespace first: no JSON text (the common case, one comparison).
  if (u !== 0x7b && u !== 0x5b && u > 0x20) return r;
  let cur = r ?? s;
  let j = scrubJsonArgs(cur, c, kinds);
  if (j === null) return r;
  for (let round = 1; round < MAX_PASSES; round++) {
    cur = j;
    const again = scrubString(cur, c, kinds);
    j = scrubJsonArgs(again ?? cur, c, kinds);
    if (j === null) return again ?? cur;
  }
  return marker(kinds[0]!);
}

/** The kind of secret a key names, after the key rules; undefined for an ordinary key. */
export function secretKeyKind(key: string, c: CompiledRules): string | undefined {
  let kind = c.keyCache.get(key);
  if (kind === undefined) {
    kind = keyKindUncached(key, c);
    if (c.keyCache.size >= KEY_CACHE_SIZE) c.keyCache.clear();
    c.keyCache.set(key, kind);
  }
  return kind === '' ? undefined : kind;
}

function keyKindUncached(key: string, c: CompiledRules): string {
  const n = normalizeKey(key);
  const exact = c.exactKeys.get(n);
  if (exact !== undefined) return exact;
  for (const [suffix, kind] of c.suffixKeys) if (n.endsWith(suffix)) return kind;
  return '';
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
/** The `value` of a name/value pair: lower case (Kubernetes, HAR) or capitalized (AWS: SSM parameters, tags). */
const isPairValue = (k: string): boolean => k === 'value' || k === 'Value';

/** For an object with a string `name` (or `key`, `Name`, `Key`) naming a secret and a `value` (or `Value`): that kind. */
function pairSecretKind(o: Record<string, unknown>, c: CompiledRules): string | undefined {
  if (!own(o, 'value') && !own(o, 'Value')) return undefined;
  // A loop over a shared list: objects with a `value` (a `pii` entry) are common, and a list and a closure per one were not free.
  for (const k of PAIR_NAMES) {
    if (!own(o, k)) continue;
    const name = o[k];
    return typeof name === 'string' ? secretKeyKind(name, c) : undefined;
  }
  return undefined;
}
const PAIR_NAMES = ['name', 'key', 'Name', 'Key'] as const;

/** Longer than this, a string is no key name (and is not put in the key cache). */
const MAX_NAME = 128;

/** The kind a name given as data names (a header or key name), or undefined. */
function nameKind(name: unknown, c: CompiledRules): string | undefined {
  return typeof name === 'string' && name.length <= MAX_NAME ? secretKeyKind(name, c) : undefined;
}

/**
 * A list of `[name, value]` pairs (`[["Authorization", "…"], ["Accept", "text/html"]]`: fetch and undici
 * header lists, `Object.entries`, Python's header tuples): every item a two-element array whose first
 * element is a string. Per item, the kind its name names; undefined when none names a secret or `v`
 * is no such list.
 */
function pairListKinds(v: readonly unknown[], c: CompiledRules): Array<string | undefined> | undefined {
  // Most arrays hold no arrays: one check.
  if (!Array.isArray(v[0])) return undefined;
  let kinds: Array<string | undefined> | undefined;
  for (let i = 0; i < v.length; i++) {
    const p = v[i];
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string') return undefined;
    const kind = nameKind(p[0], c);
    if (kind !== undefined) (kinds ??= new Array<string | undefined>(v.length))[i] = kind;
  }
  return kinds;
}

/**
 * A flat list of names and values under a raw headers key (Node's `rawHeaders`, `["Host", "x",
 * "Authorization", "…"]`). Per index, the kind of the value whose name names a secret; undefined
 * when none does. A well-formed list (strings, an even number of them) is read in pairs, so a
 * value that is itself a secret's name (`Access-Control-Request-Headers: authorization`) does not
 * take the next name with it. A malformed one (odd length, a null or a number: a logger's copy cut
 * short or shifted) has no trusted pairing, so after a string naming a secret, every element up to
 * and including the next string is taken for its value (`["Authorization", null, "…"]`): a little
 * over-redaction rather than a token kept in the clear.
 */
function flatHeaderKinds(v: readonly unknown[], c: CompiledRules): Array<string | undefined> | undefined {
  let paired = v.length % 2 === 0;
  for (let i = 0; paired && i < v.length; i++) if (typeof v[i] !== 'string') paired = false;
  let kinds: Array<string | undefined> | undefined;
  for (let i = 0; i + 1 < v.length; i += paired ? 2 : 1) {
    const kind = typeof v[i] === 'string' ? nameKind(v[i] as string, c) : undefined;
    if (kind === undefined) continue;
    kinds ??= new Array<string | undefined>(v.length);
    if (paired) kinds[i + 1] = kind;
    else
      for (let j = i + 1; j < v.length; j++) {
        kinds[j] = kind;
        if (typeof v[j] === 'string') break;
      }
  }
  return kinds;
}

/**
 * A key whose array value is a flat name/value header list: Node's `rawHeaders`, `rawTrailers`
 * (also `req_rawHeaders`, `raw_headers`). Not any `…headers`: CORS' `allowedHeaders: ["Authorization",
 * "Content-Type"]` is a list of names.
 */
function isHeaderListKey(k: string): boolean {
  // Cheap first: long enough and ending in `s` (this runs for every array-valued key).
  if (k.length < 10 || (k.charCodeAt(k.length - 1) | 0x20) !== 0x73) return false;
  const n = normalizeKey(k);
  return n.endsWith('rawheaders') || n.endsWith('rawtrailers');
}

/**
 * Scrubs every string of an event: values at any depth (metadata, change
 * values, arrays) and object keys. Under a key that names a secret
 * (`password`, `api_key`, `Authorization`, …) every string and number at any
 * depth is replaced whole by the key rule's marker (numbers become the marker
 * string); booleans, null and empty strings are kept. The same holds for the
 * `value` of a name/value pair whose `name` (or `key`) names a secret
 * (`{"name": "Authorization", "value": "…"}`).
 *
 * Returns a fresh deep copy (the input is not mutated) and one entry per
 * (path, kind), in walk order. A key that held a secret is reported at its
 * scrubbed path; if two keys of one object scrub to the same name, later ones
 * get a `(2) `, `(3) `, … prefix so no value is lost.
 */
export function scrubEvent<T>(event: T, c: CompiledRules): ScrubEventResult<T> {
  const scrubbed: ScrubbedEntry[] = [];
  const seen = new Set<string>();
  const path: PathSegment[] = [];
  const kinds: string[] = [];

  const record = (kind: string) => {
    const p = formatPath(path);
    const id = `${p}\u0000${kind}`;
    if (seen.has(id)) return;
    seen.add(id);
    scrubbed.push({ path: p, kind });
  };

  /** Records each element's kinds at the path `at(i)` names below the current one. */
  const recordArgs = (r: ScrubbedArgs, at: (i: number) => PathSegment[]) => {
    for (let i = 0; i < r.kinds.length; i++) {
      if (r.kinds[i]!.length === 0) continue;
      const sub = at(i);
      path.push(...sub);
      for (const k of r.kinds[i]!) record(k);
      path.length -= sub.length;
    }
  };

  /**
   * `command` and `args` of an object, scrubbed as one command line (commandAndArgs), their paths
   * recorded; undefined when they are not such a pair.
   */
  const walkCommandArgs = (o: Record<string, unknown>): { command: unknown; args: unknown } | undefined => {
    const parts = commandAndArgs(o);
    if (parts === undefined) return undefined;
    const r = scrubArgs(parts, c);
    const cmd = o.command as string | string[];
    const n = typeof cmd === 'string' ? 1 : cmd.length;
    const out = r === null ? parts : r.args;
    if (r !== null) recordArgs(r, (i) => (i >= n ? ['args', i - n] : typeof cmd === 'string' ? ['command'] : ['command', i]));
    return { command: typeof cmd === 'string' ? out[0] : out.slice(0, n), args: out.slice(n) };
  };

  /**
   * An array of two or more strings, read as one command line too (argv); undefined when it holds
   * something else (then it is walked item by item).
   */
  const walkArgv = (v: unknown[]): string[] | undefined => {
    if (!allStrings(v)) return undefined;
    const r = scrubArgs(v, c);
    if (r === null) return v.slice();
    recordArgs(r, (i) => [i]);
    return r.args;
  };

  /** `[name, value]` whose name names a secret (kind): the value goes whole, as under a key. */
  const walkPair = (p: unknown[], kind: string): unknown[] => {
    path.push(0);
    const name = walk(p[0], undefined);
    path[path.length - 1] = 1;
    const value = walk(p[1], kind);
    path.pop();
    return [name, value];
  };

  /**
   * A flat header list (`headerList`: under a raw headers key) or a list of [name, value] pairs
   * with a secret name: each secret value redacted whole; undefined when `v` is neither.
   */
  const walkNamed = (v: unknown[], headerList: boolean): unknown[] | undefined => {
    const flat = headerList ? flatHeaderKinds(v, c) : undefined;
    const pairs = flat === undefined ? pairListKinds(v, c) : undefined;
    if (flat === undefined && pairs === undefined) return undefined;
    const a: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      const kind = (flat ?? pairs)![i];
      a[i] = kind === undefined ? walk(v[i], undefined) : flat !== undefined ? walk(v[i], kind) : walkPair(v[i] as unknown[], kind);
      path.pop();
    }
    return a;
  };

  /**
   * `headerList`: the array stands under a raw headers key (isHeaderListKey), so it may be a flat
   * name/value list (flatHeaderKinds).
   */
  const walk = (v: unknown, secretKind: string | undefined, headerList = false): unknown => {
    if (typeof v === 'string') {
      if (secretKind !== undefined) {
        if (v === '' || EXACT_MARKER.test(v)) return v;
        record(secretKind);
        return marker(secretKind);
      }
      if (kinds.length !== 0) kinds.length = 0;
      const r = scrubValueString(v, c, kinds);
      if (r === null) return v;
      for (const k of kinds) record(k);
      return r;
    }
    if (typeof v === 'number') {
      if (secretKind === undefined) return v;
      record(secretKind);
      return marker(secretKind);
    }
    if (Array.isArray(v)) {
      if (secretKind === undefined) {
        // Names and values as data (a flat header list, a list of [name, value] pairs): apart, so
        // that the common array pays one check.
        if (headerList || Array.isArray(v[0])) {
          const r = walkNamed(v, headerList);
          if (r !== undefined) return r;
        }
        if (v.length >= 2) {
          const r = walkArgv(v);
          if (r !== undefined) return r;
        }
      }
      const a: unknown[] = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        a[i] = walk(v[i], secretKind);
        path.pop();
      }
      return a;
    }
    if (isPlainObject(v)) {
      const o: Record<string, unknown> = {};
      // Original keys are unique, so a name can only collide once some key was renamed.
      let renamed = false;
      // A name/value pair ({"name": "DB_PASSWORD", "value": "…"}: Kubernetes env,
      // HAR and fetch header lists; {"Name": "/prod/db/password", "Value": "…"}:
      // AWS SSM) is judged by its name, like a key.
      const pairKind = secretKind === undefined ? pairSecretKind(v, c) : undefined;
      // `command` and `args` read as one command line: done at the first of the two keys (so its
      // entries come there), each value put in place when its key comes.
      let cmdArgs: { command: unknown; args: unknown } | undefined | null = secretKind === undefined ? null : undefined;
      for (const key of Object.keys(v)) {
        if (kinds.length !== 0) kinds.length = 0;
        const scrubbedKey = scrubString(key, c, kinds);
        let k = scrubbedKey ?? key;
        if (scrubbedKey !== null) renamed = true;
        if (renamed && Object.prototype.hasOwnProperty.call(o, k)) {
          // A prefix, not a suffix: some rules take the rest of a string as the
          // secret (`;Password=…` to the next `;`, a cookie to the end), and a
          // suffix after a marker would be redacted by the next scrub.
          let n = 2;
          while (Object.prototype.hasOwnProperty.call(o, `(${n}) ${k}`)) n++;
          k = `(${n}) ${k}`;
        }
        path.push(k);
        if (scrubbedKey !== null) for (const kind of [...kinds]) record(kind);
        if (cmdArgs === null && (key === 'command' || key === 'args')) {
          path.pop();
          cmdArgs = walkCommandArgs(v);
          path.push(k);
        }
        const value =
          cmdArgs !== null && cmdArgs !== undefined && (key === 'command' || key === 'args')
            ? cmdArgs[key]
            : walkValue(v[key], secretKind ?? (isPairValue(key) ? pairKind : undefined) ?? secretKeyKind(k, c), k);
        if (k === '__proto__') setOwn(o, k, value);
        else o[k] = value;
        path.pop();
      }
      return o;
    }
    return v;
  };

  /** An object's value at key `k`; an array under a raw headers key may be a flat header list. */
  function walkValue(x: unknown, secretKind: string | undefined, k: string): unknown {
    return walk(x, secretKind, secretKind === undefined && Array.isArray(x) && isHeaderListKey(k));
  }

  return { event: walk(event, undefined) as T, scrubbed };
}
