/**
 * Writing the server's key and state files whole or not at all: a crash
 * never leaves one empty or half written (an empty `log.key` or `vault.key`
 * would stop every later start, an empty `admin.token` would lock the
 * operator out).
 */

import { chmod, link, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path`: a temporary file beside it (this process's own
 * name, mode set before anything is written), fsynced, then moved into
 * place, and the folder fsynced so the new name survives a power loss.
 * `exclusive` refuses to replace an existing file (EEXIST): a key another
 * process just created must never be overwritten; it is linked into place,
 * which fails if the name exists, where a rename would replace it.
 * A crash leaves at most the temporary file, never `path` in part.
 */
export async function writeFileAtomic(path: string, text: string, opts: { mode: number; exclusive?: boolean }): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  // Temporary files a crash left (any process's): one left between the link and its removal is
  // a copy of a key in use, which must not outlive that key (rotate-log-key --finish shreds it).
  const prefix = `${basename(path)}.`;
  for (const name of await readdir(dirname(path)))
    if (name.startsWith(prefix) && /^\d+\.tmp$/.test(name.slice(prefix.length))) await rm(join(dirname(path), name), { force: true });
  const fh = await open(tmp, 'wx', opts.mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  // A umask may have narrowed the mode; a wider one cannot have widened it.
  await chmod(tmp, opts.mode);
  try {
    if (opts.exclusive) await linkOrRename(tmp, path);
    else await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** What link() answers on a filesystem without hard links (vfat, exFAT, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Puts `tmp` in place at `path` unless `path` exists (EEXIST). Without hard
 * links: a check, then a rename — not atomic against a second creator at the
 * same instant, which the data folder's LevelDB lock keeps out of a running
 * server's folder; the file itself is still whole or absent.
 */
async function linkOrRename(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (e) {
    if (!NO_HARD_LINKS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    const there = await stat(path).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );
    if (there) throw Object.assign(new Error(`EEXIST: file already exists, ${path}`), { code: 'EEXIST' });
    await rename(tmp, path);
  }
}

/** A secret (a key, the first admin token): mode 0600; `exclusive` by default. */
export async function writeSecretFile(path: string, text: string, opts: { exclusive?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, text, { mode: 0o600, exclusive: opts.exclusive ?? true });
}
