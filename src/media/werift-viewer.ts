import { describeSection, rejectedSections } from '../client/codec-support.js';
import { answerProblem, answeredCodec, candidateProblem, sdpMids } from './sdp-checks.js';
import { EventEmitter } from 'node:events';
import {
  MediaStream,
  RTCPeerConnection,
  RtcpPayloadSpecificFeedback,
  type RTCIceCandidate,
  type RtcpPacket,
} from 'werift';
import { logger, type Logger } from '../log.js';
import { INPUT_CHANNEL_LABEL, type IceCandidate } from '../protocol/index.js';
import { SerialQueue } from '../util/serial-queue.js';
import { offerCodecs } from './capabilities.js';
import { opusParameters, sharedTransportWideCC, videoCodecParameters } from './codec-parameters.js';
import type { RungName } from './congestion/ladder-policy.js';
import { isMdnsCandidate, sdpCandidates, withCandidates } from './ice-candidates.js';
import { peerIceConfig } from './ice-config.js';
import { closePeerConnection, resumeRestartedIce, withoutDefaultStun } from './peer-connection-lifecycle.js';
import { dtlsReadyWatcher } from './dtls-ready.js';
import { VideoJoin } from './video-join.js';
import { keepEarlyDtls } from './early-dtls.js';
import { changeEncoder, newLeg, release, type Encoding, type MediaLeg } from './media-leg.js';
import { attachAtKeyframe } from './rung-switch.js';
import type { RtpHeaderInfo } from './rtp-inspect.js';
import type { StreamPipeline, StreamSubscriber } from './stream-pipeline.js';
import { ViewerChannel } from './viewer-channel.js';
import { ViewerCursor } from './viewer-cursor.js';
import { ViewerRateControl } from './viewer-rate-control.js';
import { ViewerStatsCollector, type LegFigures } from './viewer-stats.js';
import {
  MediaError,
  type MediaSettings,
  type MediaViewer,
  type OfferRequest,
  type VideoCodec,
  type ViewerEvents,
} from './types.js';

/** What a viewer needs from the service that owns the encoders. */
export interface ViewerHost {
  readonly codecs: readonly VideoCodec[];
  readonly audio: boolean;
  readonly settings: MediaSettings;
  /** The shared encoders of the settings' source. */
  videoPipeline(codec: VideoCodec, rung?: RungName): Promise<StreamPipeline>;
  audioPipeline(): Promise<StreamPipeline>;
  /** Called once when the viewer closes. */
  released(viewer: WeriftViewer): void;
}

/** How long an offer waits for local candidates before it is sent; the rest are trickled. */
const GATHER_WAIT_MS = 300;
/** Seconds werift waits for STUN answers while gathering; an answer is applied only after gathering. */
const STUN_GATHER_TIMEOUT_S = 2;
/**
 * Remote candidates kept until the answer arrives. A browser gathers a handful per ICE generation; without a
 * bound, a peer that never answers could grow the queue for as long as it stays connected.
 */
const MAX_PENDING_CANDIDATES = 64;
/** RFC 5104 FMT of a Full Intra Request in a payload-specific feedback packet. */
const FIR_FMT = 4;

/** What setLeg needs to know of the offer it prepares. */
interface OfferContext {
  renegotiating: boolean;
  /** The offer's generation (offerGeneration once made) and its video codecs, in the client's order. */
  generation: number;
  offered: readonly VideoCodec[];
}

/**
 * A browser's WebRTC session, server-offered: werift sends the shared encoders' RTP on tracks of its own.
 * Operations run one at a time in call order, so signaling may fire them without waiting.
 */
