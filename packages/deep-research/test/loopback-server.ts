import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly userAgent: string;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => 'hang' | undefined;

/** A real HTTP server on a loopback address serving routes; records every request. */
export class LoopbackServer {
  readonly requests: Recorded[] = [];
  readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  origin = '';

  static async start(host = '127.0.0.1'): Promise<LoopbackServer> {
    const s = new LoopbackServer();
    s.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      s.requests.push({
        method: req.method ?? '',
        host: req.headers.host ?? '',
        path: url.pathname + url.search,
        userAgent: req.headers['user-agent'] ?? '',
      });
      const route = s.routes.get(url.pathname);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      if (route(req, res) === 'hang') s.hanging.add(res);
    });
    await new Promise<void>((resolve, reject) => {
      s.server!.once('error', reject);
      s.server!.listen(0, host, () => resolve());
    });
    const { port } = s.server.address() as AddressInfo;
    s.origin = `http://${host}:${port}`;
    return s;
  }

  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

export const pagesDir = new URL('../fixtures/pages/', import.meta.url);
export function page(name: string): string {
  return readFileSync(new URL(name, pagesDir), 'utf8');
}

export function html(body: string): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  };
}

export function text(body: string, status = 200, headers: Record<string, string> = {}): Route {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
  };
}

export function json(value: unknown): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
}
