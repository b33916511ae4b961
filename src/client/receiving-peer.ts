/**
 * The receiving side of the stream: one RTCPeerConnection answering the server's offers (one at a
 * time, in order), the remote candidates that arrive before their offer is applied, the local ones held
 * until the answer is sent, the "input" data channel the server offers, and the <video> elements that
 * play the remote stream.
 */
import type { ClientMessageData, IceCandidate } from '../protocol/index.js';
import { INPUT_CHANNEL_LABEL } from '../protocol/constants.js';
import { SerialQueue } from '../util/serial-queue.js';
import { rejectedSections, type RejectedSection } from './codec-support.js';
import type { ClientContext } from './context.js';
import type { EarlyAnswer } from './early-session.js';
import type { StreamgateError } from './errors.js';
import type { WelcomeData } from './events.js';
import { summarizeStats, type MediaStatsSummary } from './media-stats.js';

/** The part of the signaling channel the peer sends through. */
export interface PeerSignaling {
  readonly registered: boolean;
  readonly welcome: WelcomeData | null;
  sendNow<T extends 'answer' | 'ice-candidate'>(type: T, data: ClientMessageData<T>): void;
}

/** What the peer tells the facade. */
export interface PeerHooks {
  /** The connection failed: ask the server for a new offer (an ICE restart) if the stream is still wanted; true if asked. */
  restartIce(): boolean;
  /** connectionState changed (already emitted as `peer-state`). */
  connectionChanged(): void;
  /** The offer was answered. */
  answered(): void;
  /** The offer could not be answered, even with a new peer connection. */
  failed(error: StreamgateError): void;
  /** The browser refused sections of the offer (no codec it can decode): the answer was not sent, the peer connection is closed. */
  refused(sections: RejectedSection[]): void;
  /** A text message from the server on the input data channel (`pointer`: docs/protocol.md, "Cursor"). */
  channelText(text: string): void;
}

/** The four candidate fields, the same on the wire and in RTCIceCandidateInit. */
export function candidateFields(c: IceCandidate | RTCIceCandidate): IceCandidate & RTCIceCandidateInit {
  return { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null, usernameFragment: c.usernameFragment ?? null };
}

/** The `a=fingerprint` of an SDP: a different one means a different remote peer connection (not a renegotiation). */
function fingerprintOf(sdp: string): string | null {
  return /^a=fingerprint:(.+)$/m.exec(sdp)?.[1]?.trim() ?? null;
}

export class ReceivingPeer {
  private pc: RTCPeerConnection | null = null;
  private remoteFingerprint: string | null = null;
  private remoteReady = false;
  private pendingRemoteCandidates: RTCIceCandidateInit[] = [];
  private heldLocalCandidates: RTCIceCandidate[] | null = null;
  private readonly negotiation = new SerialQueue();
  private inputChannel: RTCDataChannel | null = null;
  private remoteStream: MediaStream | null = null;
  private readonly videos = new Set<HTMLVideoElement>();
  private lastMediaStats: MediaStatsSummary | null = null;
  private restartedAfterFailure = false;

  constructor(
    private readonly context: ClientContext,
    private readonly signaling: PeerSignaling,
    private readonly hooks: PeerHooks,
  ) {
    if (context.options.video) this.videos.add(context.options.video);
  }

  get connection(): RTCPeerConnection | null {
    return this.pc;
  }

  get connected(): boolean {
    return this.pc?.connectionState === 'connected';
  }

  /** The remote stream (every track received), or null. */
  get stream(): MediaStream | null {
    return this.remoteStream;
  }

  get inputChannelOpen(): boolean {
    return this.inputChannel?.readyState === 'open';
  }

  /** Sends `message` on the input data channel; false when it is not open or refused it. */
  sendInput(message: object): boolean {
    const ch = this.inputChannel;
    if (!ch || ch.readyState !== 'open') return false;
    try {
      ch.send(JSON.stringify(message));
      return true;
    } catch (err) {
      this.context.options.logger.debug('streamgate: data channel send failed, using the WebSocket', err);
      return false;
    }
  }

  /** Plays the stream in `video` (now, and after every renegotiation); returns a function that detaches it. */
  attachVideo(video: HTMLVideoElement): () => void {
    this.videos.add(video);
    if (this.remoteStream) this.showStream(video);
    return () => {
      this.videos.delete(video);
      if (video.srcObject === this.remoteStream) video.srcObject = null;
    };
  }

  /** The browser's own view of the stream, or null without a peer connection. */
  async mediaStats(): Promise<MediaStatsSummary | null> {
    const pc = this.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const summary = summarizeStats(report.values(), this.lastMediaStats);
    if (summary) this.lastMediaStats = summary;
    return summary;
  }

