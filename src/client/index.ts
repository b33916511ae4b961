/**
 * Streamgate client SDK: `import { StreamgateClient } from 'streamgate/client'`.
 * Browser and Node (inject `WebSocket` from `ws`; for media, an RTCPeerConnection).
 */
export { StreamgateClient } from './client.js';
export { CLIENT_VERSION } from './version.js';
export type {
  ConnectionState,
  StateChange,
  StreamgateClientEvents,
  OfferOptions,
  WelcomeMessage,
  OfferMessage,
  IceCandidateMessage,
  PongMessage,
  StatsMessage,
  ControlMessage,
  ClipboardMessage,
  CursorMessage,
  PointerMessage,
  ParticipantsMessage,
  ControlRequestedMessage,
  ShareLinkMessage,
  ScreenMessage,
  ErrorMessage,
  WelcomeData,
  StatsData,
} from './events.js';
export {
  ConfigError,
  resolveOptions,
  type StreamgateClientOptions,
  type ResolvedOptions,
  type WebSocketLike,
  type WebSocketConstructor,
  type PeerConnectionConstructor,
  type ClientLogger,
} from './config.js';
export { StreamgateError, type ClientErrorCode } from './errors.js';
export { backoffDelay, backoffCeiling, shouldReconnect, RECONNECT_CLOSE_CODES, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { MessageQueue } from './queue.js';
export { MetricsRecorder, type ClientMetrics } from './metrics.js';
export { TypedEmitter } from './emitter.js';
export {
  clientToVideo,
  displayedRect,
  parseObjectFit,
  parseObjectPosition,
  CENTERED,
  type ObjectFit,
  type ObjectPosition,
  type Rect,
  type VideoPoint,
} from './coords.js';
export {
  InputController,
  WheelAccumulator,
  buttonFromDom,
  buttonsFromMask,
  modifiersOf,
  videoPointOf,
  type InputOptions,
  type InputSink,
  type KeyInput,
  type ModifierState,
} from './input.js';
export { summarizeStats, type MediaStatsSummary } from './media-stats.js';
export type { ErrorCode, PeerId, MouseButton, StatsSection, SessionConfig } from '../protocol/index.js';
export { decodableVideoCodecs, orderByDecodable, rejectedSections, type RejectedSection, type ReceiverCapabilities } from './codec-support.js';
