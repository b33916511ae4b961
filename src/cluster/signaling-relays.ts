import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions } from 'ws';
import type { Logger } from '../log.js';
import type { DesktopName, NodeRecord } from './records.js';
import { SignalingRelay } from './signaling-relay.js';

export interface SignalingRelaysOptions {
  /** Where node departures come from: the ClusterRegistry. */
  registry: { on(event: 'node-gone', listener: (nodeId: string) => void): unknown };
  nodeId: string;
  /** Signs the client's address for the owner; without it the owner counts this node's address. */
  clusterSecret: string | undefined;
  /** The subprotocol choice of the signaling endpoint, so that a relayed client is answered the same. */
  handleProtocols: ServerOptions['handleProtocols'];
  log: Logger;
  connectTimeoutMs?: number;
}

/**
 * The relays of this node: accepts a client's WebSocket for a desktop that lives elsewhere, relays it to
 * the owner, ends the relays of a node that leaves the cluster, and closes them all on shutdown.
 */
export class SignalingRelays {
  private readonly relays = new Set<SignalingRelay>();
  private readonly wss: WebSocketServer;

  constructor(private readonly options: SignalingRelaysOptions) {
    // No automatic pongs: the client's own pongs answer the owner's pings, so liveness stays end to end.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, autoPong: false, handleProtocols: options.handleProtocols });
    options.registry.on('node-gone', (nodeId) => this.ownerGone(nodeId));
  }

  get size(): number {
    return this.relays.size;
  }

  /** Relays an upgrade for `desktop` to its owner; credentials and origin were checked like any upgrade's. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, desktop: DesktopName, owner: Pick<NodeRecord, 'id' | 'wsUrl'>): void {
    this.wss.handleUpgrade(request, socket, head, (client) => {
      const relay = new SignalingRelay({
        client,
        request,
        desktop,
        owner,
        via: { nodeId: this.options.nodeId, secret: this.options.clusterSecret },
        log: this.options.log,
        ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
      });
      this.relays.add(relay);
      relay.once('end', () => this.relays.delete(relay));
    });
  }

  /** A node left (announced, or its TTL ran out): its relays end now rather than waiting on a dead socket. */
  ownerGone(nodeId: string): void {
    for (const relay of this.relays) if (relay.ownerId === nodeId) relay.ownerGone();
  }

  /** Closes every relayed client with 1001 and waits (bounded) for them to go. */
  async shutdown(timeoutMs = 2000): Promise<void> {
    const ends = [...this.relays].map((relay) => once(relay, 'end'));
    for (const relay of this.relays) relay.shutdown();
    await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    this.wss.close();
  }
}