  /** Offers are handled one at a time, in order; the one a boot script answered is adopted (early-session.ts). */
  handleOffer(sdp: string, messageId?: string): void {
    const early = this.context.options.early?.answered;
    if (early && early.offerMessageId === messageId && this.pc === null) {
      this.negotiation.push(async () => this.adopt(early, sdp)).catch(() => {});
      return;
    }
    this.negotiation.push(() => this.negotiate(sdp)).catch(() => {});
  }

  handleRemoteCandidate(c: IceCandidate): void {
    const init = candidateFields(c);
    const pc = this.pc;
    // Until the offer is applied, candidates wait (they may even overtake the offer's handling).
    if (!pc || !this.remoteReady) {
      this.pendingRemoteCandidates.push(init);
      return;
    }
    void this.addRemoteCandidate(pc, init);
  }

  closeInputChannel(): void {
    if (!this.inputChannel) return;
    this.inputChannel = null;
    this.context.emit('input-channel', false);
  }

  close(): void {
    const pc = this.pc;
    this.pc = null;
    this.remoteReady = false;
    this.pendingRemoteCandidates = [];
    this.heldLocalCandidates = null;
    this.closeInputChannel();
    if (pc) {
      try {
        pc.close();
      } catch {
        /* already closed */
      }
      this.context.emit('peer-state', 'closed');
    }
  }

  private showStream(video: HTMLVideoElement): void {
    if (video.srcObject !== this.remoteStream) video.srcObject = this.remoteStream;
    const played = video.play?.();
    if (played && typeof played.catch === 'function') played.catch(() => {});
  }

  private create(): RTCPeerConnection {
    const { options, emit } = this.context;
    const config: RTCConfiguration = {
      ...options.rtcConfig,
      iceServers: options.rtcConfig.iceServers ?? (this.signaling.welcome?.session_config.ice_servers as RTCIceServer[] | undefined) ?? [],
    };
    const pc = new options.RTCPeerConnection!(config);
    this.use(pc);
    return pc;
  }

  /**
   * Carries on with the peer connection a boot script made and answered `sdp` with: its tracks play in the
   * videos, its input channel is this client's, what it does from now on is handled here. Its local
   * candidates so far were sent by the boot.
   */
  private adopt(early: EarlyAnswer, sdp: string): void {
    const { pc } = early;
    this.use(pc);
    this.remoteFingerprint = fingerprintOf(sdp);
    this.remoteReady = true;
    this.remoteStream = early.stream ?? (early.tracks.length > 0 && typeof MediaStream === 'function' ? new MediaStream(early.tracks) : null);
    for (const v of this.videos) this.showStream(v);
    for (const track of early.tracks) this.context.emit('track', { track, stream: this.remoteStream });
    for (const channel of early.channels) this.takeChannel(pc, channel);
    this.hooks.answered();
    this.context.emit('peer-state', pc.connectionState);
    this.hooks.connectionChanged();
  }

