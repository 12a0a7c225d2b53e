/**
 * On a filesystem without hard links (link() answers EPERM), key files are
 * still created whole, and still never replace an existing one.
 */

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeSecretFile } from '../../src/secret-file.js';
import { tempDir } from '../helpers.js';

vi.mock('node:fs/promises', async (original) => {
  const m = await original<typeof import('node:fs/promises')>();
  return { ...m, link: async () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })) };
});

describe('writeSecretFile without hard links', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates the file whole, refuses to replace it, and leaves no temporary file', async () => {
    dir = await tempDir('tlog-nolinks-');
    const p = join(dir, 'vault.key');
    await writeSecretFile(p, 'one\n');
    expect(await readFile(p, 'utf8')).toBe('one\n');
    await expect(writeSecretFile(p, 'two\n')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(p, 'utf8')).toBe('one\n');
    expect(await readdir(dir)).toEqual(['vault.key']);
  });
});
