/** Error codes of PROTOCOL.md §5. The wire form is the string itself. */
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

/** WebSocket close codes the server uses (PROTOCOL.md §5). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_LARGE: 1009,
  TRY_AGAIN_LATER: 1013,
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
