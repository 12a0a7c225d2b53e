/**
 * End to end through the append path: commands logged as argv arrays, as an
 * MCP `command` + `args` pair, run by `docker exec CONTAINER` without `--`,
 * after ssh's options, and continued over lines inside JSON text reach the
 * leaf without their secret; the leaf's `scrubbed` names the element.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/bytes/index.js';
import { decodeLeaf } from '../../src/verifier/index.js';
import { post, sampleEvent, startTestServer, type TestServer } from '../helpers.js';

const P = '[REDACTED:password]';

describe('commands reach the leaf scrubbed', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  /** Appends an event; returns the leaf's bytes (latin1) and the stored event. */
  async function append(extra: Record<string, unknown>): Promise<{ text: string; stored: any }> {
    const r = await post(`${t.url}/v1/events`, t.agentToken, sampleEvent(1, extra));
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const leaf = fromBase64(r.json.tlog_proof.split('\n')[1].slice('extra '.length))!;
    return { text: Buffer.from(leaf).toString('latin1'), stored: decodeLeaf(leaf).event };
  }

  it('an argv array and an MCP command/args pair', async () => {
    const { text, stored } = await append({
      metadata: {
        tool_input: { argv: ['mysql', '-h', 'db.internal', '-u', 'root', '-pQm4vT8zLr2', 'app'] },
        mcpServers: { db: { command: 'sshpass', args: ['-p', 'Wd7nK3xPq9', 'ssh', '-p', '2222', 'deploy@db1'] } },
        tags: ['mysql', 'migration'],
      },
    });
    for (const secret of ['Qm4vT8zLr2', 'Wd7nK3xPq9']) expect(text).not.toContain(secret);
    expect(stored.metadata.tool_input.argv).toEqual(['mysql', '-h', 'db.internal', '-u', 'root', `-p${P}`, 'app']);
    expect(stored.metadata.mcpServers.db).toEqual({ command: 'sshpass', args: ['-p', P, 'ssh', '-p', '2222', 'deploy@db1'] });
    expect(stored.metadata.tags).toEqual(['mysql', 'migration']);
    expect(stored.scrubbed).toEqual([
      { path: 'metadata.mcpServers.db.args[1]', kind: 'password' },
      { path: 'metadata.tool_input.argv[5]', kind: 'password' },
    ]);
  });

  it('docker exec without --, ssh options before the command, a continuation inside JSON text', async () => {
    const { text, stored } = await append({
      command: { text: 'docker exec -it backup zip -P Rx5cV1bNm7 /backup/db.zip /var/lib/db' },
      metadata: {
        remote: 'ssh deploy@db1 -t mysqldump -pHs2kL9dFg4 app',
        tool_input: JSON.stringify({ command: 'mysql -h db \\\n  -u root \\\n  -pYt6mB0wQe3 app < m.sql' }),
      },
    });
    for (const secret of ['Rx5cV1bNm7', 'Hs2kL9dFg4', 'Yt6mB0wQe3']) expect(text).not.toContain(secret);
    expect(stored.command.text).toBe(`docker exec -it backup zip -P ${P} /backup/db.zip /var/lib/db`);
    expect(stored.metadata.remote).toBe(`ssh deploy@db1 -t mysqldump -p${P} app`);
    expect(JSON.parse(stored.metadata.tool_input)).toEqual({ command: `mysql -h db \\\n  -u root \\\n  -p${P} app < m.sql` });
    expect(stored.scrubbed).toEqual([
      { path: 'command.text', kind: 'password' },
      { path: 'metadata.remote', kind: 'password' },
      { path: 'metadata.tool_input', kind: 'password' },
    ]);
  });

  it('argument arrays inside JSON text: tool call arguments, a serialized command/args pair', async () => {
    const { text, stored } = await append({
      metadata: {
        function_call: { name: 'run', arguments: JSON.stringify({ argv: ['mysql', '-uroot', '-pKv8sN2mQw5'] }) },
        tool_input: JSON.stringify({ command: 'redis-cli', args: ['-a', 'Jd3fR7tYu1'] }),
      },
    });
    for (const secret of ['Kv8sN2mQw5', 'Jd3fR7tYu1']) expect(text).not.toContain(secret);
    expect(stored.metadata.function_call.arguments).toBe(`{"argv":["mysql","-uroot","-p${P}"]}`);
    expect(stored.metadata.tool_input).toBe(`{"command":"redis-cli","args":["-a","${P}"]}`);
    expect(stored.scrubbed).toEqual([
      { path: 'metadata.function_call.arguments', kind: 'password' },
      { path: 'metadata.tool_input', kind: 'password' },
    ]);
  });
});
