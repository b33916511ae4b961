import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { ClusterError } from '../cluster/cluster-error.js';
import { closeDesktopUnavailable } from '../cluster/desktop-unavailable.js';
import { DesktopNameSchema } from '../cluster/records.js';
import { isRelayed } from '../cluster/relay-headers.js';
import { logger } from '../log.js';
import { chooseSubprotocol } from '../signaling/signaling-server.js';
import type { ClusterNode } from './cluster-node.js';
import { grantFor } from './desktop-grant.js';
import type { LocalDesktops } from './local-desktops.js';

const log = logger('desktops.router');

/**
 * Where a WebSocket upgrade goes: `/ws` to this node's default desktop, `/ws/NAME` to that desktop here,
 * or relayed to the node that owns it; a desktop nobody serves gets MEDIA_UNAVAILABLE naming it.
 */
export class DesktopRouter {
  private cluster: ClusterNode | null = null;
  private readonly refusals = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: chooseSubprotocol });

  constructor(private readonly desktops: LocalDesktops) {}

  joinCluster(cluster: ClusterNode): void {
    this.cluster = cluster;
  }

  get connectionCount(): number {
    return this.desktops.connectionCount + (this.cluster?.relays.size ?? 0);
  }

  /** `credentials` were checked before the upgrade; `desktop` is null for plain `/ws`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, credentials: Principal | AuthError, desktop: string | null): void {
    const local = desktop === null ? this.desktops.defaultDesktop : this.desktops.get(desktop);
    const name = local?.name ?? desktop!;
    const grant = credentials instanceof AuthError ? credentials : grantFor(credentials, name);
    if (local) {
      local.touch();
      local.signaling.handleUpgrade(request, socket, head, grant);
      return;
    }
    // Refused credentials are told as UNAUTHORIZED, by the default desktop's endpoint, and never relayed.
    if (grant instanceof AuthError) {
      this.desktops.defaultDesktop.signaling.handleUpgrade(request, socket, head, grant);
      return;
    }
    const parsed = DesktopNameSchema.safeParse(name);
    if (!parsed.success) {
      this.unavailable(request, socket, head, name, `"${name}" is not a desktop name.`);
      return;
    }
    const cluster = this.cluster;
    // A relayed request is never relayed again: the registry that sent it here was stale.
    if (!cluster || isRelayed(request)) {
      this.unavailable(request, socket, head, name, `No desktop "${name}" runs on this node.`);
      return;
    }
    cluster.locate(parsed.data).then(
      (owner) => {
        if (owner && owner.id !== cluster.nodeId) cluster.relay(request, socket, head, parsed.data, owner);
        else this.unavailable(request, socket, head, name, `No desktop "${name}" runs in the cluster.`);
      },
      (err: unknown) => {
        const why = err instanceof ClusterError ? err.message : String(err);
        log.warn({ desktop: name, err: why }, 'could not locate a desktop');
        this.unavailable(request, socket, head, name, `Desktop "${name}" cannot be located now: the cluster registry is out of reach.`);
      },
    );
  }

  private unavailable(request: IncomingMessage, socket: Duplex, head: Buffer, desktop: string, message: string): void {
    this.refusals.handleUpgrade(request, socket, head, (ws) => closeDesktopUnavailable(ws, desktop, message));
  }

  close(): void {
    this.refusals.close();
  }
}
