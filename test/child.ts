/** Runs the built CLI as a child process (for crash tests) and waits until it listens. */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/**
 * Node arguments and environment that kill -9 a child at one storage write
 * (test/kill-hook.mjs: `batch:4b`, `del:4b`, `clear:78`, with an optional
 * `:n` for the n-th occurrence).
 */
export function killAt(spec: string): { nodeArgs: string[]; env: NodeJS.ProcessEnv } {
  return { nodeArgs: ['--import', new URL('./kill-hook.mjs', import.meta.url).href], env: { ...process.env, TLOG_TEST_KILL: spec } };
}

export interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Everything the child wrote to stdout (its JSON log lines) and stderr so far. */
  stdout(): string;
  stderr(): string;
}

export async function spawnServer(dataDir: string, extraArgs: string[] = [], opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Child> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it in pretest)`);
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, 'serve', '--port', '0', '--data', dataDir, '--origin', 'crash.example/log', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env ? { env: opts.env } : {}),
  });
  // 'close': after the exit and the end of its output (stderr() is then complete).
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  let err = '';
  let buf = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string };
          if (j.msg === 'agent-tlog listening' && j.url) {
            clearTimeout(timer);
            resolve(j.url);
          }
        } catch {
          /* partial line */
        }
      }
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code ?? signal}: ${err}`));
    });
  });
  return { proc, url, exited, stdout: () => buf, stderr: () => err };
}

/** A new key of `role` for `tenant` on a child server, made with the admin token from its data folder. */
export async function childKey(child: Child, dataDir: string, role: string, tenant: string): Promise<string> {
  const admin = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const r = await fetch(`${child.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role, tenant }) });
  if (r.status !== 201) throw new Error(`creating a ${role} key: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}
