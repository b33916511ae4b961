import type { ErrorCode } from '../protocol/index.js';

/** A failure a handler reports to the peer: sent as `error` with this code; the connection's fate follows PROTOCOL.md §5. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