  /** `pc` becomes this client's peer connection: its events are handled here from now on. */
  private use(pc: RTCPeerConnection): void {
    const { emit } = this.context;
    this.pc = pc;
    this.remoteStream = null; // a new peer connection's tracks make a new stream (old tracks have ended)
    this.remoteFingerprint = null;
    this.remoteReady = false;
    this.pendingRemoteCandidates = [];
    this.restartedAfterFailure = false;
    this.lastMediaStats = null;
    pc.onicecandidate = (ev) => {
      if (this.pc !== pc || !ev.candidate || !ev.candidate.candidate) return;
      if (this.heldLocalCandidates) this.heldLocalCandidates.push(ev.candidate);
      else this.sendLocalCandidate(ev.candidate);
    };
    pc.ontrack = (ev) => {
      if (this.pc !== pc) return;
      // werift's offer may lack a=msid: then `streams` is empty and the stream is built here.
      let stream = ev.streams?.[0] ?? this.remoteStream;
      if (!stream && typeof MediaStream === 'function') stream = new MediaStream();
      if (stream && !stream.getTracks().includes(ev.track)) stream.addTrack(ev.track);
      this.remoteStream = stream ?? null;
      for (const v of this.videos) this.showStream(v);
      emit('track', { track: ev.track, stream: this.remoteStream });
    };
    pc.ondatachannel = (ev) => this.takeChannel(pc, ev.channel);
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      const s = pc.connectionState;
      emit('peer-state', s);
      if (s === 'connected') this.restartedAfterFailure = false;
      // One ICE restart per failure: a new offer from the server.
      if (s === 'failed' && !this.restartedAfterFailure && this.hooks.restartIce()) this.restartedAfterFailure = true;
      this.hooks.connectionChanged();
    };
  }

  /** The server's "input" channel on `pc` becomes this client's input channel. */
  private takeChannel(pc: RTCPeerConnection, ch: RTCDataChannel): void {
    if (this.pc !== pc || ch.label !== INPUT_CHANNEL_LABEL) return;
    this.inputChannel = ch;
    const opened = (): void => {
      if (this.inputChannel === ch) this.context.emit('input-channel', true);
    };
    if (ch.readyState === 'open') opened();
    ch.onopen = opened;
    ch.onclose = () => {
      if (this.inputChannel === ch) this.closeInputChannel();
    };
    ch.onmessage = (m: MessageEvent<unknown>) => {
      if (this.pc === pc && typeof m.data === 'string') this.hooks.channelText(m.data);
    };
  }

  private sendLocalCandidate(c: RTCIceCandidate): void {
    // Candidates belong to this connection's negotiation: never queued for a later one.
    if (this.signaling.registered) this.signaling.sendNow('ice-candidate', { candidate: candidateFields(c) });
  }

  private async negotiate(sdp: string): Promise<void> {
    if (!this.context.options.RTCPeerConnection) {
      this.context.localError('NOT_SUPPORTED', 'Got an offer but have no RTCPeerConnection (pass one as the `RTCPeerConnection` option).');
      return;
    }
    const fingerprint = fingerprintOf(sdp);
    const old = this.pc;
    const reusable =
      old !== null &&
      old.signalingState !== 'closed' &&
      old.connectionState !== 'failed' &&
      old.connectionState !== 'closed' &&
      fingerprint !== null &&
      fingerprint === this.remoteFingerprint;
    if (old && !reusable) this.close();
    try {
      await this.answer(reusable ? old! : this.create(), sdp, fingerprint);
    } catch (err) {
      if (reusable) {
        // The renegotiation was refused: start over with a fresh peer connection.
        this.context.options.logger.warn('streamgate: renegotiation failed, starting a new peer connection', err);
        this.close();
        try {
          await this.answer(this.create(), sdp, fingerprint);
          return;
        } catch (err2) {
          err = err2;
        }
      }
      this.close();
      const message = `Could not answer the server's offer: ${err instanceof Error ? err.message : String(err)}`;
      this.hooks.failed(this.context.localError('NEGOTIATION_FAILED', message, err));
    }
  }

  private async answer(pc: RTCPeerConnection, sdp: string, fingerprint: string | null): Promise<void> {
    this.remoteReady = false;
    this.heldLocalCandidates = [];
    await pc.setRemoteDescription({ type: 'offer', sdp });
    if (this.pc !== pc) return;
    this.remoteFingerprint = fingerprint;
    this.remoteReady = true;
    for (const c of this.pendingRemoteCandidates.splice(0)) await this.addRemoteCandidate(pc, c);
    const answer = await pc.createAnswer();
    // An answer refusing a section would kill the transport it shares (BUNDLE), and with it a stream
    // already playing: the offer is rolled back instead, and another one asked for.
    const refused = rejectedSections(sdp, answer.sdp ?? '');
    if (refused.length > 0) {
      await this.rollBack(pc);
      this.hooks.refused(refused);
      return;
    }
    await pc.setLocalDescription(answer);
    if (this.pc !== pc) return;
    const local = pc.localDescription ?? answer;
    this.signaling.sendNow('answer', { sdp: { type: 'answer', sdp: local.sdp ?? '' } });
    const held = this.heldLocalCandidates ?? [];
    this.heldLocalCandidates = null;
    for (const c of held) this.sendLocalCandidate(c);
    this.hooks.answered();
  }

  /** Back to the last agreed state (the stream playing before this offer keeps playing); a stack that cannot roll back starts afresh. */
  private async rollBack(pc: RTCPeerConnection): Promise<void> {
    this.heldLocalCandidates = null;
    try {
      await pc.setRemoteDescription({ type: 'rollback' });
    } catch (err) {
      this.context.options.logger.debug('streamgate: rollback refused, closing the peer connection', err);
      if (this.pc === pc) this.close();
    }
  }

  private async addRemoteCandidate(pc: RTCPeerConnection, c: RTCIceCandidateInit): Promise<void> {
    try {
      await pc.addIceCandidate(c);
    } catch (err) {
      // A candidate of an older ICE generation, or end-of-candidates some stacks refuse: not fatal.
      this.context.options.logger.debug('streamgate: remote candidate not added', err);
    }
  }
}
