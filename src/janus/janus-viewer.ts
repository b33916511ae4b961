import { EventEmitter } from 'node:events';
import { logger, type Logger } from '../log.js';
import { offerCodec } from '../media/capabilities.js';
import { isMdnsCandidate } from '../media/ice-candidates.js';
import { answerProblem, candidateProblem, sdpMids } from '../media/sdp-checks.js';
import { MediaError, type MediaViewer, type OfferRequest, type VideoCodec, type ViewerEvents } from '../media/types.js';
import type { IceCandidate } from '../protocol/index.js';
import { SerialQueue } from '../util/serial-queue.js';
import type { JanusError } from './janus-error.js';
import type { JanusTarget } from './janus-target.js';
import { AUDIO_MID, VIDEO_MID } from './mountpoint-spec.js';
import type { StreamingHandle, TrickleCandidate } from './streaming-handle.js';

/** Browser candidates kept until the answer arrives (as many as a werift viewer keeps). */
const MAX_PENDING_CANDIDATES = 64;

/**
 * A view-only viewer served by Janus's streaming plugin: Janus makes the offer (`watch`) and sends the media;
 * we relay the answer and candidates. It has no data channel, so input stays with werift viewers. Janus going
 * away is `media-down`; its coming back (mountpoints re-created) is `media-up`, which makes signaling ask for a
 * fresh offer on a new handle.
 */
export class JanusViewer extends EventEmitter<ViewerEvents> implements MediaViewer {
  private handle: StreamingHandle | undefined;
  /** The mountpoint this viewer counts on (audio-only viewers watch the first codec's, its audio only). */
  private joined: VideoCodec | undefined;
  private offerSdp: string | undefined;
  private offerOutstanding = false;
  private answered = false;
  /** The mids the current handle's offer carries. */
  private mids = '';
  /** The outstanding offer repeats the live connection's: its answer changes nothing on Janus's side. */
  private repeated = false;
  private pendingCandidates: IceCandidate[] = [];
  private state = 'new';
  private slowlinks = 0;
  private closed = false;
  private readonly queue = new SerialQueue();
  private readonly log: Logger;
  private readonly onDown = (err: JanusError): void => {
    this.handle = undefined;
    this.offerOutstanding = false;
    this.state = 'janus-gone';
    this.emit('media-down', `Janus at ${this.target.url} went away: ${err.message}`);
  };
  private readonly onUp = (): void => {
    this.emit('media-up');
  };

  constructor(
    readonly sessionId: string,
    readonly target: JanusTarget,
  ) {
    super();
    this.log = logger('janus.viewer', { session: sessionId, janus: target.url });
    target.viewers++;
    target.on('down', this.onDown);
    target.on('up', this.onUp);
  }

