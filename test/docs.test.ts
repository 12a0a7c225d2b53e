/**
 * The spec pages cover the code: every route in ROUTES has a section in
 * spec/api.md, headed "### `METHOD /path`", and every code in ERRORS has a
 * row "| `CODE` | <status> | …" in spec/errors.md.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../src/errors.js';
import { ROUTES } from '../src/http/routes.js';

const read = (name: string): string => readFileSync(new URL(`../spec/${name}`, import.meta.url), 'utf8');
const api = read('api.md');
const errors = read('errors.md');

/** Express wildcard routes and the C2SP form they are documented under. */
const WILDCARD_PATHS: Record<string, string> = {
  '/tile/entries/*rest': '/tile/entries/<N>[.p/<W>]',
  '/tile/*rest': '/tile/<L>/<N>[.p/<W>]',
};

/** The documented form of an express path: `:name` becomes `<name>`; wildcards come from the table. */
function documentedPath(path: string): string {
  const mapped = WILDCARD_PATHS[path];
  if (mapped !== undefined) return mapped;
  if (path.includes('*')) throw new Error(`no documented form for the wildcard route ${path}: add it to WILDCARD_PATHS`);
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '<$1>');
}

const heading = (method: string, path: string): string => `### \`${method.toUpperCase()} ${documentedPath(path)}\``;

/** Every "### `METHOD /path`" heading in a page. */
function routeHeadings(text: string): string[] {
  return text.split('\n').filter((l) => /^### `(GET|POST|PUT|PATCH|DELETE|HEAD) \//.test(l));
}

describe('spec/api.md documents every route', () => {
  it('maps express paths to their documented form', () => {
    expect(documentedPath('/v1/entries/:index')).toBe('/v1/entries/<index>');
    expect(documentedPath('/v1/events/:event_id/receipt')).toBe('/v1/events/<event_id>/receipt');
    expect(() => documentedPath('/other/*rest')).toThrow(/WILDCARD_PATHS/);
  });

  it.each(ROUTES.map((r) => [r.method.toUpperCase(), r.path] as const))('%s %s has a section', (method, path) => {
    const lines = api.split('\n');
    expect(lines, `missing heading: ${heading(method, path)}`).toContain(heading(method, path));
  });

  it('has one section per route and none for routes that do not exist', () => {
    const expected = ROUTES.map((r) => heading(r.method, r.path)).sort();
    expect(routeHeadings(api).sort()).toEqual(expected);
  });

  it('lists every route in the route summary table (§1.7) with its access', () => {
    const start = api.indexOf('### 1.7 All routes');
    expect(start).toBeGreaterThan(0);
    const table = api.slice(start, api.indexOf('\n## ', start)).split('\n');
    expect(table.filter((l) => l.startsWith('| `')).length).toBe(ROUTES.length);
    for (const r of ROUTES) {
      const access = r.access === 'public' ? 'public' : r.access.map((role) => `\`${role}\``).join(', ');
      const row = table.find((l) => l.startsWith(`| \`${r.method.toUpperCase()} ${documentedPath(r.path)}\` |`));
      expect(row, `no summary row for ${r.method.toUpperCase()} ${r.path}`).toBeDefined();
      expect(row).toContain(access);
    }
  });
});

describe('spec/errors.md documents every error code', () => {
  const rows = new Map<string, string[]>();
  for (const line of errors.split('\n')) {
    const m = /^\| `([A-Z_]+)` \|(.*)$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split('|').map((c) => c.trim()));
  }

  it.each(Object.entries(ERRORS))('%s is listed with its status', (code, { status }) => {
    const cells = rows.get(code);
    expect(cells, `no row for \`${code}\` in spec/errors.md`).toBeDefined();
    expect(cells![0]).toBe(String(status));
  });

  it('lists no code that is not in the registry', () => {
    const unknown = [...rows.keys()].filter((c) => !(c in ERRORS));
    expect(unknown).toEqual([]);
  });

  it('spec/api.md names only registered codes, each with its own status', () => {
    for (const [text, status, code] of api.matchAll(/\b(\d{3}) ([A-Z][A-Z_]{3,})\b/g)) {
      expect(Object.keys(ERRORS), `api.md names ${text}`).toContain(code);
      expect(`${ERRORS[code as ErrorCode].status} ${code}`).toBe(text);
    }
  });
});
