import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import sirv from 'sirv';
import { registry } from '../metrics.js';
import type { Logger } from '../log.js';
import type { SignalingServer } from '../signaling/signaling-server.js';

export interface HttpOptions {
  webRoot: string;
  signaling: SignalingServer;
  log: Logger;
  /** Extra facts for /healthz, e.g. the media pipeline's state. */
  health: () => Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

/** One port for everything: the viewer's static files, /healthz, /metrics, and WebSocket upgrades on /ws. */
export function createHttpServer(options: HttpOptions): Server {
  const serveStatic = sirv(options.webRoot, { dev: false, etag: true, gzip: false, single: false });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok', connections: options.signaling.connectionCount, ...options.health() });
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          options.log.error({ err }, 'metrics collection failed');
          sendJson(res, 500, { error: 'metrics collection failed' });
        },
      );
      return;
    }
    serveStatic(req, res, () => sendJson(res, 404, { error: `no such path: ${path}` }));
  });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    options.signaling.handleUpgrade(req, socket, head);
  });
  server.on('clientError', (err, socket) => {
    options.log.debug({ err: err.message }, 'bad HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return server;
}
