/** `agent-tlog witness` as a child process, and the witness settings of both configs. */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ed25519Signer, formatCheckpoint, parseCosignatureVerifierKey, openNote, signNote, cosignatureSigner } from '../../src/note/index.js';
import { loadWitnessConfig } from '../../src/witness/config.js';
import { formatAddCheckpoint } from '../../src/witness/protocol.js';
import { CLI, spawnServer } from '../child.js';
import { tempDir } from '../helpers.js';

const logSigner = ed25519Signer('cli.example/log', new Uint8Array(32).fill(5));
const witnessVkey = cosignatureSigner('w.example/1', new Uint8Array(32).fill(6), () => 0).verifierKey;

describe('witness settings', () => {
  it('the log takes witnesses as <vkey>@<url> from flags or a comma/space list in TLOG_WITNESSES', () => {
    const c = loadConfig({ TLOG_WITNESSES: `${witnessVkey}@http://127.0.0.1:9001, ${witnessVkey}@http://127.0.0.1:9002`, TLOG_WITNESS_QUORUM: '2' });
    expect(c.witnesses).toHaveLength(2);
    expect(c.witnessQuorum).toBe(2);
    expect(c.witnessTimeout).toBe(5000);
    expect(loadConfig({}).witnesses).toEqual([]);
  });

  it('refuses a bad witness spec, a bad key, a non-http URL and an unreachable quorum', () => {
    expect(() => loadConfig({ TLOG_WITNESSES: 'http://127.0.0.1:9001' })).toThrow(/TLOG_WITNESSES: a witness is written/);
    expect(() => loadConfig({ TLOG_WITNESSES: 'w+00000000+BAAA@http://x' })).toThrow(/TLOG_WITNESSES: witness key/);
    expect(() => loadConfig({ TLOG_WITNESSES: `${witnessVkey}@ftp://x` })).toThrow(/http or https/);
    expect(() => loadConfig({ TLOG_WITNESSES: `${witnessVkey}@http://x`, TLOG_WITNESS_QUORUM: '2' })).toThrow(/TLOG_WITNESS_QUORUM/);
  });

  it('the witness takes logs as "<vkey>" or "<vkey> <origin>", one per line in TLOG_WITNESS_LOGS', () => {
    const c = loadWitnessConfig({ TLOG_WITNESS_LOGS: `${logSigner.verifierKey}\nsum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 go.sum database tree\n` });
    expect(c.logs).toHaveLength(2);
    expect(() => loadWitnessConfig({})).toThrow(/TLOG_WITNESS_LOGS/);
    expect(() => loadWitnessConfig({}, { logs: ['not-a-key'] })).toThrow(/invalid witness configuration/);
  });
});

describe('agent-tlog witness (child process)', () => {
  it('creates its key (0600), prints its verifier key, and cosigns over HTTP', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build"`);
    const dir = await tempDir('tlog-wcli-');
    const proc = spawn(process.execPath, [CLI, 'witness', '--port', '0', '--data', dir, '--name', 'cli.example/witness', '--log', logSigner.verifierKey], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const started = await new Promise<{ url: string; verifier_key: string }>((resolve, reject) => {
        let buf = '';
        proc.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          for (const line of buf.split('\n')) {
            try {
              const j = JSON.parse(line) as { msg?: string; url?: string; verifier_key?: string };
              if (j.msg === 'agent-tlog witness listening') resolve(j as { url: string; verifier_key: string });
            } catch {
              /* partial line */
            }
          }
        });
        proc.once('exit', (code) => reject(new Error(`witness exited with ${code}`)));
      });
      expect((await stat(join(dir, 'witness.key'))).mode & 0o777).toBe(0o600);
      const text = formatCheckpoint({ origin: 'cli.example/log', treeSize: 0, rootHash: new Uint8Array(Buffer.from('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'base64')), extensions: [] });
      const r = await fetch(`${started.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpoint({ old: 0, consistencyProof: [], checkpoint: signNote(text, [logSigner]) }) });
      expect(r.status).toBe(200);
      expect(openNote(`${text}\n${await r.text()}`, [parseCosignatureVerifierKey(started.verifier_key)]).verified).toHaveLength(1);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('agent-tlog serve takes --witness, --witness-quorum, --witness-timeout; with the witness down /checkpoint is the log-signed head', async () => {
    const dir = await tempDir('tlog-wserve-');
    const child = await spawnServer(dir, ['--witness', `${witnessVkey}@http://127.0.0.1:9`, '--witness-quorum', '1', '--witness-timeout', '200']);
    try {
      const r = await fetch(`${child.url}/checkpoint`);
      expect(r.status).toBe(200);
      // The head, whatever its size (the server logs its own start-up actions): same size and root as /v1/log, signed by the log alone.
      const lines = (await r.text()).split('\n');
      const head = (await (await fetch(`${child.url}/v1/log`)).json()) as { tree_size: number; root_hash: string };
      expect(lines[1]).toBe(String(head.tree_size));
      expect(lines[2]).toBe(head.root_hash);
      expect(lines.filter((l) => l.startsWith('— '))).toHaveLength(1);
      expect(lines.filter((l) => l.startsWith('— ')).every((l) => l.startsWith('— crash.example/log '))).toBe(true);
    } finally {
      child.proc.kill('SIGTERM');
      await child.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
