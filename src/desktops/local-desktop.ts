import type { Config } from '../config/options.js';
import { shareLinkMaker } from '../auth/share-token.js';
import { logger } from '../log.js';
import type { ScreenSize } from '../desktop/screen-size.js';
import { DesktopFeatures } from '../desktop/index.js';
import { janusOffloadFor, registerJanusMetrics, type JanusOffload } from '../janus/index.js';
import { registry } from '../metrics.js';
import { SignalingServer } from '../signaling/signaling-server.js';
import { startSource, type RunningSource } from '../source.js';

/** What makes one desktop differ from the server's settings. */
export interface DesktopSettings {
  name: string;
  /** Command line run inside (as --app); the server's --app when absent. */
  app?: string | undefined;
  resolution?: ScreenSize | undefined;
  /** Created through the desktops API: stopped when idle, deleted through the API. */
  onDemand: boolean;
  /** Known to the cluster under its name; the implicit `default` desktop of a node without --desktop is not. */
  shared: boolean;
}

/** What the desktops API and /healthz say about a desktop. */
export interface DesktopSummary {
  name: string;
  app: string;
  resolution: string;
  viewers: number;
  onDemand: boolean;
  /** Epoch ms since which nobody is connected; null while someone is. */
  idleSince: number | null;
  /** The X display it shows, where there is one. */
  display?: string;
}

/**
 * One desktop of this node, with everything of its own: its source (Xvfb, app, audio, encoders, input)
 * and its signaling endpoint (sessions, input control, limits). Its logs carry its name.
 */
export class LocalDesktop {
  private idleSinceMs: number | null = Date.now();

  private constructor(
    readonly settings: DesktopSettings,
    readonly config: Config,
    readonly source: RunningSource,
    readonly signaling: SignalingServer,
    private readonly offload: JanusOffload | undefined,
    /** Its cursor watcher and clipboard (docs/protocol.md, "Extensions"); null without an X display. */
    readonly features: DesktopFeatures | null,
  ) {}

  /**
   * `janus`: this desktop's view-only audience beyond --max-local-viewers goes to the --janus gateways. Only
   * one desktop of a node may use them: its mountpoints have fixed ids (docs/janus.md).
   * `shareSecret`: signs the view-only share links its controller may make; null where none can be made.
   */
  static async start(base: Config, settings: DesktopSettings, { janus, shareSecret }: { janus: boolean; shareSecret: string | null }): Promise<LocalDesktop> {
    const config: Config = { ...base, app: settings.app ?? base.app, resolution: settings.resolution ?? base.resolution };
    const desktop = settings.name;
    const source = await startSource(config, logger('source', { desktop }));
    const offload = janus
      ? await janusOffloadFor(config, source.media).catch(async (err: unknown) => {
          await source.stop();
          throw err;
        })
      : undefined;
    if (offload) registerJanusMetrics(registry, offload);
    const display = source.display();
    const features = display
      ? await DesktopFeatures.start(display, { clipboard: config.clipboard !== 'off', maxClipboardBytes: config.maxClipboardSize, cursor: true }).catch(async (err: unknown) => {
          await offload?.stop();
          await source.stop();
          throw err;
        })
      : null;
    const signaling = new SignalingServer({
      config,
      media: offload ?? source.media,
      input: source.input,
      log: logger('signaling', { desktop }),
      sourceName: source.name,
      shareLink: shareSecret ? shareLinkMaker(shareSecret, { name: desktop, named: settings.shared }) : null,
      screen: source.screen,
    });
    if (features?.cursor) signaling.watchCursor(features.cursor);
    if (features?.clipboard && (config.clipboard === 'both' || config.clipboard === 'to-client')) signaling.watchClipboard(features.clipboard);
    logger('desktops', { desktop }).info({ app: config.source === 'virtual' ? config.app : undefined, source: config.source, resolution: `${config.resolution.width}x${config.resolution.height}` }, 'desktop started');
    return new LocalDesktop(settings, config, source, signaling, offload, features);
  }

  get name(): string {
    return this.settings.name;
  }

  get viewers(): number {
    return this.signaling.connectionCount;
  }

  /** Someone connects: idleness counts again from when they have gone, not from before they came. */
  touch(): void {
    this.idleSinceMs = null;
  }

  /** Epoch ms since which nobody is connected, null while someone is; read now. */
  idleSince(now = Date.now()): number | null {
    if (this.viewers > 0) this.idleSinceMs = null;
    else this.idleSinceMs ??= now;
    return this.idleSinceMs;
  }

  summary(): DesktopSummary {
    const { width, height } = this.config.resolution;
    const { display } = this.source.health();
    return {
      name: this.name,
      app: this.config.app,
      resolution: `${width}x${height}`,
      viewers: this.viewers,
      onDemand: this.settings.onDemand,
      idleSince: this.idleSince(),
      ...(typeof display === 'string' ? { display } : {}),
    };
  }

  /** Closes its connections (GOING_AWAY), then stops its source. */
  async stop(): Promise<void> {
    await this.signaling.shutdown();
    await this.features?.stop();
    await this.offload?.stop();
    await this.source.stop();
  }
}
