/** What a StreamgateClient tells its listeners: connection states, server messages, media and input events. */
import type { ServerMessage, ServerMessageData } from '../protocol/index.js';
import type { StreamgateError } from './errors.js';

/**
 * idle: before connect() · connecting: opening the socket, waiting for welcome · open: registered ·
 * live: registered and the peer connection is connected · reconnecting: waiting `delayMs` before the
 * next attempt · closed: stopped (disconnect(), a close that must not be retried, or retries exhausted).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'live' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** reconnecting: ms until the next attempt, and when (Date.now() clock). */
  delayMs?: number;
  retryAt?: number;
  /** reconnecting/connecting: attempt number within this outage (1-based). */
  attempt?: number;
  /** The WebSocket close that led here. */
  closeCode?: number;
  closeReason?: string;
  /** closed: why, when it was not a deliberate disconnect(). */
  error?: StreamgateError;
}

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
export type WelcomeMessage = Msg<'welcome'>;
export type OfferMessage = Msg<'offer'>;
export type IceCandidateMessage = Msg<'ice-candidate'>;
export type PongMessage = Msg<'pong'>;
export type StatsMessage = Msg<'stats'>;
export type ControlMessage = Msg<'control'>;
export type ErrorMessage = Msg<'error'>;
export type ClipboardMessage = Msg<'clipboard'>;
export type CursorMessage = Msg<'cursor'>;
export type PointerMessage = Msg<'pointer'>;
export type ParticipantsMessage = Msg<'participants'>;
export type ControlRequestedMessage = Msg<'control-requested'>;
export type ShareLinkMessage = Msg<'share-link'>;
export type ScreenMessage = Msg<'screen'>;
export type WelcomeData = ServerMessageData<'welcome'>;
export type StatsData = ServerMessageData<'stats'>;

export interface StreamgateClientEvents {
  state: StateChange;
  /** Every server message, after its typed event. */
  message: ServerMessage;
  welcome: WelcomeMessage;
  offer: OfferMessage;
  'ice-candidate': IceCandidateMessage;
  pong: PongMessage;
  stats: StatsMessage;
  control: ControlMessage;
  /** Extension (capability `clipboard`): the desktop's clipboard changed. */
  clipboard: ClipboardMessage;
  /** Extension (capability `cursor`): the desktop's cursor picture changed. */
  cursor: CursorMessage;
  /** Extension (capability `cursor`): where the desktop's pointer is (to peers not in control). */
  pointer: PointerMessage;
  /** Extension (capability `participants`): who is connected and who holds control. */
  participants: ParticipantsMessage;
  /** Extension (capability `participants`), while in control: another peer asked for control. */
  'control-requested': ControlRequestedMessage;
  /** Extension: the answer to `create-share-link`. */
  'share-link': ShareLinkMessage;
  /** Extension (capability `resize`): the desktop's size and whether the controller may change it. */
  screen: ScreenMessage;
  /** A server `error` message (source 'server') or a local failure (source 'client'). */
  error: StreamgateError;
  /** A measured ping round trip. */
  latency: { rtt: number; sequence: number };
  /** A remote track arrived; `stream` holds every remote track so far. */
  track: { track: MediaStreamTrack; stream: MediaStream | null };
  /** RTCPeerConnection.connectionState changes. */
  'peer-state': RTCPeerConnectionState;
  /** The input data channel opened (true) or closed (false). */
  'input-channel': boolean;
  /** The WebSocket closed. */
  close: { code: number; reason: string; willReconnect: boolean };
}

export interface OfferOptions {
  constraints?: { video?: boolean; audio?: boolean };
  codecPreferences?: string[];
}
