import { ClusterError } from '../cluster/cluster-error.js';
import { logger } from '../log.js';
import type { ScreenSize } from '../desktop/screen-size.js';
import type { ClusterNode } from './cluster-node.js';
import type { LocalDesktops } from './local-desktops.js';

const log = logger('desktops');

export interface NewDesktop {
  name: string;
  app?: string | undefined;
  resolution?: ScreenSize | undefined;
}

/**
 * Creates and deletes this node's on-demand desktops, keeping the cluster's names in step: a name is
 * claimed before its desktop starts (so two nodes never start one) and released after it stops. Desktops
 * nobody watched for `idleTimeoutMs` are stopped.
 */
export class DesktopManager {
  private cluster: ClusterNode | null = null;
  private readonly sweep: NodeJS.Timeout | undefined;

  constructor(
    readonly desktops: LocalDesktops,
    private readonly idleTimeoutMs: number,
  ) {
    if (idleTimeoutMs > 0) {
      this.sweep = setInterval(() => void this.stopIdle(), Math.max(100, Math.min(5000, Math.floor(idleTimeoutMs / 4))));
      this.sweep.unref();
    }
  }

  joinCluster(cluster: ClusterNode): void {
    this.cluster = cluster;
  }

  /** Throws ClusterError: desktop-taken (here or on another node), no-room, registry-unavailable. */
  async create(spec: NewDesktop): Promise<void> {
    if (this.desktops.has(spec.name)) throw new ClusterError('desktop-taken', `Desktop "${spec.name}" already runs on this node.`);
    await this.cluster?.claim(spec.name);
    try {
      await this.desktops.add({ ...spec, onDemand: true, shared: true });
    } catch (err) {
      await this.cluster?.release(spec.name);
      throw err;
    }
    log.info({ desktop: spec.name, app: spec.app, resolution: spec.resolution }, 'desktop created on demand');
  }

  /** Throws ClusterError not-found, or desktop-taken for the default desktop. */
  async delete(name: string): Promise<void> {
    await this.desktops.remove(name);
    await this.cluster?.release(name);
  }

  private async stopIdle(): Promise<void> {
    const now = Date.now();
    for (const desktop of this.desktops.list()) {
      const since = desktop.idleSince(now);
      if (!desktop.settings.onDemand || since === null || now - since < this.idleTimeoutMs) continue;
      log.info({ desktop: desktop.name, idleMs: now - since }, 'stopping an idle desktop');
      await this.delete(desktop.name).catch((err: unknown) => log.warn({ desktop: desktop.name, err: (err as Error).message }, 'could not stop an idle desktop'));
    }
  }

  stop(): void {
    clearInterval(this.sweep);
  }
}
