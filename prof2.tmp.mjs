const dist = (p) => import(new URL(`./dist/${p}`, import.meta.url).href);
const { encodeRecord, parseEvent } = await dist('events/index.js');
const { decodeCanonicalStrict } = await dist('events/cbor-canonical.js');
const { scanCbor } = await dist('events/cbor-scan.js');
const { decodeLeaf } = await dist('verifier/index.js');
function event(i) { return { ts: '2026-11-23T10:00:00.000Z', run_id: `run-${i % 997}`, session_id: 'sess-1', actor: { type: 'agent', id: `invoice-agent-${i % 7}`, version: '1.4.2', on_behalf_of: 'user-1234' }, action: { type: 'tool.call', name: 'approve_invoice', tool: 'erp.invoices.approve' }, target: { system: 'erp', resource: `invoice/INV-${100000 + i}`, environment: 'prod' }, data_accessed: [{ type: 'invoice', id: `INV-${100000 + i}`, fields: ['amount', 'vendor', 'due_date'] }], reasoning: { summary: 'Amount under the auto-approval threshold and vendor is on the allow list.', model: 'model-x', confidence: 0.93 }, policy: { decision: 'ALLOW', matched_rule: 'invoices.auto_approve.under_5k' }, risk: { score: 12, factors: ['known_vendor'] }, result: { status: 'success', duration_ms: 84 } }; }
const leaf = encodeRecord({ v: 1, tenant: 'bench', logged_at: Date.now(), event: parseEvent(event(5)) });
console.log('leaf bytes', leaf.length);
const bench = (name, f) => { for (let i=0;i<2000;i++) f(); const t0=performance.now(); let n=0; while (performance.now()-t0<1000){for(let i=0;i<100;i++)f(); n+=100;} console.log(name, (n/((performance.now()-t0)/1000)).toFixed(0), '/s'); };
bench('scan', () => scanCbor(leaf, { maxDepth: 128, code: 'MALFORMED', depthCode: 'MALFORMED', finiteOnly: true }));
bench('strict', () => decodeCanonicalStrict(leaf));
bench('decodeLeaf', () => decodeLeaf(leaf));
