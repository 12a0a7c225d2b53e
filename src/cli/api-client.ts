/** The CLI's HTTP client: the commands that act through a running server share these options. */

import { readFileSync } from 'node:fs';
import { request as httpRequest, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Command } from 'commander';

export interface ApiOpts {
  url: string;
  token?: string;
  /** Where admin.token is; absent for commands an admin key may not run (subjects). */
  data?: string;
  /** The role the command needs, for the message when no token is given. */
  role?: string;
}

/**
 * The options of a command that acts through the server. Admin commands fall
 * back to the first-start `<data>/admin.token`; a command for another role
 * (the privacy role's `subjects`) takes only --token or TLOG_TOKEN, since the
 * admin token would only earn a 403.
 */
export function addApiOptions(c: Command, role = 'admin'): Command {
  c.option('--url <url>', 'log server URL (TLOG_URL)', process.env.TLOG_URL ?? 'http://127.0.0.1:8080');
  if (role !== 'admin') return c.option('--token <token>', `${role}-role token (TLOG_TOKEN)`);
  return c
    .option('--token <token>', 'admin token (TLOG_TOKEN; default: <data>/admin.token)')
    .option('--data <dir>', 'data folder holding admin.token', process.env.TLOG_DATA_DIR ?? './data');
}

/** --token, else TLOG_TOKEN, else (admin commands) the first-start admin token file. */
export function apiToken(o: ApiOpts): string {
  const t = o.token ?? process.env.TLOG_TOKEN;
  if (t) return t;
  if (o.data === undefined)
    throw new Error(`this command needs a ${o.role ?? 'non-admin'}-role token: give --token or set TLOG_TOKEN (an admin makes one with: agent-tlog keys create --role ${o.role ?? '…'} --tenant <tenant>)`);
  try {
    return readFileSync(join(o.data, 'admin.token'), 'utf8').trim();
  } catch {
    throw new Error(`no --token given and ${join(o.data, 'admin.token')} is unreadable`);
  }
}

/**
 * Calls the API; a non-2xx answer becomes an Error "<status> <CODE>: <message>", and a server
 * not reached one starting "couldn't reach". node:http rather than fetch: fetch gives up on an
 * answer whose headers take over 300 s (a subject access or an erasure on a large log can); this
 * waits as long as the server works; Ctrl-C stops waiting.
 */
export async function call(o: ApiOpts, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = new URL(path, o.url);
  const payload = body !== undefined ? JSON.stringify(body) : undefined;
  const headers: Record<string, string> = { authorization: `Bearer ${apiToken(o)}` };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (e) => reject(new Error(`couldn't reach ${url.origin}: ${e.message}`)));
    req.end(payload);
  });
  let json: { error?: { code: string; message: string } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: the status says it
  }
  if (status < 200 || status > 299) throw new Error(`${status} ${json.error?.code ?? ''}: ${json.error?.message ?? STATUS_CODES[status] ?? ''}`);
  return json;
}

export const print = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');
