/**
 * scrubText and scrubEvent: replace every secret the compiled rules find with
 * `[REDACTED:<kind>]`, keeping the text around it.
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
    active ??= new Uint8Array(c.rules.length);
    for (const i of c.hintRules.get(h[0].toLowerCase()) ?? []) active[i] = 1;
    hint.lastIndex = h.index + 1;
  }
  return active;
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
      active ??= new Uint8Array(n);
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
  return spans;
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

/** One find-and-replace pass; null when nothing matched. */
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
  const at = ['name', 'key', 'Name', 'Key'].find((k) => own(o, k));
  const name = at === undefined ? undefined : o[at];
  return typeof name === 'string' ? secretKeyKind(name, c) : undefined;
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

  const walk = (v: unknown, secretKind: string | undefined): unknown => {
    if (typeof v === 'string') {
      if (secretKind !== undefined) {
        if (v === '' || EXACT_MARKER.test(v)) return v;
        record(secretKind);
        return marker(secretKind);
      }
      if (kinds.length !== 0) kinds.length = 0;
      const r = scrubString(v, c, kinds);
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
        const value = walk(v[key], secretKind ?? (isPairValue(key) ? pairKind : undefined) ?? secretKeyKind(k, c));
        if (k === '__proto__') setOwn(o, k, value);
        else o[k] = value;
        path.pop();
      }
      return o;
    }
    return v;
  };

  return { event: walk(event, undefined) as T, scrubbed };
}
