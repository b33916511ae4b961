/** The Janus core's code for a session it does not have (janus/apierror.h). */
export const JANUS_SESSION_NOT_FOUND = 458;
/** The streaming plugin's code for a mountpoint id it does not have (janus_streaming.c). */
export const STREAMING_NO_SUCH_MOUNTPOINT = 455;

/**
 * Who refused: the Janus core (its codes 4xx of apierror.h), a plugin (its own 4xx codes, which overlap the
 * core's: the streaming plugin's 458 is "can't switch", the core's is "no such session"), or nobody because
 * no answer came (connection refused, timeout, a reply that is not Janus's).
 */
export type JanusErrorOrigin = 'core' | 'plugin' | 'transport';

/**
 * A request Janus refused or never answered: Janus's own code and text, and what was asked (without its
 * secrets), so that a log line alone tells what went wrong.
 */
export class JanusError extends Error {
  constructor(
    readonly origin: JanusErrorOrigin,
    /** Janus's error code; 0 for a transport failure. */
    readonly code: number,
    readonly reason: string,
    /** The request, e.g. `streaming create {"type":"rtp",…}`. */
    readonly request: string,
  ) {
    super(`${request} failed: ${origin === 'transport' ? '' : `Janus ${origin} error ${code}: `}${reason}`);
    this.name = 'JanusError';
  }

  /** The session (or Janus itself) is gone: Janus restarted, was killed, or timed the session out. */
  get sessionGone(): boolean {
    return this.origin === 'transport' || (this.origin === 'core' && this.code === JANUS_SESSION_NOT_FOUND);
  }
}

const SECRETS = new Set(['apisecret', 'admin_key', 'secret', 'pin']);

/** A request as it goes into an error message: JSON without its secrets, cut to a readable length. */
export function describeRequest(what: string, body?: Record<string, unknown>): string {
  if (!body) return what;
  const shown = JSON.stringify(body, (key, value: unknown) => (SECRETS.has(key) ? '…' : value));
  return `${what} ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`;
}
