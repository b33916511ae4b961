import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import { CloseCode } from '../protocol/index.js';
import type { Logger } from '../log.js';
import { relayFailuresCounter, relayedSessionsGauge } from './cluster-metrics.js';
import { closeDesktopUnavailable } from './desktop-unavailable.js';
import { relayHeaders } from './relay-headers.js';
import type { DesktopName, NodeRecord } from './records.js';

export interface SignalingRelayOptions {
  /** The client's WebSocket, accepted by this node; it should not answer pings itself (`autoPong: false`), so liveness stays the owner's. */
  client: WebSocket;
  /** The client's upgrade request: its credentials, subprotocols, query and address go to the owner. */
  request: IncomingMessage;
  desktop: DesktopName;
  owner: Pick<NodeRecord, 'id' | 'wsUrl'>;
  /** This node's id, and the cluster secret with which it vouches for the client's address. */
  via: { nodeId: string; secret: string | undefined };
  log: Logger;
  /** How long the owner has to accept the relayed WebSocket. */
  connectTimeoutMs?: number;
  /** Bytes one side may have unsent before the other side is no longer read. */
  highWaterBytes?: number;
  /** The largest frame taken from the owner. */
  maxPayload?: number;
}

export type RelayFailure = 'refused' | 'timeout' | 'dropped' | 'gone';

export interface SignalingRelayEvents {
  /** Both sides are closed; `failure` says why when the owner was the cause. */
  end: [failure: RelayFailure | null];
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;
const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/**
 * The client's headers the owner gets: its credentials and, for the owner's logs, its user agent. Nothing
 * else: not Origin (this node checked it; the owner would find it foreign), not the relay headers (a
 * client must not vouch for itself), and the subprotocols go as the relayed connection's own.
 */
const FORWARDED_HEADERS = ['authorization', 'user-agent'] as const;

/** How long a peer has to answer a close frame before its socket is cut. */
const CLOSE_HANDSHAKE_MS = 2000;

/** Codes a close frame may carry (RFC 6455 §7.4): 1005, 1006 and 1015 only ever describe what happened. */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * Relays one client WebSocket to the node that owns its desktop, frame for frame in both directions, pings
 * and pongs included, so that the owner's liveness, limits and close codes reach the client unchanged.
 * Only the signaling passes here: media flows between the owner and the browser directly. When the owner
 * cannot be reached or goes away, the client gets MEDIA_UNAVAILABLE naming the desktop and a close it
 * retries after, never a silent hang.
 */
export class SignalingRelay extends EventEmitter<SignalingRelayEvents> {
  readonly desktop: DesktopName;
  readonly ownerId: string;
  private readonly client: WebSocket;
  private readonly upstream: WebSocket;
  private readonly log: Logger;
  private readonly highWater: number;
  private readonly connectTimer: NodeJS.Timeout;
  /** Client frames that arrived before the owner accepted; the client is paused meanwhile, so these are few. */
  private pending: { data: RawData; isBinary: boolean }[] = [];
  private readonly paused = new Set<WebSocket>();
  private upstreamOpen = false;
  private failure: RelayFailure | null = null;
  private failureDetail = '';
  private ended = false;
  private endEmitted = false;
  private cutTimer: NodeJS.Timeout | undefined;

  constructor(options: SignalingRelayOptions) {
    super();
    const { client, request, desktop, owner, via } = options;
    this.client = client;
    this.desktop = desktop;
    this.ownerId = owner.id;
    this.highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.log = options.log.child({ desktop, owner: owner.id });
    relayedSessionsGauge.inc();

    const query = new URL(request.url ?? '/', 'http://relay').search;
    const target = `${owner.wsUrl.replace(/\/+$/, '')}/ws/${encodeURIComponent(desktop)}${query}`;
    const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const headers = relayHeaders(via.nodeId, request.socket.remoteAddress ?? 'unknown', via.secret);
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers[name];
      if (value !== undefined) headers[name] = value;
    }

