/** agent-tlog/verifier is pure: no node:* module, no Node globals, no cbor-x or zod behind it. */

import { describe, expect, it } from 'vitest';
import { bundleVerifier } from './bundle.js';

describe('the verifier import graph', () => {
  it('importing it with Node resolution pulls in no builtin module', async () => {
    const { metafile } = await bundleVerifier('node');
    const imports = Object.values(metafile.inputs).flatMap((i) => i.imports);
    // With platform "node", esbuild marks every builtin (node:fs, module, …) external.
    expect(imports.filter((i) => i.external).map((i) => i.path)).toEqual([]);
    const packages = new Set(
      Object.keys(metafile.inputs)
        .filter((p) => p.includes('node_modules/'))
        .map((p) => p.split('node_modules/').pop()!.split('/').slice(0, 2).join('/')),
    );
    expect([...packages].sort()).toEqual(['@noble/ed25519', '@noble/hashes']);
    // The shared code it is built from: merkle, note, bytes, errors and the leaf decoder.
    expect(Object.keys(metafile.inputs).some((p) => p.endsWith('src/events/leaf.ts'))).toBe(true);
    expect(Object.keys(metafile.inputs).some((p) => p.endsWith('src/merkle/verify.ts'))).toBe(true);
    // Agent signatures are checked over bytes from the pure encoder, never the server's cbor.ts (cbor-x).
    expect(Object.keys(metafile.inputs).some((p) => p.endsWith('src/events/cbor-encode.ts'))).toBe(true);
    expect(Object.keys(metafile.inputs).filter((p) => /src\/events\/(cbor|index)\.ts$/.test(p))).toEqual([]);
  });

  // Property names (noble's hash classes have a `process` method) are not globals: only bare reads count.
  it('the bundled code reads no Node global', async () => {
    const { code } = await bundleVerifier('browser');
    for (const g of [/(?<![.\w$])Buffer\b/, /(?<![.\w$])process\./, /(?<![.\w$])require\(/, /\b__dirname\b/, /(?<![.\w$])setImmediate\b/, /\bnew Function\b/]) {
      expect(g.test(code), `bundle mentions ${g}`).toBe(false);
    }
  });
});
