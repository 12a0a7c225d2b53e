/** Bundles the agent-tlog/verifier export the way a browser app would (esbuild). */

import { build, type Metafile } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const VERIFIER_ENTRY = fileURLToPath(new URL('../../src/verifier/index.ts', import.meta.url));

export interface Bundle {
  code: string;
  metafile: Metafile;
}

/**
 * `platform: 'node'` resolves packages with Node's conditions (what `import`
 * in Node loads) and marks builtins external, so they show up in the metafile
 * instead of failing the build; `'browser'` is what a web app would ship.
 */
export async function bundleVerifier(platform: 'node' | 'browser', opts: { globalName?: string } = {}): Promise<Bundle> {
  const r = await build({
    entryPoints: [VERIFIER_ENTRY],
    bundle: true,
    write: false,
    metafile: true,
    platform,
    format: opts.globalName ? 'iife' : 'esm',
    ...(opts.globalName ? { globalName: opts.globalName } : {}),
    target: 'es2022',
    logLevel: 'silent',
  });
  return { code: r.outputFiles[0]!.text, metafile: r.metafile };
}
