/**
 * Preloaded into a child process (`node --import <this file>`, test/child.ts
 * `kill`) to kill -9 it at one precise storage write, with no hook in the
 * product: it wraps the LevelDB class every store opens.
 *
 * TLOG_TEST_KILL = `op:prefix[:n]` — `prefix` is the hex of a key prefix
 * (spec/storage.md), `n` which occurrence (default 1):
 *   batch:4b  kill just after a batch that writes a key starting with 0x4b has
 *             resolved (array or chained batch; a synced one is on disk)
 *   del:4b    kill just before a `del` of such a key
 *   clear:78  kill just after a `clear` whose range starts with 0x78 has resolved
 *
 * Every LevelDB of the process is watched (the log's and the vault's): pick a
 * prefix only one of them uses (the vault's prefixes: src/vault/layout.ts).
 *
 * The process writes `kill-hook: <spec>` to stderr, then SIGKILLs itself: its
 * own continuation (whatever the caller would do next) never runs.
 */

import { writeSync } from 'node:fs';
import { Level } from 'level';

const spec = process.env.TLOG_TEST_KILL;
if (spec) {
  const [op, hex, nth] = spec.split(':');
  const prefix = Buffer.from(hex ?? '', 'hex');
  const at = Number(nth ?? 1);
  let seen = 0;
  const matches = (key) => key instanceof Uint8Array && key.length >= prefix.length && Buffer.from(key.buffer, key.byteOffset, prefix.length).equals(prefix);
  const fire = (kind) => {
    if (kind !== op || ++seen !== at) return;
    writeSync(2, `kill-hook: ${spec}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
  const P = Level.prototype;
  const batch = P.batch;
  P.batch = function (ops, opts) {
    if (Array.isArray(ops)) {
      const p = batch.call(this, ops, opts);
      return ops.some((o) => matches(o.key)) ? p.then((r) => (fire('batch'), r)) : p;
    }
    const b = batch.apply(this, arguments);
    let hit = false;
    const put = b.put;
    const write = b.write;
    b.put = function (key, value, o) {
      if (matches(key)) hit = true;
      return put.call(this, key, value, o);
    };
    b.write = function (o) {
      const p = write.call(this, o);
      return hit ? p.then((r) => (fire('batch'), r)) : p;
    };
    return b;
  };
  const del = P.del;
  P.del = function (key, opts) {
    if (matches(key)) fire('del');
    return del.call(this, key, opts);
  };
  const clear = P.clear;
  P.clear = function (opts) {
    const p = clear.call(this, opts);
    return opts && matches(opts.gte) ? p.then((r) => (fire('clear'), r)) : p;
  };
}
