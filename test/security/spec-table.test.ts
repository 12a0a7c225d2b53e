/** spec/security.md carries the route table exactly as rendered from src/http/routes.ts. */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderRouteTable, replaceRouteTable, TABLE_BEGIN, TABLE_END } from '../../src/http/route-table-doc.js';
import { ROUTES } from '../../src/http/routes.js';

const doc = readFileSync(new URL('../../spec/security.md', import.meta.url), 'utf8');

describe('spec/security.md route table', () => {
  it('is up to date (run `npm run docs:security` after changing src/http/routes.ts)', () => {
    const current = doc.slice(doc.indexOf(TABLE_BEGIN), doc.indexOf(TABLE_END) + TABLE_END.length);
    expect(current).toBe(renderRouteTable(ROUTES));
  });

  it('has one row per route, naming its roles and tenant scope', () => {
    const table = renderRouteTable(ROUTES);
    for (const r of ROUTES) expect(table).toContain(`\` | ${r.access === 'public' ? 'public' : `\`${r.access[0]}\``}`);
    expect(table.split('\n').filter((l) => l.startsWith('| `') && l.includes(' /')).length).toBe(ROUTES.length);
  });

  it('a changed route makes the rendered table differ', () => {
    const changed = ROUTES.map((r) => (r.path === '/v1/keys' && r.method === 'get' ? { ...r, tenant: 'all-tenants' as const } : r));
    expect(renderRouteTable(changed)).not.toBe(renderRouteTable(ROUTES));
    expect(() => replaceRouteTable('no markers', renderRouteTable(ROUTES))).toThrow(/markers/);
  });
});
