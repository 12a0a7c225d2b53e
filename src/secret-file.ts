/** Writing the server's secret files (keys, the first admin token): mode 0600, fsynced before use. */

import { chmod, open } from 'node:fs/promises';

/**
 * Writes `text` to `path` with mode 0600 and fsyncs it. `exclusive` (the
 * default) refuses to overwrite: a key another process just created must
 * never be replaced. The chmod covers a umask that narrowed the mode.
 */
export async function writeSecretFile(path: string, text: string, opts: { exclusive?: boolean } = {}): Promise<void> {
  const fh = await open(path, opts.exclusive === false ? 'w' : 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(path, 0o600);
}
