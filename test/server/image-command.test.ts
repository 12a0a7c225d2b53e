/**
 * The commands that ship: the Dockerfile's CMD (with its ENV) and `npm start`,
 * run outside Docker on a temp data folder. They must serve a working log with
 * the V8 flags they name (no Docker engine runs here, so this is the image's
 * command test).
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** CMD's exec form and the ENV pairs of the Dockerfile's final stage. */
function dockerfile(): { cmd: string[]; env: Record<string, string> } {
  const text = readFileSync(`${ROOT}/Dockerfile`, 'utf8').replace(/\\\n/g, ' ');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(final)![1]!) as string[];
  const env: Record<string, string> = {};
  for (const line of final.split('\n').filter((l) => l.startsWith('ENV ')))
    for (const m of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  return { cmd, env };
}

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Runs `argv` in the repo and resolves with the URL it logs when listening. */
function run(argv: string[], env: Record<string, string>): Promise<string> {
  const proc = spawn(argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"([^"]+)","origin"[^\n]*"msg":"agent-tlog listening"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('the shipped start commands', () => {
  it('the Dockerfile CMD, with its ENV, serves a log and keeps data where ENV says', async () => {
    expect(existsSync(`${ROOT}/dist/cli/main.js`), 'npm run build first (npm test does it)').toBe(true);
    const { cmd, env } = dockerfile();
    expect(cmd).toContain('--max-semi-space-size=64');
    const data = await tempDir();
    // The image binds 0.0.0.0:8080; here a loopback ephemeral port, the rest as in the image.
    const url = await run(cmd, { ...env, TLOG_DATA_DIR: data, HOST: '127.0.0.1', PORT: '0' });
    const log = (await (await fetch(`${url}/v1/log`)).json()) as { tree_size: number };
    expect(log.tree_size).toBeGreaterThan(0);
    expect(existsSync(`${data}/admin.token`)).toBe(true);
  });

  it('npm start runs the same command as the image', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(dockerfile().cmd.join(' '));
  });
});
