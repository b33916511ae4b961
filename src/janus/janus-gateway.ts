import { EventEmitter } from 'node:events';
import { logger } from '../log.js';
import { RestartBackoff } from '../process/restart-backoff.js';
import type { JanusError } from './janus-error.js';
import { JanusSession, type JanusSessionOptions } from './janus-session.js';
import type { MountpointSpec } from './mountpoint-spec.js';
import { StreamingHandle, type CreatedMountpoint } from './streaming-handle.js';
import type { MountpointInfo } from './streaming-replies.js';

const log = logger('janus.gateway');

export interface JanusGatewayOptions {
  session: JanusSessionOptions;
  /** The streaming plugin's `admin_key`, when it has one. */
  adminKey?: string;
  /** Delays between reconnection attempts after Janus went away. */
  reconnect?: { minMs: number; maxMs: number };
}

/** A mountpoint of ours: always with an id, so that it can be found (and re-created) again. */
export type OwnMountpoint = MountpointSpec & { id: number };

interface GatewayEvents {
  /** Janus went away (killed, restarted, session timed out): every viewer it served is gone. */
  down: [JanusError];
  /** Reconnected, with every mountpoint re-created on the same id and ports. */
  up: [];
}

const DEFAULT_RECONNECT = { minMs: 500, maxMs: 10_000 };

/**
 * Streamgate's standing connection to one Janus: a session, a handle for provisioning, and the mountpoints
 * we created. When the session is gone it reconnects with backoff and re-creates every mountpoint with the
 * id and ports it had, so that RTP forwarders and RTCP latches carry on without knowing.
 */
export class JanusGateway extends EventEmitter<GatewayEvents> {
  private readonly mountpoints = new Map<number, { spec: OwnMountpoint; created: CreatedMountpoint }>();
  private readonly backoff: RestartBackoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly options: JanusGatewayOptions,
    private session: JanusSession,
    private admin: StreamingHandle,
  ) {
    super();
    const reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.backoff = new RestartBackoff(reconnect.minMs, reconnect.maxMs);
    this.backoff.started();
    this.watch(session);
  }

  /** Connects to Janus; rejects with a JanusError when it does not answer. */
  static async start(options: JanusGatewayOptions): Promise<JanusGateway> {
    const session = await JanusSession.connect(options.session);
    try {
      return new JanusGateway(options, session, await StreamingHandle.attach(session));
    } catch (err) {
      await session.destroy();
      throw err;
    }
  }

  get isUp(): boolean {
    return !this.session.isGone;
  }

  /** The current session's id (the admin API names a viewer by session and handle). */
  get sessionId(): number {
    return this.session.id;
  }

  /** Janus's own view of a mountpoint of ours: its viewers, and when RTP last arrived per stream. */
  info(id: number): Promise<MountpointInfo> {
    return this.admin.info(id);
  }

  /** Where Janus listens for the mountpoint's media, by id. */
  mountpoint(id: number): CreatedMountpoint | undefined {
    return this.mountpoints.get(id)?.created;
  }

  /**
   * Creates a mountpoint (replacing one Janus already has under that id: a leftover of an earlier run of
   * ours). Its ports are kept for re-creations.
   */
  async provision(spec: OwnMountpoint): Promise<CreatedMountpoint> {
    if ((await this.admin.list()).some((m) => m.id === spec.id)) {
      log.info({ id: spec.id }, 'replacing a mountpoint left over by an earlier run');
      await this.admin.destroy(spec.id);
    }
    const created = await this.admin.create(spec, this.options.adminKey);
    this.mountpoints.set(spec.id, { spec: withPorts(spec, created), created });
    return created;
  }

  async remove(id: number): Promise<void> {
    this.mountpoints.delete(id);
    await this.admin.destroy(id);
  }

  /** A new streaming handle on the current session, for one viewer. */
  viewerHandle(): Promise<StreamingHandle> {
    return StreamingHandle.attach(this.session);
  }

  /** Removes our mountpoints and the session; no reconnection after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    if (this.isUp) {
      for (const id of [...this.mountpoints.keys()]) {
        await this.remove(id).catch((err: unknown) => log.warn({ err, id }, 'could not destroy a mountpoint'));
      }
    }
    await this.session.destroy();
  }

  private watch(session: JanusSession): void {
    session.once('gone', (reason) => {
      if (this.stopped) return;
      this.backoff.ended();
      this.emit('down', reason);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    let session: JanusSession | undefined;
    try {
      session = await JanusSession.connect(this.options.session);
      const admin = await StreamingHandle.attach(session);
      for (const { spec } of this.mountpoints.values()) {
        // A Janus that only lost our session (a timeout) still has the mountpoints.
        if ((await admin.list()).some((m) => m.id === spec.id)) await admin.destroy(spec.id);
        await admin.create(spec, this.options.adminKey);
      }
      if (this.stopped) {
        await session.destroy();
        return;
      }
      this.session = session;
      this.admin = admin;
      this.backoff.started();
      this.watch(session);
      log.info({ mountpoints: this.mountpoints.size }, 'reconnected to Janus and re-created the mountpoints');
      this.emit('up');
    } catch (err) {
      await session?.destroy();
      if (this.stopped) return;
      log.warn({ err }, 'reconnecting to Janus failed; trying again');
      this.scheduleReconnect();
    }
  }
}

/** The spec with the ports Janus chose, so that a re-creation binds the same ones. */
function withPorts(spec: OwnMountpoint, created: CreatedMountpoint): OwnMountpoint {
  return {
    ...spec,
    ...(spec.video && created.video
      ? { video: { ...spec.video, port: created.video.port, ...(created.video.rtcpPort === undefined ? {} : { rtcpPort: created.video.rtcpPort }) } }
      : {}),
    ...(spec.audio && created.audio ? { audio: { port: created.audio.port } } : {}),
  };
}
