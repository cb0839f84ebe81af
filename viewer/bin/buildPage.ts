// Builds the viewer page: esbuild bundles viewer/page/main.ts, and with it core/ and
// sim/ exactly as they are (no browser copy of Raft), into one classic script, so the
// page also runs from file:// (module scripts are refused there); index.html and the
// style sheet are copied beside it.

import { build } from 'esbuild';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the page is built, relative to the checkout. */
export const VIEWER_OUT_DIR = 'build/viewer';

export interface BuiltViewer {
  readonly bundleBytes: number;
  readonly ms: number;
  /** The built index.html as a file:// URL (no hash). */
  readonly fileUrl: string;
}

export async function buildViewer(root: string, out: string): Promise<BuiltViewer> {
  const started = performance.now();
  await mkdir(out, { recursive: true });
  await build({
    entryPoints: [path.join(root, 'viewer/page/main.ts')],
    outfile: path.join(out, 'viewer.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  await copyFile(path.join(root, 'viewer/index.html'), path.join(out, 'index.html'));
  await copyFile(path.join(root, 'viewer/viewer.css'), path.join(out, 'viewer.css'));
  const { size } = await stat(path.join(out, 'viewer.js'));
  return { bundleBytes: size, ms: Math.round(performance.now() - started), fileUrl: pathToFileURL(path.join(out, 'index.html')).href };
}
