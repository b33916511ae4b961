import type { ErrorCode } from '../protocol/index.js';

/**
 * Failures the client detects itself (the server's own codes are {@link ErrorCode}; one of them,
 * UNSUPPORTED_CODEC, is also raised here, with source 'client', when the browser refuses the offered codec).
 */
export type ClientErrorCode =
  /** The WebSocket could not be opened or closed before `welcome`, and the client gave up. */
  | 'CONNECTION_FAILED'
  /** The connection closed while a request waited for its answer. */
  | 'DISCONNECTED'
  /** No answer within `requestTimeoutMs`. */
  | 'TIMEOUT'
  /** Offer/answer or ICE failed in the local RTCPeerConnection. */
  | 'NEGOTIATION_FAILED'
  /** The server sent something that is not a protocol message. */
  | 'INVALID_SERVER_MESSAGE'
  /** This environment lacks something (e.g. no RTCPeerConnection in Node without one injected). */
  | 'NOT_SUPPORTED'
  /** The message is larger than the server's `max_message_size`: not sent. */
  | 'MESSAGE_TOO_LARGE';

/** Every error the client reports: from the server (`source: 'server'`) or found locally. */
export class StreamgateError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly source: 'server' | 'client',
    readonly details?: string,
    /** The `message_id` of our message the server's error answers. */
    readonly replyTo?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamgateError';
  }
}