export class WeriftViewer extends EventEmitter<ViewerEvents> implements MediaViewer {
  private pc: RTCPeerConnection | undefined;
  private readonly stream = new MediaStream({ id: 'streamgate' });
  private readonly legs: { video?: MediaLeg; audio?: MediaLeg } = {};
  private readonly queue = new SerialQueue();
  /** The latest offer's gathering (not a queue: offers are); an answer and close() wait for it to settle. */
  private gathering: Promise<unknown> = Promise.resolve();
  private offerOutstanding = false;
  private answerApplied = false;
  private pendingCandidates: IceCandidate[] = [];
  /** Local candidates gathered while an offer is being made: they go into its SDP. */
  private gatheredForOffer: string[] = [];
  /** Local candidates already in the offer's SDP are not trickled again. */
  private offeredCandidates = new Set<string>();
  private trickling = false;
  /** The offer generation the latest applied answer answered: a leg attached for a later offer stays held. */
  private answeredGeneration = 0;
  /**
   * Counts offers. Every offer reuses the peer connection, so a gathering that ends late must check that its
   * offer is still the latest before it says "end of candidates", which would otherwise end the newer generation.
   */
  private offerGeneration = 0;
  private readonly statsCollector = new ViewerStatsCollector();
  private readonly observedTransports = new WeakSet<object>();
  /** The first picture: its keyframe asked for at ICE, kept until DTLS (video-join.ts, dtls-ready.ts), not at `connected`. */
  private readonly join = new VideoJoin(
    () => this.legs.video?.pipeline,
    (packet, header) => this.legs.video && this.forward(this.legs.video, packet, header),
  );
  private readonly watchDtls = dtlsReadyWatcher(() => this.join.dtlsReady());
  private closed = false;
  private readonly log: Logger;
  /** Bandwidth estimate and pacing; absent with `--adaptive-bitrate off` (the fixed bitrate of before). */
  private readonly rate: ViewerRateControl | undefined;
  private readonly channel = new ViewerChannel((text) => this.emit('datachannel-message', text));
  readonly cursor = new ViewerCursor((text) => this.channel.send(text));

  constructor(
    readonly sessionId: string,
    private readonly host: ViewerHost,
  ) {
    super();
    this.log = logger('media.viewer', { session: sessionId });
    if (host.settings.adaptiveBitrate !== false) this.rate = new ViewerRateControl(host.settings.bitrate * 1000);
  }

  /** The video codec this viewer watches and its rate control, for the encoders' bitrate tick. */
  get videoRate(): { codec: VideoCodec; control: ViewerRateControl } | undefined {
    const codec = this.legs.video?.encoding;
    if (!codec || codec === 'OPUS' || !this.rate || this.pc?.connectionState !== 'connected') return undefined;
    return { codec, control: this.rate };
  }

  /** Moves the video to another rung's encoder; the current one feeds the viewer until the new one's keyframe. */
  moveToRung(rung: RungName): void {
    const leg = this.legs.video;
    const codec = leg?.encoding;
    if (!leg || !codec || codec === 'OPUS' || this.closed || rung === (leg.pending?.rung ?? leg.rung)) return;
    leg.pending?.detach?.();
    const pending: NonNullable<MediaLeg['pending']> = { rung };
    leg.pending = pending;
    const current = leg;
    void (async () => {
      const pipeline = await this.host.videoPipeline(codec, rung);
      const detach = await attachAtKeyframe(pipeline, codec, this.subscriberFor(current), () => {
        current.detach?.();
        Object.assign(current, { pipeline, detach: pending.detach, rung, pending: undefined });
      });
      // Superseded by another move, a codec change or close() while the encoder started.
      if (current.pending !== pending || this.closed || current.encoding !== codec) detach();
      else pending.detach = detach;
    })().catch((err: unknown) => {
      this.log.warn({ err, rung }, 'moving to another rung failed');
      if (current.pending === pending) current.pending = undefined;
    });
  }

