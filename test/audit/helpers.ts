/** Helpers for the auditor tests: the built CLI as a child process, and quick log filling. */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLI } from '../child.js';
import { post, sampleEvent, type TestServer } from '../helpers.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, opts: { cwd?: string } = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it in pretest)`);
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Appends `n` events through the batch endpoint; returns their receipts (JSON). */
export async function addEvents(t: TestServer, n: number, offset = 0, extra: Record<string, unknown> = {}): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < n; i += 500) {
    const events = Array.from({ length: Math.min(500, n - i) }, (_, k) => sampleEvent(offset + i + k, extra));
    const r = await post(`${t.url}/v1/events/batch`, t.agentToken, { events });
    if (r.status !== 200) throw new Error(`batch failed: ${r.status} ${JSON.stringify(r.json)}`);
    out.push(...(r.json.results ?? r.json.receipts ?? r.json));
  }
  return out;
}

/** An auditor key with tenant "*": entry bundles span tenants. */
export async function allTenantsAuditor(t: TestServer): Promise<string> {
  const r = await post(`${t.url}/v1/keys`, t.adminToken, { role: 'auditor', tenant: '*' });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status}`);
  return r.json.token as string;
}

/** A proxy in front of the log that rewrites what it is asked (`rewrite` of the path) and what it answers (`body`). */
export async function evilProxy(upstream: string, rewrite: (path: string) => string, body: (path: string, b: Buffer) => Buffer = (_p, b) => b): Promise<{ url: string; close(): Promise<void> }> {
  const srv: Server = createServer(async (req, res) => {
    const path = rewrite(req.url!);
    const r = await fetch(upstream + path, { headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(body(path, Buffer.from(await r.arrayBuffer())));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => new Promise((resolve) => (srv.close(() => resolve()), srv.closeAllConnections())) };
}
