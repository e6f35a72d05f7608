/**
 * Serves the built demo pages (`dist/web`) with the runtime settings written into them, so one build runs
 * against any ports: every page gets the settings as a JSON block, and `{{name}}` in a page (the plain page's
 * script-tag attributes) becomes that setting. `/rumkit/…` serves the agent's script-tag build
 * (`@rumkit/browser`'s `rumkit.iife.js` and the chunks it loads from beside itself).
 *
 *     node demo/serve.ts   # PORT, HOST, and the DemoConfig fields as RUMKIT_DEMO_CONFIG (JSON)
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoConfig } from './web/demoConfig.ts';

const root = join(import.meta.dirname, 'dist/web');
// The package's dist/, located through its package.json, which exists before the agent is built.
const agentDir = join(dirname(fileURLToPath(import.meta.resolve('@rumkit/browser/package.json'))), 'dist');
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export function serveDemo(config: DemoConfig, port: number, host = '127.0.0.1'): Promise<Server> {
  const configBlock = `<script id="rumkit-config" type="application/json">${JSON.stringify(config).replace(/</g, '\\u003c')}</script>`;
  const settings = config as unknown as Record<string, string>;
  const server = createServer(async (req, res) => {
    // Node's parser lets through request targets that URL refuses (`http://[`): a 400, not a crash.
    const pathname = URL.parse(req.url ?? '/', 'http://localhost')?.pathname;
    if (pathname === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad request target');
      return;
    }
    // The pathname starts with '/', so normalize() cannot climb above root.
    const path = normalize(pathname);
    const file = path.startsWith('/rumkit/')
      ? join(agentDir, path.slice('/rumkit/'.length))
      : join(root, path.endsWith('/') ? `${path}index.html` : path);
    try {
      let body: Buffer | string = await readFile(file);
      if (file.endsWith('.html')) {
        body = body
          .toString('utf8')
          // A function, so that `$&` and the like in a setting are not replacement patterns.
          .replace('<!--rumkit-config-->', () => configBlock)
          .replace(/\{\{(\w+)\}\}/g, (_, name: string) => escapeAttribute(settings[name] ?? ''));
      }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 3000);
  const config = JSON.parse(process.env.RUMKIT_DEMO_CONFIG ?? '{}') as DemoConfig;
  await serveDemo(config, port, process.env.HOST);
  console.log(`demo page on http://127.0.0.1:${port}/`);
}
