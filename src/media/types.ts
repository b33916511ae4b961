import type { EventEmitter } from 'node:events';
import type { PulseCapture } from '../audio/pulse-capture.js';
import type { TurnRestOptions } from '../auth/turn-credentials.js';
import type { IceCandidate, IceServer } from '../protocol/index.js';

/**
 * The contract between signaling and media. Signaling owns the WebSocket and the protocol;
 * media owns GStreamer, RTP fan-out and the werift peer connections. Nothing here knows about JSON.
 */

export type VideoCodec = 'H264' | 'VP8';

/**
 * What a media source is: a test pattern, or an X display (an existing one, or the virtual desktop's) with
 * its sound where there is a PulseAudio server; an X source without `audio` streams silence on its audio track.
 */
export type SourceSpec =
  | { kind: 'test' }
  | { kind: 'x11'; display: string; audio?: PulseCapture };

export interface MediaSettings {
  source: SourceSpec;
  framerate: number;
  /** kbit/s of the video encoder; with adaptive bitrate, the ceiling its viewers' estimates may lower it from. */
  bitrate: number;
  /** Follow each viewer's bandwidth estimate (default); false keeps every encoder at `bitrate`, unpaced. */
  adaptiveBitrate?: boolean;
  /**
   * With adaptive bitrate, one encoder per rung of the ladder (a slow viewer moves down alone; the default)
   * instead of one per codec following the slowest viewer (false; docs/rate-control.md, "The ladder").
   */
  rungEncoders?: boolean;
  /** Video size of the `test` source; X sources stream the screen's own size. */
  width: number;
  height: number;
  /**
   * Host addresses werift offers in addition to the machine's own interfaces, which it finds itself but
   * without loopback: e.g. `127.0.0.1` for a browser on the same host (tests).
   */
  iceAddresses: string[];
  iceServers: IceServer[];
  /** Mint TURN REST credentials for the server's own peers (--turn-secret; src/media/ice-config.ts). */
  turnRest?: TurnRestOptions;
  /** A 1:1 NAT's address of this host (--public-ip), offered as one more host candidate. */
  publicAddress?: string;
  /** The UDP ports ICE binds (--udp-ports), inclusive. */
  udpPortRange?: readonly [number, number];
}

export interface OfferRequest {
  video: boolean;
  audio: boolean;
  /** Client's preference order, e.g. ["H264","VP8","VP9"]; the first available wins. */
  codecPreferences: string[];
}

/** Thrown by media with the protocol error code signaling should send. */
export class MediaError extends Error {
  constructor(
    readonly code: 'UNSUPPORTED_CODEC' | 'MEDIA_UNAVAILABLE' | 'INVALID_SDP' | 'NO_ACTIVE_SESSION' | 'INVALID_MESSAGE',
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface ViewerEvents {
  /** A local ICE candidate gathered after the offer was sent (trickle). An empty candidate string = end. */
  candidate: [IceCandidate];
  /** RTCPeerConnection connection state changes. */
  state: [string];
  /** A pipeline serving this viewer went down (the string says why); signaling tells the peer MEDIA_UNAVAILABLE. */
  'media-down': [string];
  /** The pipeline is back: signaling sends a fresh offer (renegotiation). */
  'media-up': [];
  /** An input message arrived on the data channel (raw JSON text); signaling validates and routes it. */
  'datachannel-message': [string];
}

export interface ViewerCursorEvents {
  /** The picture this viewer watches now shows the desktop's pointer (true) or leaves it out (false). */
  'in-picture': [boolean];
}

/** A viewer's side of the desktop's cursor (docs/protocol.md, "Cursor"). */
export interface ViewerCursorLink extends EventEmitter<ViewerCursorEvents> {
  /**
   * The client draws the cursor itself (it announced `cursor`): the picture leaves the pointer out while every
   * viewer of its encoder does. False (the default) keeps it in.
   */
  drawsCursor: boolean;
  /** Whether the picture this viewer watches shows the pointer; true until an encoder says otherwise. */
  readonly inPicture: boolean;
  /** Sends a server message's text on the viewer's open `input` data channel; false when none is open. */
  send(text: string): boolean;
}

/** One viewer's WebRTC peer connection. Created per signaling session, closed when it ends. */
export interface MediaViewer extends EventEmitter<ViewerEvents> {
  /** Absent where the viewer cannot take the pointer out of its picture (a relayed one): it stays in. */
  readonly cursor?: ViewerCursorLink;
  /** First call creates the peer connection; later calls renegotiate with an ICE restart. Resolves to the offer SDP with candidates gathered so far. */
  createOffer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }>;
  /**
   * Throws MediaError NO_ACTIVE_SESSION (no offer outstanding) or INVALID_SDP; UNSUPPORTED_CODEC (naming the
   * section) when the answer rejects a requested section, after applying it: the sections kept go on working.
   */
  applyAnswer(sdp: string): Promise<void>;
  /**
   * Queued until the answer is applied; `.local` mDNS candidates are dropped, and so is a candidate the peer
   * connection refuses (e.g. one of an ICE generation a restart replaced). Throws NO_ACTIVE_SESSION without an
   * offer, INVALID_SDP for a malformed candidate line or one naming a media section the offer does not have,
   * INVALID_MESSAGE when 64 candidates already wait for the answer.
   */
  addRemoteCandidate(candidate: IceCandidate): Promise<void>;
  /** Figures for the `webrtc` section of `stats`. */
  stats(): Promise<Record<string, unknown>>;
  close(): void;
}

export interface AnsweringViewerEvents {
  /** Once, when the viewer ends: DELETE, ICE failure or timeout, or the service stopping. */
  closed: [];
}

/** A WHEP viewer (docs/protocol.md, "WHEP"): the client offers, media answers; receive-only for the client, no input. */
export interface AnsweringViewer extends EventEmitter<AnsweringViewerEvents> {
  /** The client's ICE username fragment from its offer: a PATCH with another one asks for an ICE restart. */
  readonly iceUfrag: string | undefined;
  /** Resolves to the answer with every local candidate. Throws MediaError INVALID_SDP, UNSUPPORTED_CODEC or MEDIA_UNAVAILABLE. */
  answer(offerSdp: string): Promise<{ sdp: string; codec: VideoCodec | null }>;
  /** Trickled client candidates (`candidate:` lines without `a=`); mDNS ones and those werift refuses are dropped. */
  addRemoteCandidates(candidates: readonly { candidate: string; sdpMid: string | undefined }[]): Promise<void>;
  close(): void;
}

export interface MediaService {
  readonly codecs: readonly VideoCodec[];
  /** `viewOnly`: the session can never send input, so it may be served by a media relay (src/janus). */
  createViewer(sessionId: string, options?: { viewOnly: boolean }): MediaViewer;
  /** A WHEP viewer fed by the same encoders; absent where the service cannot answer offers. */
  createAnsweringViewer?(sessionId: string): AnsweringViewer;
  /** Figures for the `system` section of `stats` (pipeline state, encoder figures). */
  pipelineStats(): Record<string, unknown>;
  /** Stops every pipeline and peer connection; resolves when every child process has exited. */
  stop(): Promise<void>;
}
