import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import { JanusError, describeRequest } from './janus-error.js';
import type { JanusEvent } from './janus-replies.js';
import type { JanusSession } from './janus-session.js';
import { createRequest, type MountpointSpec } from './mountpoint-spec.js';
import {
  CreatedSchema,
  DestroyedSchema,
  InfoSchema,
  ListSchema,
  StatusEventSchema,
  type MountpointInfo,
  type MountpointSummary,
} from './streaming-replies.js';

export const STREAMING_PLUGIN = 'janus.plugin.streaming';

/** Where Janus listens for a created mountpoint's media. */
export interface CreatedMountpoint {
  id: number;
  video?: { port: number; rtcpPort?: number };
  audio?: { port: number };
}

export interface StreamingEvents {
  /** The viewer's PeerConnection is up (ICE and DTLS done). */
  webrtcup: [];
  /** Janus started or stopped sending this kind of media to the viewer. */
  media: [{ type: 'audio' | 'video'; receiving: boolean; mid?: string }];
  /** The viewer is losing packets (`uplink` false: on the way from Janus to the viewer). */
  slowlink: [{ uplink: boolean; mid?: string; lost?: number }];
  /** The PeerConnection was torn down (the viewer left, ICE/DTLS failed, or a hangup). */
  hangup: [string];
  /** The plugin's status for this viewer: `preparing`, `starting`, `started`, `stopped`… */
  status: [string];
}

/** A candidate as the browser gives it. */
export interface TrickleCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/**
 * One handle on Janus's streaming plugin. The same handle type provisions mountpoints (create, destroy, list,
 * info) and serves one viewer (watch → Janus's offer, start with the answer, trickle, hangup).
 */
export class StreamingHandle extends EventEmitter<StreamingEvents> {
  private constructor(
    private readonly session: JanusSession,
    readonly id: number,
  ) {
    super();
  }

  static async attach(session: JanusSession): Promise<StreamingHandle> {
    let handle: StreamingHandle | undefined;
    const id = await session.attach(STREAMING_PLUGIN, (event) => handle?.onEvent(event));
    handle = new StreamingHandle(session, id);
    return handle;
  }

  /** Creates an RTP mountpoint; resolves to its id and the ports Janus listens on. */
  async create(spec: MountpointSpec, adminKey?: string): Promise<CreatedMountpoint> {
    const body = createRequest(spec, adminKey);
    const data = await this.request('streaming create', body, CreatedSchema);
    const created: CreatedMountpoint = { id: data.stream.id };
    for (const stream of data.stream.ports) {
      if (stream.port === undefined) continue;
      if (stream.type === 'video') created.video = { port: stream.port, ...(stream.rtcp_port === undefined ? {} : { rtcpPort: stream.rtcp_port }) };
      if (stream.type === 'audio') created.audio = { port: stream.port };
    }
    return created;
  }

  async destroy(id: number, secret?: string): Promise<void> {
    await this.request('streaming destroy', { request: 'destroy', id, ...(secret ? { secret } : {}) }, DestroyedSchema);
  }

  async list(): Promise<MountpointSummary[]> {
    return (await this.request('streaming list', { request: 'list' }, ListSchema)).list;
  }

  /** Ports are only in the answer when the mountpoint has no secret or `secret` is given. */
  async info(id: number, secret?: string): Promise<MountpointInfo> {
    return (await this.request('streaming info', { request: 'info', id, ...(secret ? { secret } : {}) }, InfoSchema)).info;
  }

  /**
   * Asks to watch mountpoint `id`, only the streams of the given mids (all of them when absent or empty):
   * resolves to Janus's SDP offer, with Janus's ICE candidates in it (Janus half-trickles by default).
   */
  async watch(id: number, mids: readonly string[] = []): Promise<string> {
    const body = { request: 'watch', id, media: mids };
    const what = describeRequest('streaming watch', body);
    const reply = await this.session.message(this.id, 'streaming watch', body);
    if (reply.jsep?.type !== 'offer') throw new JanusError('transport', 0, 'the reply carries no SDP offer', what);
    return reply.jsep.sdp;
  }

  /** Gives Janus the viewer's answer; Janus starts sending once ICE and DTLS are up (`webrtcup`). */
  async start(answerSdp: string): Promise<void> {
    const reply = await this.session.message(this.id, 'streaming start', { request: 'start' }, { type: 'answer', sdp: answerSdp });
    parse(StatusEventSchema, reply.data, 'streaming start');
  }

  /** A viewer's ICE candidate; `null` says the viewer has no more. */
  trickle(candidate: TrickleCandidate | null): Promise<void> {
    return this.session.trickle(this.id, candidate);
  }

  hangup(): Promise<void> {
    return this.session.hangup(this.id);
  }

  detach(): Promise<void> {
    return this.session.detach(this.id);
  }

  private async request<T extends z.ZodType>(what: string, body: Record<string, unknown>, schema: T): Promise<z.infer<T>> {
    const reply = await this.session.message(this.id, what, body);
    return parse(schema, reply.data, describeRequest(what, body));
  }

  private onEvent(event: JanusEvent): void {
    switch (event.janus) {
      case 'webrtcup':
        this.emit('webrtcup');
        return;
      case 'media':
        this.emit('media', { type: event.type, receiving: event.receiving, ...(event.mid ? { mid: event.mid } : {}) });
        return;
      case 'slowlink':
        this.emit('slowlink', { uplink: event.uplink, ...(event.mid ? { mid: event.mid } : {}), ...(event.lost === undefined ? {} : { lost: event.lost }) });
        return;
      case 'hangup':
        this.emit('hangup', event.reason ?? 'no reason given');
        return;
      case 'event': {
        const status = StatusEventSchema.safeParse(event.plugindata.data);
        if (status.success && status.data.result) this.emit('status', status.data.result.status);
        return;
      }
    }
  }
}

function parse<T extends z.ZodType>(schema: T, data: unknown, request: string): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new JanusError('transport', 0, `unexpected plugin reply ${JSON.stringify(data).slice(0, 200)}`, request);
  return parsed.data;
}
