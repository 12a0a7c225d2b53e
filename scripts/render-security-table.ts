/** Rewrites the generated route table in spec/security.md from src/http/routes.ts: `npm run docs:security`. */

import { readFileSync, writeFileSync } from 'node:fs';
import { renderRouteTable, replaceRouteTable } from '../src/http/route-table-doc.js';
import { ROUTES } from '../src/http/routes.js';

const path = new URL('../spec/security.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceRouteTable(before, renderRouteTable(ROUTES));
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'spec/security.md is up to date\n' : 'spec/security.md: route table updated\n');