  createOffer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }> {
    return this.serialized(() => this.offer(request));
  }

  applyAnswer(sdp: string): Promise<void> {
    return this.serialized(async () => {
      const pc = this.pc;
      if (!pc || !this.offerOutstanding) throw new MediaError('NO_ACTIVE_SESSION', 'there is no offer to answer');
      await this.gathering;
      const offered = pc.localDescription?.sdp ?? '';
      const problem = answerProblem(offered, sdp);
      if (problem) throw new MediaError('INVALID_SDP', 'the answer does not fit the offer', problem);
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
      } catch (err) {
        throw new MediaError('INVALID_SDP', 'the answer was rejected', (err as Error).message);
      }
      this.offerOutstanding = false;
      this.answerApplied = true;
      this.answeredGeneration = this.offerGeneration;
      resumeRestartedIce(pc, this.log);
      this.watchDtls(pc);
      for (const leg of [this.legs.video, this.legs.audio]) if (leg) leg.held = false;
      this.followAnsweredCodec(sdp);
      const queued = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of queued) await this.applyCandidate(pc, candidate);
      // A renegotiated viewer (codec change, restart) needs a picture to start from.
      if (pc.connectionState === 'connected') this.legs.video?.pipeline?.requestKeyframe();
      // Applied all the same: the sections the peer kept (audio, the input channel) work on their own.
      const rejected = rejectedSections(offered, sdp).filter((section) => this.legs[section.kind]?.encoding);
      const kinds = rejected.map((section) => section.kind).join(' and ');
      const details = `rejected (port 0): ${rejected.map(describeSection).join('; ')}`;
      if (rejected.length > 0) throw new MediaError('UNSUPPORTED_CODEC', `the answer rejected the ${kinds} section`, details);
    });
  }

  addRemoteCandidate(candidate: IceCandidate): Promise<void> {
    return this.serialized(async () => {
      const pc = this.pc;
      if (!pc) throw new MediaError('NO_ACTIVE_SESSION', 'there is no offer these candidates belong to');
      const problem = candidateProblem(candidate, sdpMids(pc.localDescription?.sdp ?? ''));
      if (problem) throw new MediaError('INVALID_SDP', 'the ICE candidate does not fit this session', problem);
      if (candidate.candidate && isMdnsCandidate(candidate.candidate)) return;
      if (this.answerApplied) {
        await this.applyCandidate(pc, candidate);
        return;
      }
      if (this.pendingCandidates.length >= MAX_PENDING_CANDIDATES) {
        throw new MediaError('INVALID_MESSAGE', 'too many ICE candidates before the answer', `max ${MAX_PENDING_CANDIDATES} candidates before the answer`);
      }
      this.pendingCandidates.push(candidate);
    });
  }

  async stats(): Promise<Record<string, unknown>> {
    const pc = this.pc;
    if (!pc) return { session_id: this.sessionId, connection_state: 'new' };
    const legs: LegFigures[] = [];
    for (const kind of ['video', 'audio'] as const) {
      const leg = this.legs[kind];
      if (!leg?.pipeline) continue;
      legs.push({
        kind,
        codec: leg.encoding ?? 'none',
        sender: leg.transceiver.sender,
        pipeline: leg.pipeline.stats(),
        jitterSeconds: leg.jitterSeconds,
        firCount: leg.firCount,
        congestion: kind === 'video' ? (this.rate?.figures() ?? null) : undefined,
      });
    }
    return this.statsCollector.collect(pc, this.sessionId, legs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rate?.close();
    for (const leg of [this.legs.video, this.legs.audio]) {
      if (!leg) continue;
      release(leg);
      leg.track.stop();
    }
    const pc = this.pc;
    this.pc = undefined;
    // werift binds the sockets of a gathering in progress after close() returns, and never frees them then:
    // close once the gathering (bounded by its STUN timeout) has settled. Found by the negotiation-churn test.
    if (pc) void this.gathering.then(() => closePeerConnection(pc)).catch((err: unknown) => this.log.warn({ err }, 'closing the peer connection failed'));
    this.host.released(this);
    this.emit('state', 'closed');
    this.removeAllListeners();
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    return this.queue.push(() => {
      if (this.closed) throw new MediaError('NO_ACTIVE_SESSION', 'the media session is closed');
      return operation();
    });
  }

  private async offer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }> {
    const offered = request.video ? offerCodecs(request.codecPreferences, this.host.codecs) : [];
    const codec = request.video ? offered[0] : null;
    if (codec === undefined) {
      throw new MediaError(
        'UNSUPPORTED_CODEC',
        'none of the requested video codecs is available',
        `requested ${request.codecPreferences.join(', ') || 'none'}; available ${this.host.codecs.join(', ') || 'none'}`,
      );
    }
    if (request.audio && !this.host.audio) throw new MediaError('MEDIA_UNAVAILABLE', 'audio encoding (Opus) is not available on this server');
    const renegotiating = this.pc !== undefined;
    const pc = (this.pc ??= this.createPeerConnection());
    // The offer needs only the transceivers (setLeg adds them before its first await): werift stamps its own SSRC
    // and payload type. Video starts while the offer is made and fails it if it cannot; audio is not waited for,
    // PulseAudio capture can start ~2 s after video (bench/notes/pageopen.md), and its RTP joins when it comes.
    const context: OfferContext = { renegotiating, generation: this.offerGeneration + 1, offered };
    // Audio's section first: the first section tags the BUNDLE group, and a browser that rejects the video (no
    // codec it decodes) would take the group's one transport, audio and the input channel with it, down.
    this.setLeg(pc, 'audio', request.audio ? 'OPUS' : undefined, context).catch((err: unknown) => this.encoderFailed('audio', err));
    const video = this.setLeg(pc, 'video', codec ?? undefined, context);
    const [failure, sdp] = await Promise.all([
      video.then(() => undefined, (err: unknown) => err),
      this.makeOffer(pc, renegotiating),
    ]);
    if (failure) throw failure;
    this.offerOutstanding = true;
    this.answerApplied = false;
    this.pendingCandidates = [];
    return { sdp, codec };
  }

  private createPeerConnection(): RTCPeerConnection {
    const { settings, codecs } = this.host;
    const twcc = this.rate !== undefined;
    const pc = new RTCPeerConnection({
      ...peerIceConfig(settings, this.sessionId),
      iceStunGatherTimeout: STUN_GATHER_TIMEOUT_S,
      // One transport for everything: one set of candidates to gather and to check.
      bundlePolicy: 'max-bundle',
      codecs: { video: codecs.map((codec) => videoCodecParameters(codec, twcc)), audio: [opusParameters(twcc)] },
      // Transport-wide sequence numbers on every packet: the browser's TWCC feedback is what the estimator reads.
      ...(twcc && { headerExtensions: sharedTransportWideCC() }),
    });
    pc.connectionStateChange.subscribe((state) => {
      this.emit('state', state);
      if (state === 'connected') {
        this.observeTransports(pc);
        if (!this.join.dtlsUp) this.legs.video?.pipeline?.requestKeyframe();
      }
    });
    pc.iceConnectionStateChange.subscribe((state) => state === 'connected' && this.join.iceConnected(this.legs.video?.encoding));
    pc.onIceCandidate.subscribe((candidate) => this.onLocalCandidate(candidate));
    this.channel.listen(pc.createDataChannel(INPUT_CHANNEL_LABEL));
    pc.onDataChannel.subscribe((channel) => {
      if (channel.label === INPUT_CHANNEL_LABEL) this.channel.listen(channel);
    });
    return pc;
  }

  private onLocalCandidate(candidate: RTCIceCandidate | undefined): void {
    if (!candidate) return;
    if (!this.trickling) {
      this.gatheredForOffer.push(candidate.candidate);
      return;
    }
    if (this.offeredCandidates.has(candidate.candidate)) return;
    this.emit('candidate', {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? '0',
      sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
      usernameFragment: candidate.usernameFragment ?? null,
    });
  }

  private async makeOffer(pc: RTCPeerConnection, iceRestart: boolean): Promise<string> {
    const generation = ++this.offerGeneration;
    this.trickling = false;
    this.gatheredForOffer = [];
    const offer = await pc.createOffer({ iceRestart });
    // A gathering started after close() binds sockets nothing would ever free.
    if (this.closed) throw new MediaError('NO_ACTIVE_SESSION', 'the media session is closed');
    withoutDefaultStun(pc, this.host.settings.iceServers);
    keepEarlyDtls(pc, (packets) => this.log.debug({ packets }, 'early DTLS packets handed to the DTLS server'));
    const gathering = pc.setLocalDescription(offer);
    this.gathering = gathering.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gathering, new Promise((resolve) => (timer = setTimeout(resolve, GATHER_WAIT_MS)))]);
    clearTimeout(timer);
    const snapshot = pc.localDescription?.sdp;
    if (!snapshot) throw new MediaError('MEDIA_UNAVAILABLE', 'the peer connection produced no offer');
    const sdp = withCandidates(snapshot, this.gatheredForOffer);
    this.offeredCandidates = sdpCandidates(sdp);
    this.trickling = true;
    void gathering.then(
      () => {
        // Gathering finished after the offer left: tell the peer there will be no more.
        if (!sdp.includes('a=end-of-candidates') && generation === this.offerGeneration) {
          this.emit('candidate', { candidate: '', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null });
        }
      },
      (err: unknown) => this.log.warn({ err }, 'gathering candidates failed'),
    );
    return sdp;
  }

  /**
   * Points a kind at the encoder it should get (or none): creates the transceiver the first time,
   * switches encoders on a codec change, and pauses the transceiver when the kind is no longer wanted.
   */
  private async setLeg(
    pc: RTCPeerConnection,
    kind: 'video' | 'audio',
    encoding: Encoding | undefined,
    context: OfferContext,
  ): Promise<void> {
    let leg = this.legs[kind];
    if (!encoding) {
      if (leg) {
        leg.transceiver.setDirection('inactive');
        await changeEncoder(leg, async (current) => release(current));
      }
      return;
    }
    if (!leg) {
      this.legs[kind] = leg = newLeg(pc, kind, this.stream);
    } else {
      leg.transceiver.setDirection('sendonly');
    }
    if (encoding !== 'OPUS') {
      // The requested codecs the server encodes, in the client's order: the answer picks one, and the encoder
      // started here (the first) is swapped for the answer's when it differs (followAnsweredCodec).
      const configured = pc.getConfiguration().codecs.video ?? [];
      const preferences = context.offered.flatMap((codec) => configured.filter((c) => c.mimeType.toUpperCase() === `VIDEO/${codec}`));
      if (preferences.length > 0) leg.transceiver.setCodecPreferences(preferences);
    }
    // Until the peer accepts the new codec, its packets would arrive under the old payload type. An encoder
    // slower than the answer (audio is not waited for) finds its offer answered already.
    await this.feed(leg, encoding, () => context.renegotiating && this.answeredGeneration < context.generation);
  }

  /** Feeds the leg from the encoder of `encoding`, once the leg's previous change has settled. */
  private feed(leg: MediaLeg, encoding: Encoding, held: () => boolean): Promise<void> {
    return changeEncoder(leg, async (current) => {
      if (current.pipeline && current.encoding === encoding) return;
      release(current);
      const pipeline = encoding === 'OPUS' ? await this.host.audioPipeline() : await this.host.videoPipeline(encoding);
      const detach = await pipeline.attach(this.subscriberFor(current));
      if (this.closed) detach();
      else Object.assign(current, { pipeline, detach, encoding, held: held() });
    });
  }

  /** The answer may pick another of the offered codecs than the first: the video then comes from that encoder. */
  private followAnsweredCodec(answer: string): void {
    const leg = this.legs.video;
    const mid = leg?.transceiver.mid;
    if (!leg?.encoding || mid == null) return;
    const answered = this.host.codecs.find((codec) => codec === answeredCodec(answer, mid));
    if (!answered || answered === leg.encoding) return;
    this.log.info({ offered: leg.encoding, answered }, 'the answer picked another video codec: switching encoders');
    // The sender now stamps the answered codec's payload type: the old encoder's packets would be misread.
    leg.held = true;
    this.feed(leg, answered, () => false).catch((err: unknown) => this.encoderFailed('video', err));
  }

  /** An encoder that did not start after the offer had left: the peer is told MEDIA_UNAVAILABLE. */
  private encoderFailed(kind: 'video' | 'audio', err: unknown): void {
    if (this.closed) return;
    this.log.warn({ err, kind }, 'an encoder did not start');
    this.emit('media-down', `${kind}: ${err instanceof MediaError ? (err.details ?? err.message) : String(err)}`);
  }

  private subscriberFor(leg: MediaLeg): StreamSubscriber {
    return {
      rtp: (packet, header) => this.forward(leg, packet, header),
      down: (reason) => this.setDown(leg, true, reason),
      up: () => this.setDown(leg, false),
      pointer: this.cursor,
    };
  }

  private forward(leg: MediaLeg, packet: Buffer, header: RtpHeaderInfo): void {
    if (leg.held || (leg === this.legs.video && this.join.held(packet, header))) return;
    // werift keeps sent packets for retransmission: each viewer gets its own copy (docs/architecture.md, "werift").
    const copy = Buffer.from(packet);
    const write = (rtp: Buffer): void => {
      // A restarted or switched encoder starts a new SSRC with its own numbering; werift then keeps the viewer's
      // stream continuous. Checked as the packet leaves the pacer: queued packets of the old SSRC keep theirs.
      if (leg.lastSsrc !== undefined && leg.lastSsrc !== header.ssrc) leg.track.notifySourceChanged({ sequenceNumber: 0, timestamp: 0 });
      leg.lastSsrc = header.ssrc;
      leg.track.writeRtp(rtp);
    };
    if (!this.rate) write(copy);
    else if (leg === this.legs.video) this.rate.sendPaced(copy, write);
    else this.rate.send(copy, write);
  }

  /** 'media-down' when the first leg goes down, 'media-up' when the last one is back. */
  private setDown(leg: MediaLeg, down: boolean, reason = ''): void {
    const before = this.isDown();
    leg.down = down;
    const after = this.isDown();
    if (!before && after) this.emit('media-down', reason);
    if (before && !after) this.emit('media-up');
  }

  private isDown(): boolean {
    return Boolean(this.legs.video?.down || this.legs.audio?.down);
  }

  private async applyCandidate(pc: RTCPeerConnection, candidate: IceCandidate): Promise<void> {
    try {
      await pc.addIceCandidate({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? undefined,
        sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
        usernameFragment: candidate.usernameFragment ?? undefined,
      });
    } catch (err) {
      // Typically a candidate of an ICE generation a restart has replaced: nothing to tell the peer.
      this.log.debug({ err, candidate: candidate.candidate }, 'remote candidate ignored');
    }
  }

  /** FIR is not routed to werift's senders (it names the media SSRC in its entries), so it is read here. */
  private observeTransports(pc: RTCPeerConnection): void {
    const senders = [this.legs.video, this.legs.audio].flatMap((leg) => (leg ? [leg.transceiver.sender] : []));
    // One bundle transport: its RTCP carries the feedback on every stream of this viewer.
    const bundle = pc.dtlsTransports[0];
    if (bundle) this.rate?.observe(bundle, this.legs.video?.transceiver.sender, senders);
    for (const transport of pc.dtlsTransports) {
      if (this.observedTransports.has(transport)) continue;
      this.observedTransports.add(transport);
      transport.onRtcp.subscribe((packet: RtcpPacket) => {
        if (!(packet instanceof RtcpPayloadSpecificFeedback) || packet.feedback.count !== FIR_FMT) return;
        const leg = this.legs.video;
        const entries = (packet.feedback as { fir?: { ssrc: number }[] }).fir ?? [];
        if (leg && entries.some((entry) => entry.ssrc === leg.transceiver.sender.ssrc)) {
          leg.firCount++;
          leg.pipeline?.requestKeyframe();
        }
      });
    }
  }
}
