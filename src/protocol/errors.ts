/** The protocol's error codes (docs/protocol.md, "Errors"). The wire form is the string itself. */
export const ERROR_CODES = [
  'INVALID_JSON',
  'INVALID_MESSAGE',
  'UNKNOWN_MESSAGE_TYPE',
  'NOT_REGISTERED',
  'MESSAGE_TOO_LARGE',
  'RATE_LIMITED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NO_ACTIVE_SESSION',
  'INVALID_SDP',
  'UNSUPPORTED_CODEC',
  'MEDIA_UNAVAILABLE',
  'SERVER_BUSY',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one table of WebSocket close codes: those the server closes with, and those it and the client SDK read
 * on a close (docs/protocol.md, "Close codes"). Imports nothing, so the browser SDK takes it through
 * constants.ts without zod.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Received only: the peer's close frame carried no code. */
  NO_STATUS: 1005,
  /** Received only: the connection ended without a close frame (crash, network, refused). */
  ABNORMAL: 1006,
  POLICY: 1008,
  TOO_LARGE: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
  LIVENESS_TIMEOUT: 4000,
  REPLACED: 4001,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The errors after which the server closes the connection, and with which code. */
export const CLOSING_ERRORS: Partial<Record<ErrorCode, CloseCode>> = {
  MESSAGE_TOO_LARGE: CloseCode.TOO_LARGE,
  UNAUTHORIZED: CloseCode.POLICY,
  SERVER_BUSY: CloseCode.TRY_AGAIN_LATER,
};
