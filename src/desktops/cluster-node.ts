import { hostname, loadavg, cpus } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/options.js';
import { ClusterRegistry } from '../cluster/registry.js';
import { SignalingRelays } from '../cluster/signaling-relays.js';
import type { DesktopName, NodeRecord } from '../cluster/records.js';
import { logger } from '../log.js';
import { chooseSubprotocol } from '../signaling/signaling-server.js';
import type { LocalDesktops } from './local-desktops.js';

const log = logger('cluster');

/**
 * This node as a member of the cluster: its registry entry (its desktops' names claimed, its load
 * published), the relays of clients to desktops that live on other nodes, and what happens when the
 * registry reports a conflict or comes back after an outage.
 */
export class ClusterNode {
  private constructor(
    readonly registry: ClusterRegistry,
    readonly relays: SignalingRelays,
    private readonly desktops: LocalDesktops,
  ) {}

  /** Joins the cluster through `config.redis`; carries on degraded when Redis is out of reach. */
  static async start(config: Config & { redis: string }, listening: { host: string; port: number; tls: boolean }, desktops: LocalDesktops): Promise<ClusterNode> {
    const scheme = listening.tls ? 'https' : 'http';
    const httpUrl = (config.advertiseUrl ?? `${scheme}://${listening.host}:${listening.port}`).replace(/\/+$/, '');
    const id = config.nodeId ?? `${hostname()}-${listening.port}`.replace(/[^A-Za-z0-9_.-]/g, '-');
    const registry = new ClusterRegistry({
      redisUrl: config.redis,
      node: { id, httpUrl, wsUrl: httpUrl.replace(/^http/, 'ws') },
      load: () => ({ cpu: Math.min(1, loadavg()[0]! / Math.max(1, cpus().length)), viewers: desktops.connectionCount, maxDesktops: Math.max(0, config.maxDesktops - desktops.unshared) }),
      log,
      ttlMs: config.clusterTtl,
    });
    const relays = new SignalingRelays({ registry, nodeId: id, clusterSecret: config.clusterSecret, handleProtocols: chooseSubprotocol, log });
    const node = new ClusterNode(registry, relays, desktops);
    // Names that could not be claimed (Redis away at start, or restarted empty and missed) are claimed again on every return.
    registry.on('state', (state) => {
      if (state === 'ready') void node.claimAll();
    });
    registry.on('desktop-conflict', ({ name, owner }) => void node.yieldDesktop(name, owner));
    await registry.start();
    await node.claimAll();
    return node;
  }

  get nodeId(): string {
    return this.registry.nodeId;
  }

  /** Claims a name for a desktop about to start here (throws ClusterError desktop-taken / registry-unavailable). */
  claim(name: string): Promise<void> {
    return this.registry.claim(name);
  }

  release(name: string): Promise<void> {
    return this.registry.release(name);
  }

  /** The node serving a desktop elsewhere, or null (throws registry-unavailable while Redis is away). */
  locate(name: DesktopName): Promise<NodeRecord | null> {
    return this.registry.locate(name);
  }

  relay(request: IncomingMessage, socket: Duplex, head: Buffer, desktop: DesktopName, owner: NodeRecord): void {
    this.relays.handleUpgrade(request, socket, head, desktop, owner);
  }

  health(): Record<string, unknown> {
    return { ...this.registry.health(), relayed_sessions: this.relays.size };
  }

  private async claimAll(): Promise<void> {
    if (this.registry.state !== 'ready') return;
    const held = new Set(this.registry.localDesktops);
    for (const desktop of this.desktops.list()) {
      if (!desktop.settings.shared || held.has(desktop.name)) continue;
      try {
        await this.registry.claim(desktop.name);
      } catch (err) {
        log.error({ desktop: desktop.name, err: (err as Error).message }, 'could not register a desktop of this node in the cluster; it is reachable through this node only');
      }
    }
  }

  /** Another node holds the name: two desktops under one name would split its viewers, so this one stops. */
  private async yieldDesktop(name: string, owner: string): Promise<void> {
    if (this.desktops.get(name) === this.desktops.defaultDesktop) return;
    log.error({ desktop: name, owner }, 'stopping this node\'s desktop: another node holds its name');
    await this.desktops.remove(name).catch((err: unknown) => log.warn({ desktop: name, err: (err as Error).message }, 'could not stop the conflicting desktop'));
  }

  /** Leaves the cluster: relayed clients get 1001 (and resume through another node), then the keys go. */
  async stop(): Promise<void> {
    await this.relays.shutdown();
    await this.registry.stop();
  }
}
