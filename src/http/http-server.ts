import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import sirv from 'sirv';
import { limitCounter, registry } from '../metrics.js';
import type { Logger } from '../log.js';
import { AuthError, OPEN_PRINCIPAL, type Authenticator, type Principal } from '../auth/authenticator.js';
import { originAllowed, requestToken } from '../auth/request-credentials.js';
import { EDGE_SERVER_OPTIONS, refuseBadRequest } from './edge-limits.js';
import { sendJson } from './json-response.js';

/** Takes the WebSocket upgrades: `desktop` is the NAME of `/ws/NAME`, null for plain `/ws`. */
export interface SignalingEndpoint {
  readonly connectionCount: number;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, credentials: Principal | AuthError, desktop: string | null): void;
}

/** `/ws` or `/ws/NAME` (NAME percent-decoded); null for any other path. */
function signalingPath(path: string): { desktop: string | null } | null {
  if (path === '/ws') return { desktop: null };
  const match = /^\/ws\/([^/]+)$/.exec(path);
  if (!match) return null;
  try {
    return { desktop: decodeURIComponent(match[1]!) };
  } catch {
    return null;
  }
}
import { WhepEndpoint } from './whep-endpoint.js';
import type { TurnRestOptions } from '../auth/turn-credentials.js';
import { grantFor } from '../desktops/desktop-grant.js';
import type { MediaService } from '../media/types.js';
import type { IceServer } from '../protocol/index.js';
import { FILES_PREFIX, handleFileRequest } from './file-routes.js';
import type { DesktopSession } from '../desktops/local-desktops.js';
import type { FileJail } from '../files/index.js';
import { CLIPBOARD_PATH, handleClipboardRequest, type ClipboardPolicy } from './clipboard-routes.js';
import type { DesktopClipboard } from '../desktop/index.js';

export interface HttpOptions {
  webRoot: string;
  signaling: SignalingEndpoint;
  log: Logger;
  /** Null when auth is off. */
  authenticator: Authenticator | null;
  publicMetrics: boolean;
  allowedOrigins: readonly string[];
  tls?: { cert: string; key: string } | undefined;
  /** Extra facts for /healthz, e.g. the media pipeline's state. */
  health: () => Record<string, unknown>;
  /** Answers `/api/desktops` and `/api/desktops/NAME` for authenticated callers. */
  desktopsApi?: (req: IncomingMessage, res: ServerResponse, path: string, credentials: Principal) => Promise<void>;
  /** The name of the desktop WHEP serves (the node's first). */
  firstDesktop?: string;
  /** WHEP viewers (docs/protocol.md, "WHEP") are fed by this media service. */
  whep: { media: MediaService; iceServers: readonly IceServer[]; turnRest?: TurnRestOptions | undefined };
  /** The folders of /files/ (--upload-dir, --download-dir); either may be null. */
  files?: { upload: FileJail | null; download: FileJail | null };
  /** The live signaling session of an id and resume token, and its desktop: the credentials of /files/ and /clipboard. */
  sessionAccess?: (sessionId: string, token: string) => DesktopSession | null;
  /** GET/PUT /clipboard: each desktop's clipboard (null without one) and `--clipboard`. */
  clipboard?: { clipboardOf: (desktop: string) => DesktopClipboard | null; policy: ClipboardPolicy };
}

/** One port for everything: the viewer's static files, /healthz, /metrics, WHEP, and WebSocket upgrades on /ws and /ws/NAME. */
export function createHttpServer(options: HttpOptions): Server {
  const serveStatic = sirv(options.webRoot, { dev: false, etag: true, gzip: false, single: false });
  const { authenticator } = options;
  const authenticate = (req: IncomingMessage): Promise<Principal | AuthError> =>
    authenticator
      ? authenticator.verify(requestToken(req)).catch((err: unknown) => {
          if (err instanceof AuthError) return err;
          throw err;
        })
      : Promise.resolve(OPEN_PRINCIPAL);
  // WHEP serves the node's first desktop: a `desktops` claim must grant it, and its role there counts.
  const authenticateFirst = async (req: IncomingMessage): Promise<Principal | AuthError> => {
    const credentials = await authenticate(req);
    return credentials instanceof AuthError || !options.firstDesktop ? credentials : grantFor(credentials, options.firstDesktop);
  };
  const whep = new WhepEndpoint({ ...options.whep, allowedOrigins: options.allowedOrigins, authenticate: authenticateFirst, log: options.log });

  const unauthorized = (res: ServerResponse, refusal: AuthError): void => {
    limitCounter.inc({ limit: 'unauthorized' });
    sendJson(res, 401, { error: 'UNAUTHORIZED', message: refusal.message });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok', connections: options.signaling.connectionCount, whep_viewers: whep.count, ...options.health() });
      return;
    }
    if (path === '/metrics') {
      if (!options.publicMetrics) {
        const credentials = await authenticate(req);
        if (credentials instanceof AuthError) {
          unauthorized(res, credentials);
          return;
        }
      }
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    if (options.desktopsApi && (path === '/api/desktops' || path.startsWith('/api/desktops/'))) {
      const credentials = await authenticate(req);
      if (credentials instanceof AuthError) unauthorized(res, credentials);
      else await options.desktopsApi(req, res, path, credentials);
      return;
    }
    if (path && (await whep.handle(req, res, path))) return;
    const sessionAccess = options.sessionAccess ?? (() => null);
    if (path.startsWith(FILES_PREFIX)) {
      const { upload = null, download = null } = options.files ?? {};
      await handleFileRequest(req, res, path, { upload, download, authenticate, sessionAccess });
      return;
    }
    if (path === CLIPBOARD_PATH) {
      const { clipboardOf = () => null, policy = 'off' } = options.clipboard ?? {};
      await handleClipboardRequest(req, res, { clipboardOf, policy, authenticate, sessionAccess });
      return;
    }
    // The viewer's files hold no data and are public: the page takes its token from its own URL to /ws.
    serveStatic(req, res, () => sendJson(res, 404, { error: `no such path: ${path}` }));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      options.log.error({ err }, 'HTTP request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  const server: Server = options.tls
    ? createHttps({ ...EDGE_SERVER_OPTIONS, cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, onRequest)
    : createHttp(EDGE_SERVER_OPTIONS, onRequest);
  server.on('close', () => whep.closeAll());

  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const signalingTarget = signalingPath(path);
    if (!signalingTarget) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!originAllowed(req, options.allowedOrigins)) {
      limitCounter.inc({ limit: 'origin' });
      options.log.warn({ origin: req.headers.origin }, 'WebSocket upgrade refused: origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nOrigin not allowed\n');
      return;
    }
    authenticate(req).then(
      (credentials) => options.signaling.handleUpgrade(req, socket, head, credentials, signalingTarget.desktop),
      (err: unknown) => {
        options.log.error({ err }, 'credential check failed');
        socket.destroy();
      },
    );
  });
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    options.log.debug({ err: err.message, code: err.code }, 'bad HTTP request');
    refuseBadRequest(err, socket);
  });
  // Garbage on the TLS port (random bytes, plain HTTP) ends the handshake with an error and Node drops the
  // socket itself; a handshake that never starts only gets this event at the timeout, and would stay open.
  server.on('tlsClientError', (err: Error & { code?: string }, socket: Duplex) => {
    options.log.debug({ err: err.message, code: err.code }, 'TLS handshake failed');
    socket.destroy();
  });
  return server;
}
