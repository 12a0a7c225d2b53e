/**
 * The summary report as one self-contained HTML page: inline CSS, inline
 * SVG bar charts, no scripts, no external assets (the route serves it with
 * a CSP that forbids loading anything). Every text from the log is escaped.
 * Numbers carry `data-k` (and `data-label`) attributes, so a reader or a
 * test can find each figure of the JSON report in the page.
 */

import type { SummaryReport } from './report.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number | null, digits = 0) => (n === null ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const iso = (t: number | null) => (t === null ? 'open' : new Date(t).toISOString());

const COLORS = ['#3867d6', '#eb3b5a', '#f7b731', '#20bf6b', '#8854d0', '#0fb9b1'];

/** A horizontal bar chart: one row per item, bars scaled to the largest value. */
function bars(key: string, items: readonly [string, number][], color = COLORS[0]!): string {
  if (items.length === 0) return '<p class="empty">No data.</p>';
  const rowH = 22;
  const labelW = 190;
  const barW = 360;
  const max = Math.max(...items.map(([, v]) => v), 1);
  const h = items.length * rowH + 4;
  const rows = items
    .map(([label, v], i) => {
      const w = Math.max(1, Math.round((v / max) * barW));
      const y = i * rowH + 2;
      const short = label.length > 28 ? `${label.slice(0, 27)}…` : label;
      return (
        `<g><title>${esc(label)}: ${v}</title>` +
        `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(short)}</text>` +
        `<rect data-k="${key}" data-label="${esc(label)}" x="${labelW}" y="${y}" width="${w}" height="${rowH - 6}" fill="${color}"/>` +
        `<text x="${labelW + w + 4}" y="${y + 15}">${num(v)}</text></g>`
      );
    })
    .join('');
  return `<svg class="chart" role="img" aria-label="${esc(key)}" xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 70}" height="${h}" viewBox="0 0 ${labelW + barW + 70} ${h}">${rows}</svg>`;
}

function table(key: string, head: readonly string[], rows: readonly (readonly [string, ...(string | number)[]])[]): string {
  if (rows.length === 0) return '<p class="empty">None.</p>';
  const body = rows
    .map(([label, ...cells]) => `<tr data-k="${key}" data-label="${esc(label)}"><td>${esc(label)}</td>${cells.map((c, i) => `<td data-v="${i}">${typeof c === 'number' ? c : esc(c)}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

export function reportHtml(r: SummaryReport): string {
  const d = r.by_decision;
  const stat = (k: string, label: string, value: string, raw: number | null) =>
    `<div class="stat"><div class="v" data-k="${k}" data-raw="${raw === null ? '' : raw}">${value}</div><div class="l">${esc(label)}</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agent-tlog summary — ${esc(r.tenant)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:980px;color:#1e272e;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dfe4ea;padding-bottom:4px}
.meta{color:#57606f}.stats{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.stat{background:#f1f2f6;border-radius:6px;padding:10px 14px;min-width:130px}.stat .v{font-size:20px;font-weight:600}.stat .l{color:#57606f;font-size:12px}
svg.chart text{font-size:12px;fill:#2f3542}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eef0f3;text-align:left}
td[data-v]{text-align:right;font-variant-numeric:tabular-nums}.empty{color:#747d8c}.warn{color:#c0392b}
code{font-size:12px}
</style></head><body>
<h1>Summary report: <span data-k="tenant">${esc(r.tenant)}</span></h1>
<p class="meta">Events logged from <span data-k="from">${iso(r.from)}</span> to <span data-k="to">${iso(r.to)}</span>; tree size <span data-k="tree_size">${r.tree_size}</span>.${r.truncated ? ' <span class="warn">Some tallies hit their size limit.</span>' : ''}</p>
<div class="stats">
${stat('total_events', 'events', num(r.total_events), r.total_events)}
${stat('denial_ratio', 'denial ratio (DENY / decided)', pct(r.denial_ratio), r.denial_ratio)}
${stat('approval_p50', `approval latency p50 (ms, ${r.approval_latency_ms.count} approvals)`, num(r.approval_latency_ms.p50), r.approval_latency_ms.p50)}
${stat('approval_p95', 'approval latency p95 (ms)', num(r.approval_latency_ms.p95), r.approval_latency_ms.p95)}
${stat('off_hours', `off-hours events (${r.off_hours.window})`, num(r.off_hours.events), r.off_hours.events)}
</div>
<h2>Policy decisions</h2>
${bars('by_decision', [['ALLOW', d.ALLOW], ['DENY', d.DENY], ['REQUIRE_APPROVAL', d.REQUIRE_APPROVAL], ['none', d.none]], COLORS[1])}
<h2>Events per agent</h2>
${bars('by_actor', r.by_actor.map((x) => [x.actor, x.events]))}
<h2>Events per action</h2>
${bars('by_action', r.by_action.map((x) => [x.action, x.events]), COLORS[3])}
<h2>Most frequent matched rules</h2>
${bars('top_rules', r.top_rules.map((x) => [x.rule, x.count]), COLORS[4])}
<h2>Riskiest runs</h2>
${table('riskiest_runs', ['run', 'highest risk', 'events'], r.riskiest_runs.map((x) => [x.run_id, x.max_risk, x.events] as const))}
<h2>Repeated identical commands</h2>
${table('repeated_commands', ['command', 'times'], r.repeated_commands.map((x) => [x.command, x.count] as const))}
</body></html>
`;
}