  createOffer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }> {
    return this.serialized(() => this.offer(request));
  }

  applyAnswer(sdp: string): Promise<void> {
    return this.serialized(async () => {
      const handle = this.handle;
      if (!handle || !this.offerOutstanding || this.offerSdp === undefined) throw new MediaError('NO_ACTIVE_SESSION', 'there is no offer to answer');
      const problem = answerProblem(this.offerSdp, sdp);
      if (problem) throw new MediaError('INVALID_SDP', 'the answer does not fit the offer', problem);
      this.offerOutstanding = false;
      if (this.repeated) return;
      try {
        await handle.start(sdp);
      } catch (err) {
        this.offerOutstanding = true;
        throw new MediaError('INVALID_SDP', 'Janus rejected the answer', (err as Error).message);
      }
      this.answered = true;
      const queued = this.pendingCandidates;
      this.pendingCandidates = [];
      for (const candidate of queued) await this.trickle(handle, candidate);
    });
  }

  addRemoteCandidate(candidate: IceCandidate): Promise<void> {
    return this.serialized(async () => {
      const handle = this.handle;
      if (!handle || this.offerSdp === undefined) throw new MediaError('NO_ACTIVE_SESSION', 'there is no offer these candidates belong to');
      const problem = candidateProblem(candidate, sdpMids(this.offerSdp));
      if (problem) throw new MediaError('INVALID_SDP', 'the ICE candidate does not fit this session', problem);
      // Janus runs with ignore_mdns: it would drop them anyway (docs/janus.md, "Configuring Janus").
      if (candidate.candidate && isMdnsCandidate(candidate.candidate)) return;
      if (this.answered) return this.trickle(handle, candidate);
      if (this.pendingCandidates.length >= MAX_PENDING_CANDIDATES) {
        throw new MediaError('INVALID_MESSAGE', 'too many ICE candidates before the answer', `max ${MAX_PENDING_CANDIDATES} candidates before the answer`);
      }
      this.pendingCandidates.push(candidate);
    });
  }

  /** Janus's own figures for this viewer (admin API) when it is configured, and what its events told us. */
  async stats(): Promise<Record<string, unknown>> {
    const figures: Record<string, unknown> = {
      session_id: this.sessionId,
      served_by: 'janus',
      janus: this.target.url,
      connection_state: this.state,
      codec: this.joined ?? null,
      slowlinks: this.slowlinks,
    };
    const { handle, target } = this;
    if (handle && target.admin && target.isUp) {
      try {
        figures.janus_sent = await target.admin.sentMedia(target.sessionId, handle.id);
      } catch (err) {
        figures.janus_sent_error = (err as Error).message;
      }
    }
    return figures;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.target.off('down', this.onDown);
    this.target.off('up', this.onUp);
    this.target.viewers--;
    this.dropHandle();
    if (this.joined) this.target.leave(this.joined);
    this.joined = undefined;
    this.emit('state', 'closed');
    this.removeAllListeners();
  }

  /** One step at a time, in call order, as a werift viewer's; none after close(). */
  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    return this.queue.push(() => (this.closed ? Promise.reject(new MediaError('NO_ACTIVE_SESSION', 'the media session is closed')) : operation()));
  }

  private async offer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }> {
    const { target } = this;
    const codec = offerCodec(request, target.codecs, target.audio);
    if (!target.isUp) throw new MediaError('MEDIA_UNAVAILABLE', `the Janus gateway ${target.url} is not reachable; it is being reconnected`);
    const mountpoint = codec ?? target.codecs[0];
    if (!mountpoint) throw new MediaError('MEDIA_UNAVAILABLE', 'no video encoder is available, and audio rides on a video mountpoint');
    const mids = [...(codec ? [VIDEO_MID] : []), ...(request.audio ? [AUDIO_MID] : [])];
    // The same request again on a live connection (a resumed client asking anew): Janus's next offer would carry
    // the same DTLS fingerprint, so the client would renegotiate its connection against a new Janus PeerConnection
    // that waits for a DTLS handshake which never comes. The current offer stands instead.
    if (this.handle && this.offerSdp !== undefined && this.state === 'connected' && this.joined === mountpoint && this.mids === mids.join()) {
      this.offerOutstanding = true;
      this.repeated = true;
      return { sdp: this.offerSdp, codec };
    }
    // Each offer is a new Janus PeerConnection (a new handle): Janus's streaming plugin has no renegotiation of ours to offer.
    this.dropHandle();
    if (this.joined !== mountpoint) {
      await target.join(mountpoint);
      if (this.joined) target.leave(this.joined);
      this.joined = mountpoint;
    }
    const handle = await target.viewerHandle();
    this.handle = handle;
    this.listen(handle, mountpoint);
    let sdp: string;
    try {
      sdp = await handle.watch(target.mountpointId(mountpoint), mids);
    } catch (err) {
      throw new MediaError('MEDIA_UNAVAILABLE', `Janus ${target.url} gave no offer`, (err as Error).message);
    }
    if (this.closed) {
      this.dropHandle();
      throw new MediaError('NO_ACTIVE_SESSION', 'the media session is closed');
    }
    this.offerSdp = sdp;
    this.mids = mids.join();
    this.offerOutstanding = true;
    this.repeated = false;
    this.answered = false;
    this.pendingCandidates = [];
    return { sdp, codec };
  }

  private listen(handle: StreamingHandle, codec: VideoCodec): void {
    const setState = (state: string): void => {
      if (this.handle !== handle) return;
      this.state = state;
      this.emit('state', state);
    };
    handle.on('webrtcup', () => {
      setState('connected');
      this.target.requestKeyframe(codec);
    });
    handle.on('hangup', (reason) => {
      this.log.info({ reason }, 'Janus hung up');
      setState('closed');
    });
    handle.on('slowlink', () => this.slowlinks++);
  }

  private async trickle(handle: StreamingHandle, candidate: IceCandidate): Promise<void> {
    const trickled: TrickleCandidate | null = candidate.candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null }
      : null;
    // Like a candidate the browser's peer connection refuses: the session goes on with the others.
    await handle.trickle(trickled).catch((err: unknown) => this.log.warn({ err }, 'Janus refused a candidate'));
  }

  /** Ends the current Janus PeerConnection, if any; a Janus that is gone needs no telling. */
  private dropHandle(): void {
    const handle = this.handle;
    this.handle = undefined;
    this.offerSdp = undefined;
    if (!handle || !this.target.isUp) return;
    handle.removeAllListeners();
    void handle
      .hangup()
      .then(() => handle.detach())
      .catch((err: unknown) => this.log.debug({ err }, 'could not end the Janus handle'));
  }
}
