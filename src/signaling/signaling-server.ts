import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode } from '../protocol/index.js';
import pLimit from 'p-limit';
import { connectionsGauge, limitCounter } from '../metrics.js';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { BEARER_PROTOCOL_PREFIX } from '../auth/request-credentials.js';
import { relayedClientAddress } from '../cluster/relay-headers.js';
import { Connection } from './connection.js';
import { dispatch, inputAllowed } from './handlers.js';
import { announceClipboardChange } from './clipboard-notices.js';
import type { DesktopClipboard } from '../desktop/index.js';
import { CursorRelay, type CursorSource } from './cursor-relay.js';
import { ParticipantsAnnouncer } from './participants.js';
import { ScreenRelay } from './screen-relay.js';
import { InputControl } from './input-control.js';
import { LivenessSweep } from './liveness-sweep.js';
import { SessionRegistry } from './session-registry.js';
import type { SignalingContext, SignalingDeps } from './signaling-context.js';
import { SystemSampler } from './system-stats.js';
import { Traffic } from './traffic.js';

export interface SessionAccess {
  principal: Principal;
  /** It holds input control now. */
  controls: boolean;
}

/** Frames up to this many times max_message_size are read and answered with MESSAGE_TOO_LARGE; beyond, ws closes with TOO_LARGE itself. */
const OVERSIZE_READ_FACTOR = 16;
/** However large max_message_size is set, a frame is never buffered past this. */
const OVERSIZE_READ_CAP = 64 * 1024 * 1024;
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** setTimeout's limit; credentials valid for longer are simply not timed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Browsers fail the handshake unless one offered subprotocol is echoed; never echo the token itself when another will do. */
export function chooseSubprotocol(protocols: Set<string>): string | false {
  if (protocols.has('streamgate')) return 'streamgate';
  for (const p of protocols) if (p.startsWith(BEARER_PROTOCOL_PREFIX)) return p;
  return false;
}

/**
 * The WebSocket endpoint: accepts upgrades on /ws, owns every Connection, runs liveness,
 * tells peers when input control moves, and closes everyone with GOING_AWAY on shutdown.
 */
export class SignalingServer {
  private readonly ctx: SignalingContext;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly liveness: LivenessSweep<Connection>;
  private nextId = 0;
  private closing = false;

