import type { Config } from '../config/options.js';
import { ClusterError } from '../cluster/cluster-error.js';
import { logger } from '../log.js';
import type { MediaFigures } from '../media/metrics.js';
import type { SessionAccess } from '../signaling/signaling-server.js';
import { LocalDesktop, type DesktopSettings } from './local-desktop.js';

/** The desktop `/ws` opens on a server started without --desktop. */
export const DEFAULT_DESKTOP = 'default';

const log = logger('desktops');

/** A live signaling session, and the name of the desktop it is on. */
export interface DesktopSession extends SessionAccess {
  desktop: string;
}

/**
 * The desktops this node runs, by name. The first is the default one, which plain `/ws` opens (so clients
 * that know nothing of names work unchanged); it is never removed.
 */
export class LocalDesktops {
  private readonly desktops = new Map<string, LocalDesktop>();
  /** Names being started or stopped: taken, but not yet (or no longer) serving. */
  private readonly busy = new Set<string>();

  private constructor(
    private readonly config: Config,
    /** Signs view-only share links (see LocalDesktop.start); null where none can be made. */
    private readonly shareSecret: string | null,
    readonly defaultDesktop: LocalDesktop,
  ) {
    this.desktops.set(defaultDesktop.name, defaultDesktop);
  }

  /** Starts the configured desktops (--desktop), or one `default` desktop from --app. */
  static async start(config: Config, shareSecret: string | null = null): Promise<LocalDesktops> {
    const specs: DesktopSettings[] = config.desktops.length
      ? config.desktops.map((d) => ({ name: d.name, app: d.app, onDemand: false, shared: true }))
      : [{ name: DEFAULT_DESKTOP, onDemand: false, shared: false }];
    const [first, ...rest] = specs;
    const desktops = new LocalDesktops(config, shareSecret, await LocalDesktop.start(config, first!, { janus: true, shareSecret }));
    try {
      for (const spec of rest) await desktops.add(spec);
    } catch (err) {
      await desktops.stop();
      throw err;
    }
    return desktops;
  }

  get(name: string): LocalDesktop | undefined {
    return this.desktops.get(name);
  }

  has(name: string): boolean {
    return this.desktops.has(name) || this.busy.has(name);
  }

  /** The live session of this id and resume token, on whichever desktop it is, with that desktop's name. */
  sessionAccess(sessionId: string, token: string): DesktopSession | null {
    for (const desktop of this.desktops.values()) {
      const access = desktop.signaling.sessionAccess(sessionId, token);
      if (access) return { ...access, desktop: desktop.name };
    }
    return null;
  }

  list(): LocalDesktop[] {
    return [...this.desktops.values()];
  }

  get size(): number {
    return this.desktops.size + this.busy.size;
  }

  get connectionCount(): number {
    let n = 0;
    for (const desktop of this.desktops.values()) n += desktop.viewers;
    return n;
  }

  /** Starts a desktop. Throws ClusterError desktop-taken (the name is in use here) or no-room (--max-desktops). */
  async add(settings: DesktopSettings): Promise<LocalDesktop> {
    const { name } = settings;
    if (this.has(name)) throw new ClusterError('desktop-taken', `Desktop "${name}" already runs on this node.`);
    if (this.size >= this.config.maxDesktops) throw new ClusterError('no-room', `This node runs ${this.size} desktops, its most (--max-desktops ${this.config.maxDesktops}).`);
    this.busy.add(name);
    try {
      const desktop = await LocalDesktop.start(this.config, settings, { janus: false, shareSecret: this.shareSecret });
      this.desktops.set(name, desktop);
      return desktop;
    } finally {
      this.busy.delete(name);
    }
  }

  /** Stops and forgets a desktop; its viewers are closed with GOING_AWAY. Throws not-found; the default desktop cannot go. */
  async remove(name: string): Promise<void> {
    const desktop = this.desktops.get(name);
    if (!desktop) throw new ClusterError('not-found', `No desktop "${name}" runs on this node.`);
    if (desktop === this.defaultDesktop) throw new ClusterError('desktop-taken', `Desktop "${name}" is this node's default desktop (plain /ws); it runs as long as the node.`);
    this.desktops.delete(name);
    this.busy.add(name);
    try {
      await desktop.stop();
      log.info({ desktop: name }, 'desktop stopped');
    } finally {
      this.busy.delete(name);
    }
  }

  /**
   * All desktops' media as one set of figures for /metrics: viewers summed, streams labelled with their
   * desktop (the default desktop's keep their plain names).
   */
  mediaFigures(): MediaFigures {
    const desktops = () => this.list();
    const label = (d: LocalDesktop, stream: string) => (d === this.defaultDesktop ? stream : `${d.name}/${stream}`);
    return {
      get viewerCount() {
        return desktops().reduce((n, d) => n + d.source.media.viewerCount, 0);
      },
      streamStats: () => desktops().flatMap((d) => d.source.media.streamStats().map((s) => ({ ...s, stream: label(d, s.stream) }))),
      viewerRates: () => desktops().flatMap((d) => d.source.media.viewerRates()),
      rungMoves: () =>
        desktops().reduce(
          (sum, d) => {
            const moves = d.source.media.rungMoves();
            return { up: sum.up + moves.up, down: sum.down + moves.down };
          },
          { up: 0, down: 0 },
        ),
    };
  }

  /** Closes every desktop's connections; the sources keep running until stop(). */
  async closeConnections(): Promise<void> {
    await Promise.all(this.list().map((d) => d.signaling.shutdown()));
  }

  /** Stops every desktop at once: a supervisor's shutdown deadline does not grow with their number. */
  async stop(): Promise<void> {
    await Promise.all(this.list().map((desktop) => desktop.stop().catch((err: unknown) => log.error({ err, desktop: desktop.name }, 'error while stopping a desktop'))));
    this.desktops.clear();
  }

  /** Desktops the cluster does not know (a node's implicit default): they take room the registry does not count. */
  get unshared(): number {
    return this.list().filter((d) => !d.settings.shared).length;
  }
}
