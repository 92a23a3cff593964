// Serves the repository root on 127.0.0.1 so that examples/browser-gpu/index.html can load the built package
// (dist/src/index.js) as ES modules; prints the page's address. Usage: npm run gpu-page [-- --port N]
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

/** The repository root (this file runs from dist/examples/browser-gpu). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json', '.wasm': 'application/wasm', '.json': 'application/json' };

/**
 * Starts a static server for `root` (paths outside it are refused); `extra` answers other routes first.
 * @returns the server, listening on 127.0.0.1 (port 0: any free port)
 */
export function servePage(root: string, port = 0, extra?: (url: string, body: Buffer) => Promise<{ type: string; body: Uint8Array | string } | undefined>): Promise<Server> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    try {
      const answer = extra ? await extra(url, Buffer.concat(chunks)) : undefined;
      if (answer) {
        res.writeHead(200, { 'content-type': answer.type }).end(answer.body);
        return;
      }
      const path = normalize(join(root, url.endsWith('/') ? `${url}index.html` : url));
      if (path !== root && !path.startsWith(root + sep)) throw new Error('outside the root');
      const bytes = await readFile(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const server = await servePage(normalize(REPO_ROOT), i > 0 ? Number(process.argv[i + 1]) : 8080);
  const { port } = server.address() as AddressInfo;
  console.log(`open http://127.0.0.1:${port}/examples/browser-gpu/ (Chrome or Edge with WebGPU); Ctrl-C stops`);
}
