import type { ErrorCode } from '../protocol/index.js';

/**
 * A failure a handler reports to the peer: sent as `error` with this code; the connection's fate follows the
 * code (docs/protocol.md, "Errors"). These are expected outcomes (a view-only peer's input, a message before
 * hello), not bugs, so no stack is captured: under load the stack walk was 12 % of the server's CPU (BENCHMARKS.md §5).
 */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly details: string | undefined;

  constructor(code: ErrorCode, message: string, details?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'ProtocolError';
    this.code = code;
    this.details = details;
  }
}
