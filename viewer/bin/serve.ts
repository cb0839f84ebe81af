// `npm run viewer`: builds the viewer page (esbuild bundles viewer/page/main.ts with
// core/ and sim/ as they are) into build/viewer/, then serves that folder on
// 127.0.0.1 and prints the URL. The built page needs no server: build/viewer/index.html
// opened from disk (file://) works the same.
//
//   npm run viewer [-- --port N] [--build-only] [--out DIR]   (port 0: any free port; DIR default build/viewer)

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { buildViewer, VIEWER_OUT_DIR } from './buildPage.js';

const DEFAULT_PORT = 8377;
const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'], ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'], ['.map', 'application/json'], ['.png', 'image/png'],
]);

interface ServeOptions {
  readonly port: number;
  readonly buildOnly: boolean;
  /** Where the page is built (default VIEWER_OUT_DIR under the checkout). */
  readonly out: string | null;
}

function parse(argv: readonly string[]): ServeOptions | string {
  let port = DEFAULT_PORT;
  let buildOnly = false;
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--build-only') {
      buildOnly = true;
    } else if (arg === '--port') {
      const value = argv[++i] ?? '';
      if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) return `--port must be 0..65535, got '${value}'`;
      port = Number(value);
    } else if (arg === '--out') {
      const value = argv[++i] ?? '';
      if (value === '' || value.startsWith('--')) return '--out needs a directory';
      out = path.resolve(value);
    } else {
      return `unknown option '${String(arg)}' (use --port N, --build-only, --out DIR)`;
    }
  }
  return { port, buildOnly, out };
}

/** Serves the built page's folder; nothing outside it. */
function serve(root: string, port: number): Server {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const name = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = path.resolve(root, name);
    if (request.method !== 'GET' || !file.startsWith(root + path.sep)) {
      response.writeHead(404).end('not found\n');
      return;
    }
    readFile(file).then((body) => {
      response.writeHead(200, { 'content-type': CONTENT_TYPES.get(path.extname(file)) ?? 'application/octet-stream' });
      response.end(body);
    }, () => {
      response.writeHead(404).end('not found\n');
    });
  });
  server.listen(port, '127.0.0.1');
  return server;
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (typeof options === 'string') {
    process.stderr.write(`viewer: ${options}\n`);
    return 2;
  }
  const root = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
  const out = options.out ?? path.join(root, VIEWER_OUT_DIR);
  const built = await buildViewer(root, out);
  process.stdout.write(`viewer: built ${built.bundleBytes} bytes into ${out} in ${built.ms} ms\n` +
    `viewer: from disk: ${built.fileUrl}#seed=17&nodes=5\n`);
  if (options.buildOnly) return 0;
  const server = serve(out, options.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  process.stdout.write(`viewer: serving http://127.0.0.1:${port}/#seed=17&nodes=5\n`);
  const stop = (): void => { server.close(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`viewer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