  constructor(deps: SignalingDeps) {
    const control = new InputControl(deps.config.input);
    const ctx: SignalingContext = {
      ...deps,
      control,
      sessions: new SessionRegistry({ control, resumeGrace: deps.config.resumeGrace, log: deps.log }),
      connections: this.connections,
      traffic: new Traffic(),
      system: new SystemSampler(Date.now()),
      negotiations: pLimit(deps.config.maxNegotiations),
      welcomeHooks: [],
      shareLink: deps.shareLink ?? null,
      viewerHooks: [],
      screen: deps.screen ?? null,
      participantsChanged: () => participants.schedule(),
    };
    this.ctx = ctx;
    const participants = new ParticipantsAnnouncer(ctx);
    ctx.welcomeHooks.push(() => participants.schedule());
    if (ctx.screen) {
      const screens = new ScreenRelay(ctx, ctx.screen);
      ctx.welcomeHooks.push((session) => screens.welcome(session));
    }
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: Math.min(Math.max(ctx.config.maxMessageSize * OVERSIZE_READ_FACTOR, 1024 * 1024), OVERSIZE_READ_CAP),
      perMessageDeflate: false,
      // One message per connection per event-loop turn, connections in turn: a socket's buffered frames are
      // never handled in one synchronous loop, so one peer's burst delays another's message by one frame at most.
      // While a connection waits for its turn its receiver holds the socket's data and ws stops reading it.
      allowSynchronousEvents: false,
      handleProtocols: chooseSubprotocol,
    });
    const { heartbeatInterval, livenessTimeout } = ctx.config;
    const sweepEvery = Math.max(50, Math.min(heartbeatInterval, Math.floor(livenessTimeout / 3)));
    this.liveness = new LivenessSweep(this.connections, sweepEvery, livenessTimeout, (connection) => {
      connection.log.info('closing: liveness timeout');
      connection.close(CloseCode.LIVENESS_TIMEOUT, 'liveness timeout');
    });
    ctx.control.on('change', (previous) => this.announceControl(previous));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get sessionCount(): number {
    return this.ctx.sessions.size;
  }

  /**
   * Who holds the live session named by `sessionId` and `token` (a welcome's session_id and resume_token),
   * and whether it may send input now: HTTP endpoints that act for a viewer (files, clipboard) take those as
   * its credentials. Null when no session of that id and token is attached to a connection now.
   */
  sessionAccess(sessionId: string, token: string): SessionAccess | null {
    const session = this.ctx.sessions.attached(sessionId, token);
    return session ? { principal: session.connection.principal, controls: inputAllowed(this.ctx, session) } : null;
  }

  /** Announces the desktop clipboard's changes to the peer in control (`--clipboard` to-client or both). */
  watchClipboard(clipboard: Pick<DesktopClipboard, 'on'>): void {
    clipboard.on('change', (change) => announceClipboardChange(this.ctx, change));
  }

  /** Relays the desktop's cursor to clients that announced `cursor`. */
  watchCursor(source: CursorSource): void {
    const relay = new CursorRelay(this.ctx, source, (session) => inputAllowed(this.ctx, session));
    this.ctx.welcomeHooks.push((session) => relay.welcome(session));
    this.ctx.viewerHooks.push((session, viewer) => relay.viewer(session, viewer));
  }

  /** `credentials` were checked before the upgrade; a failure is still upgraded so the client reads UNAUTHORIZED. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, credentials: Principal | AuthError): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, credentials));
  }

  private accept(ws: WebSocket, request: IncomingMessage, credentials: Principal | AuthError): void {
    const id = `c${(++this.nextId).toString(36)}`;
    // A client relayed by another node of the cluster counts under its own address when that node vouches for it.
    const remoteAddress = relayedClientAddress(request, this.ctx.config.clusterSecret) ?? request.socket.remoteAddress ?? 'unknown';
    const log = this.ctx.log.child({ conn: id });
    const { config } = this.ctx;
    const connection = new Connection(ws, {
      id,
      remoteAddress,
      log,
      serverTraffic: this.ctx.traffic,
      limits: {
        maxMessageSize: config.maxMessageSize,
        rateLimit: config.rateLimit,
        inputRateLimit: config.inputRateLimit,
        maxBufferedBytes: MAX_BUFFERED_BYTES,
      },
      dispatch: (conn, message) => dispatch(this.ctx, conn, message),
      onClose: (conn, code, reason) => this.onClose(conn, code, reason),
    });
    if (this.closing) {
      connection.close(CloseCode.GOING_AWAY, 'server shutting down');
      return;
    }
    if (credentials instanceof AuthError) {
      limitCounter.inc({ limit: 'unauthorized' });
      connection.sendError('UNAUTHORIZED', credentials.message, 'credentials');
      return;
    }
    if (this.connections.size >= config.maxPeers) {
      limitCounter.inc({ limit: 'max_peers' });
      connection.sendError('SERVER_BUSY', `The server is full (${config.maxPeers} connections); try again later.`, `max_peers=${config.maxPeers}`);
      return;
    }
    const fromAddress = this.perAddress.get(remoteAddress) ?? 0;
    if (fromAddress >= config.maxPeersPerIp) {
      limitCounter.inc({ limit: 'max_peers_per_ip' });
      connection.sendError('SERVER_BUSY', `Too many connections from ${remoteAddress}; try again later.`, `max_peers_per_ip=${config.maxPeersPerIp}`);
      return;
    }
    connection.principal = credentials;
    this.perAddress.set(remoteAddress, fromAddress + 1);
    this.connections.add(connection);
    // Each desktop has its own server: the gauge counts all of them.
    connectionsGauge.inc();
    // A WebSocket that never says hello would hold its slot (--max-peers, per address) until the liveness
    // timeout, and for ever if its library answers pings as every library does.
    const helloDeadline = setTimeout(() => {
      if (this.ctx.sessions.of(connection)) return;
      limitCounter.inc({ limit: 'hello_timeout' });
      connection.sendError('NOT_REGISTERED', `No "hello" within ${config.helloTimeout} ms; closing.`, `hello_timeout=${config.helloTimeout}`);
      connection.close(CloseCode.POLICY, 'no hello');
    }, config.helloTimeout);
    helloDeadline.unref();
    ws.once('close', () => clearTimeout(helloDeadline));
    if (credentials.expiresAt !== undefined) {
      const expiry = setTimeout(() => connection.sendError('UNAUTHORIZED', 'The credentials of this connection have expired.', 'exp'), Math.min(MAX_TIMER_MS, Math.max(0, credentials.expiresAt - Date.now())));
      expiry.unref();
      ws.once('close', () => clearTimeout(expiry));
    }
    log.info({ remote: remoteAddress, role: credentials.role, ua: request.headers['user-agent'] }, 'connection open');
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    if (!this.connections.delete(connection)) return;
    connectionsGauge.dec();
    const left = (this.perAddress.get(connection.remoteAddress) ?? 1) - 1;
    if (left > 0) this.perAddress.set(connection.remoteAddress, left);
    else this.perAddress.delete(connection.remoteAddress);
    const session = this.ctx.sessions.of(connection);
    connection.log.info({ code, reason, session: session?.id, ...connection.traffic.snapshot() }, 'connection closed');
    this.ctx.sessions.detach(connection, code);
    this.ctx.participantsChanged();
  }

  private announceControl(previous: string | null): void {
    this.ctx.participantsChanged();
    // Without an input device control means nothing, and nobody needs telling.
    if (!this.ctx.input) return;
    const controller = this.ctx.control.controller;
    for (const session of this.ctx.sessions.all()) {
      if (session.id === previous) session.input?.releaseAll();
      if (!session.welcomed) continue;
      session.connection.send('control', { input_enabled: inputAllowed(this.ctx, session), controller_session_id: controller });
    }
  }

  /** Closes every connection with GOING_AWAY and waits (bounded) for them to go. */
  async shutdown(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    this.liveness.stop();
    this.ctx.sessions.shutdown();
    for (const connection of this.connections) connection.close(CloseCode.GOING_AWAY, 'server shutting down');
    const deadline = Date.now() + timeoutMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.wss.close();
  }
}