    client.pause();
    this.upstream = new WebSocket(target, protocols, {
      headers,
      perMessageDeflate: false,
      autoPong: false,
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      handshakeTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.connectTimer = setTimeout(() => this.fail('timeout', `did not accept the connection within ${timeoutMs} ms`), timeoutMs);

    client.on('message', (data, isBinary) => this.fromClient(data, isBinary));
    client.on('ping', (data) => this.upstreamOpen && this.upstream.ping(data));
    client.on('pong', (data) => this.upstreamOpen && this.upstream.pong(data));
    client.on('error', (err) => this.log.debug({ err: err.message }, 'relayed client socket error'));
    client.on('close', (code, reason) => this.onClientClose(code, reason));

    this.upstream.on('open', () => this.onUpstreamOpen());
    this.upstream.on('message', (data, isBinary) => this.forward(this.upstream, this.client, data, isBinary));
    this.upstream.on('ping', (data) => this.client.ping(data));
    this.upstream.on('pong', (data) => this.client.pong(data));
    this.upstream.on('error', (err) => {
      this.failureDetail ||= err.message;
    });
    this.upstream.on('close', (code, reason) => this.onUpstreamClose(code, reason));
  }

  /** The registry says the owner left the cluster: a host that vanished may never send a FIN. */
  ownerGone(): void {
    this.fail('gone', 'left the cluster');
  }

  /** This node is going away: the client reconnects through another, and the owner keeps its session for it. */
  shutdown(): void {
    this.ending();
    this.upstream.terminate();
    if (this.client.readyState === WebSocket.OPEN) this.client.close(CloseCode.GOING_AWAY, 'node shutting down');
  }

  private onUpstreamOpen(): void {
    clearTimeout(this.connectTimer);
    if (this.ended) {
      this.upstream.terminate();
      return;
    }
    this.upstreamOpen = true;
    this.log.debug('relay open');
    for (const { data, isBinary } of this.pending) this.forward(this.client, this.upstream, data, isBinary);
    this.pending = [];
    if (!this.paused.has(this.client)) this.client.resume();
  }

  private fromClient(data: RawData, isBinary: boolean): void {
    if (this.upstreamOpen) this.forward(this.client, this.upstream, data, isBinary);
    else if (!this.failure) this.pending.push({ data, isBinary });
  }

  /** Sends verbatim; while `to` has more than the high-water mark unsent, `from` is not read. */
  private forward(from: WebSocket, to: WebSocket, data: RawData, isBinary: boolean): void {
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (this.paused.has(from) && to.bufferedAmount <= this.highWater / 2) {
        this.paused.delete(from);
        from.resume();
      }
    });
    if (to.bufferedAmount > this.highWater && !this.paused.has(from)) {
      this.paused.add(from);
      from.pause();
    }
  }

  private onClientClose(code: number, reason: Buffer): void {
    if (this.ended) {
      this.endIfClosed();
      return;
    }
    this.ending();
    clearTimeout(this.connectTimer);
    if (!this.upstreamOpen || code === 1006) {
      // The client dropped (or never got through): the owner sees a drop too and keeps the session for a resume.
      this.upstream.terminate();
    } else if (sendable(code)) {
      this.upstream.close(code, reason);
    } else {
      this.upstream.close();
    }
    this.log.debug({ code }, 'relayed client closed');
    this.endIfClosed();
  }

  private onUpstreamClose(code: number, reason: Buffer): void {
    clearTimeout(this.connectTimer);
    if (this.ended) {
      this.endIfClosed();
      return;
    }
    if (!this.upstreamOpen) {
      this.fail(this.failure ?? 'refused', this.failureDetail ? `refused the connection (${this.failureDetail})` : 'refused the connection');
      return;
    }
    if (code === 1006) {
      this.fail('dropped', 'dropped the connection');
      return;
    }
    this.ending();
    if (this.client.readyState === WebSocket.OPEN) {
      if (sendable(code)) this.client.close(code, reason);
      else this.client.close();
    }
    this.endIfClosed();
  }

  /** The owner is out of reach: the client is told which desktop, and closed with a code it retries after. */
  private fail(failure: RelayFailure, what: string): void {
    if (this.ended) return;
    this.failure = failure;
    this.ending();
    clearTimeout(this.connectTimer);
    relayFailuresCounter.inc({ reason: failure });
    this.upstream.terminate();
    const message = `Desktop "${this.desktop}" is unavailable: its node "${this.ownerId}" ${what}.`;
    this.log.warn({ failure }, message);
    closeDesktopUnavailable(this.client, this.desktop, message);
    this.endIfClosed();
  }

  /** Stops forwarding; a peer that never finishes its close handshake is cut after a while. */
  private ending(): void {
    if (this.ended) return;
    this.ended = true;
    this.pending = [];
    // A paused socket never reads its close frame, so nothing may stay paused.
    for (const socket of this.paused) socket.resume();
    this.paused.clear();
    this.cutTimer = setTimeout(() => {
      this.client.terminate();
      this.upstream.terminate();
    }, CLOSE_HANDSHAKE_MS);
    this.cutTimer.unref();
  }

  /** Emits `end` once both sockets are closed. */
  private endIfClosed(): void {
    if (this.endEmitted || this.client.readyState !== WebSocket.CLOSED || this.upstream.readyState !== WebSocket.CLOSED) return;
    this.endEmitted = true;
    clearTimeout(this.cutTimer);
    relayedSessionsGauge.dec();
    this.emit('end', this.failure);
  }
}
