import { EventEmitter } from 'node:events';
import { MediaStream, MediaStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { logger, type Logger } from '../log.js';
import { SerialQueue } from '../util/serial-queue.js';
import { opusParameters, sharedTransportWideCC, videoCodecParameters } from './codec-parameters.js';
import type { RungName } from './congestion/ladder-policy.js';
import { isMdnsCandidate } from './ice-candidates.js';
import { peerIceConfig } from './ice-config.js';
import { closePeerConnection, withoutDefaultStun } from './peer-connection-lifecycle.js';
import { attachAtKeyframe } from './rung-switch.js';
import type { StreamPipeline, StreamSubscriber } from './stream-pipeline.js';
import { writeToTrack } from './track-writer.js';
import { MediaError, type AnsweringViewer, type AnsweringViewerEvents, type VideoCodec } from './types.js';
import { ViewerRateControl } from './viewer-rate-control.js';
import type { ViewerHost } from './werift-viewer.js';
import { OfferProblem, readOffer } from './whep-offer.js';

/** Seconds werift waits for STUN answers while gathering: the answer leaves with every candidate (no server trickle). */
const STUN_GATHER_TIMEOUT_S = 2;
/** A viewer whose ICE never connects, or stays disconnected this long, is closed: nobody would DELETE it. */
const CONNECT_TIMEOUT_MS = 30_000;

/** What a WHEP viewer needs from the service that owns the encoders: a werift viewer's host, released by its own type. */
export type AnsweringViewerHost = Omit<ViewerHost, 'released'> & { released(viewer: WhepViewer): void };

interface Leg {
  transceiver: RTCRtpTransceiver;
  track: MediaStreamTrack;
  encoding: VideoCodec | 'OPUS';
  pipeline?: StreamPipeline;
  detach?: () => void;
  lastSsrc?: number;
  rung: RungName;
  pending?: { rung: RungName; detach?: () => void };
}

/**
 * A WHEP viewer: the client offers, werift answers receive-only for the client (send-only here), fed by
 * the same shared encoders as every other viewer. It has no data channel: WHEP viewers never send input.
 */
export class WhepViewer extends EventEmitter<AnsweringViewerEvents> implements AnsweringViewer {
  private pc: RTCPeerConnection | undefined;
  private readonly stream = new MediaStream({ id: 'streamgate' });
  private readonly legs: { video?: Leg; audio?: Leg } = {};
  private readonly queue = new SerialQueue();
  private gathering: Promise<unknown> = Promise.resolve();
  private connectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly rate: ViewerRateControl | undefined;
  private offeredUfrag: string | undefined;

  constructor(
    readonly sessionId: string,
    private readonly host: AnsweringViewerHost,
  ) {
    super();
    this.log = logger('media.whep', { session: sessionId });
    if (host.settings.adaptiveBitrate !== false) this.rate = new ViewerRateControl(host.settings.bitrate * 1000);
  }

  get iceUfrag(): string | undefined {
    return this.offeredUfrag;
  }

  /** As WeriftViewer's: what the encoders' bitrate tick reads. */
  get videoRate(): { codec: VideoCodec; control: ViewerRateControl } | undefined {
    const codec = this.legs.video?.encoding;
    if (!codec || codec === 'OPUS' || !this.rate || this.pc?.connectionState !== 'connected') return undefined;
    return { codec, control: this.rate };
  }

  answer(offerSdp: string): Promise<{ sdp: string; codec: VideoCodec | null }> {
    return this.serialized(async () => {
      if (this.pc) throw new MediaError('INVALID_SDP', 'this WHEP session already has an offer');
      let offered;
      try {
        offered = readOffer(offerSdp, this.host.codecs);
      } catch (err) {
        if (err instanceof OfferProblem) throw new MediaError('INVALID_SDP', `the offer is not usable: ${err.message}`);
        throw err;
      }
      if (offered.video === 'none-acceptable') {
        throw new MediaError(
          'UNSUPPORTED_CODEC',
          'none of the offered video codecs can be sent',
          `this server sends ${this.host.codecs.map((c) => (c === 'H264' ? 'H264 (packetization-mode=1, profile 42e01f)' : c)).join(', ') || 'no video'}`,
        );
      }
      const codec = offered.video;
      const audio = offered.audio && this.host.audio;
      if (!codec && !audio) throw new MediaError('UNSUPPORTED_CODEC', 'the offer asks for nothing this server sends (video H264/VP8, audio Opus)');
      this.offeredUfrag = offered.iceUfrag;
      const pc = (this.pc = this.createPeerConnection(codec, offered.h264ProfileLevelId));
      // Transceivers made before the offer is applied take its m-lines of their kind instead of new receive-only ones.
      const attached = Promise.all([codec ? this.addLeg(pc, 'video', codec) : undefined, audio ? this.addLeg(pc, 'audio', 'OPUS') : undefined]);
      // Awaited after the offer is applied; a failure before then is still reported from there.
      attached.catch(() => undefined);
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      } catch (err) {
        throw new MediaError('INVALID_SDP', 'the offer was rejected', (err as Error).message);
      }
      await attached;
      const answer = await pc.createAnswer();
      if (this.closed) throw new MediaError('NO_ACTIVE_SESSION', 'the WHEP session was closed');
      withoutDefaultStun(pc, this.host.settings.iceServers);
      const gathering = pc.setLocalDescription(answer);
      this.gathering = gathering.catch(() => undefined);
      await gathering;
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new MediaError('MEDIA_UNAVAILABLE', 'the peer connection produced no answer');
      this.armConnectTimer();
      return { sdp, codec };
    });
  }

  /** Trickled candidates of the client (RFC 8840 fragments, already split into candidate lines). */
  addRemoteCandidates(candidates: readonly { candidate: string; sdpMid: string | undefined }[]): Promise<void> {
    return this.serialized(async () => {
      const pc = this.pc;
      if (!pc) throw new MediaError('NO_ACTIVE_SESSION', 'there is no offer these candidates belong to');
      for (const { candidate, sdpMid } of candidates) {
        // werift cannot resolve mDNS names; the browser's checks reach us anyway (peer-reflexive).
        if (isMdnsCandidate(candidate)) continue;
        await pc.addIceCandidate({ candidate, ...(sdpMid !== undefined ? { sdpMid } : { sdpMLineIndex: 0 }) }).catch((err: unknown) => {
          this.log.debug({ err, candidate }, 'remote candidate ignored');
        });
      }
    });
  }

  /** As WeriftViewer's: moves the video to another rung's encoder at that encoder's keyframe. */
  moveToRung(rung: RungName): void {
    const leg = this.legs.video;
    if (!leg || leg.encoding === 'OPUS' || this.closed || rung === (leg.pending?.rung ?? leg.rung)) return;
    const codec = leg.encoding;
    leg.pending?.detach?.();
    const pending: NonNullable<Leg['pending']> = { rung };
    leg.pending = pending;
    void (async () => {
      const pipeline = await this.host.videoPipeline(codec, rung);
      const detach = await attachAtKeyframe(pipeline, codec, this.subscriberFor(leg), () => {
        leg.detach?.();
        Object.assign(leg, { pipeline, detach: pending.detach, rung, pending: undefined });
      });
      if (leg.pending !== pending || this.closed) detach();
      else pending.detach = detach;
    })().catch((err: unknown) => {
      this.log.warn({ err, rung }, 'moving to another rung failed');
      if (leg.pending === pending) leg.pending = undefined;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.rate?.close();
    for (const leg of [this.legs.video, this.legs.audio]) {
      if (!leg) continue;
      leg.detach?.();
      leg.pending?.detach?.();
      leg.track.stop();
    }
    const pc = this.pc;
    this.pc = undefined;
    // As WeriftViewer's close(): a gathering still running binds sockets after close() unless waited for.
    if (pc) void this.gathering.then(() => closePeerConnection(pc)).catch((err: unknown) => this.log.warn({ err }, 'closing the peer connection failed'));
    this.host.released(this);
    this.emit('closed');
    this.removeAllListeners();
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    return this.queue.push(() => {
      if (this.closed) throw new MediaError('NO_ACTIVE_SESSION', 'the WHEP session is closed');
      return operation();
    });
  }

  private createPeerConnection(codec: VideoCodec | null, h264ProfileLevelId: string | undefined): RTCPeerConnection {
    const { settings } = this.host;
    const twcc = this.rate !== undefined;
    const video = codec ? videoCodecParameters(codec, twcc) : undefined;
    if (video && h264ProfileLevelId) video.parameters = video.parameters?.replace(/profile-level-id=[0-9a-f]{6}/i, `profile-level-id=${h264ProfileLevelId}`);
    const pc = new RTCPeerConnection({
      ...peerIceConfig(settings, this.sessionId),
      iceStunGatherTimeout: STUN_GATHER_TIMEOUT_S,
      bundlePolicy: 'max-bundle',
      // Only the codec chosen from the offer: werift answers with the offer's payload type for it.
      codecs: { video: video ? [video] : [], audio: [opusParameters(twcc)] },
      ...(twcc && { headerExtensions: sharedTransportWideCC() }),
    });
    pc.connectionStateChange.subscribe((state) => {
      this.log.debug({ state }, 'WHEP peer connection state');
      if (state === 'connected') {
        clearTimeout(this.connectTimer);
        const video = this.legs.video;
        const senders = [video, this.legs.audio].flatMap((leg) => (leg ? [leg.transceiver.sender] : []));
        const bundle = pc.dtlsTransports[0];
        if (bundle) this.rate?.observe(bundle, video?.transceiver.sender, senders);
        video?.pipeline?.requestKeyframe();
      } else if (state === 'disconnected') {
        this.armConnectTimer();
      } else if (state === 'failed' || state === 'closed') {
        this.log.info({ state }, 'WHEP viewer ends: its ICE connection is gone');
        this.close();
      }
    });
    return pc;
  }

  private armConnectTimer(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      this.log.info({ timeoutMs: CONNECT_TIMEOUT_MS }, 'WHEP viewer ends: not connected in time');
      this.close();
    }, CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
  }

  private async addLeg(pc: RTCPeerConnection, kind: 'video' | 'audio', encoding: VideoCodec | 'OPUS'): Promise<void> {
    const track = new MediaStreamTrack({ kind });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [this.stream] });
    const leg: Leg = { transceiver, track, encoding, rung: 'full' };
    this.legs[kind] = leg;
    if (kind === 'video') transceiver.sender.onPictureLossIndication.subscribe(() => leg.pipeline?.requestKeyframe());
    const pipeline = encoding === 'OPUS' ? await this.host.audioPipeline() : await this.host.videoPipeline(encoding);
    const detach = await pipeline.attach(this.subscriberFor(leg));
    if (this.closed) detach();
    else Object.assign(leg, { pipeline, detach });
  }

  private subscriberFor(leg: Leg): StreamSubscriber {
    return {
      rtp: (packet, header) => writeToTrack(leg, packet, header, this.rate, leg === this.legs.video),
      down: (reason) => this.log.info({ kind: leg.track.kind, reason }, 'an encoder of this WHEP viewer is down'),
      up: () => this.log.info({ kind: leg.track.kind }, 'an encoder of this WHEP viewer is back'),
    };
  }
}
