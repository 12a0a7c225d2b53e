/** Runs the built CLI as a child process (for crash tests) and waits until it listens. */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

export interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

export async function spawnServer(dataDir: string, extraArgs: string[] = []): Promise<Child> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it in pretest)`);
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir, '--origin', 'crash.example/log', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
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
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  return { proc, url, exited };
}

/** A new key of `role` for `tenant` on a child server, made with the admin token from its data folder. */
export async function childKey(child: Child, dataDir: string, role: string, tenant: string): Promise<string> {
  const admin = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const r = await fetch(`${child.url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ role, tenant }) });
  if (r.status !== 201) throw new Error(`creating a ${role} key: ${r.status}`);
  return ((await r.json()) as { token: string }).token;
}
