/**
 * Credentials of the HTTP endpoints that act for a viewer (/files/, /clipboard): those of /ws when auth is on
 * (Bearer token), and always a live signaling session, named by its welcome's session_id and resume_token in
 * the `X-Streamgate-Session` and `X-Streamgate-Resume-Token` headers. The session's desktop is the one served,
 * and the one a `desktops` claim must grant. Custom headers also keep other sites' pages out: a browser sends
 * them cross-origin only after a CORS preflight, which this server never grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, type Principal } from '../auth/authenticator.js';
import { grantFor } from '../desktops/desktop-grant.js';
import type { DesktopSession } from '../desktops/local-desktops.js';
import { sendJson } from './json-response.js';

export const SESSION_HEADER = 'x-streamgate-session';
export const RESUME_TOKEN_HEADER = 'x-streamgate-resume-token';

export interface SessionCredentialsOptions {
  /** The request's bearer credentials; resolves to OPEN_PRINCIPAL when auth is off. */
  authenticate: (req: IncomingMessage) => Promise<Principal | AuthError>;
  /** The live session of this id and resume token on any of this node's desktops, or null. */
  sessionAccess: (sessionId: string, token: string) => DesktopSession | null;
}

/** A refusal answered as JSON `{error: reason, message}` with `status`. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The session the request acts for, which must have the control role (token and session both); else a refusal (401, 403). */
export async function controlSession(req: IncomingMessage, options: SessionCredentialsOptions, what: string): Promise<DesktopSession> {
  const credentials = await options.authenticate(req);
  if (credentials instanceof AuthError) throw new HttpRefusal(401, 'UNAUTHORIZED', credentials.message);
  const sessionId = header(req, SESSION_HEADER);
  const token = header(req, RESUME_TOKEN_HEADER);
  if (!sessionId || !token) {
    throw new HttpRefusal(401, 'UNAUTHORIZED', `${what} need a live session: send its session_id and resume_token in ${SESSION_HEADER} and ${RESUME_TOKEN_HEADER}.`);
  }
  const session = options.sessionAccess(sessionId, token);
  if (!session) throw new HttpRefusal(401, 'UNAUTHORIZED', 'No live session has this session id and resume token.');
  // With a `desktops` claim, the role the token has on the session's desktop is the one that counts.
  const grant = grantFor(credentials, session.desktop);
  if (grant instanceof AuthError) throw new HttpRefusal(401, 'UNAUTHORIZED', grant.message);
  if (grant.role !== 'control' || session.principal.role !== 'control') {
    throw new HttpRefusal(403, 'FORBIDDEN', `${what} are for peers with the control role; these credentials allow viewing only.`);
  }
  return session;
}

/**
 * Answers a failed request: an HttpRefusal, or an engine's error that `asRefusal` turns into one; anything
 * else is a bug and is rethrown. Once the answer started, the connection is cut instead.
 */
export function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown, asRefusal: (err: unknown) => HttpRefusal | null): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const refusal = err instanceof HttpRefusal ? err : asRefusal(err);
  if (!refusal) throw err;
  // A body refused before it was all read: the connection closes instead of draining the rest.
  sendJson(res, refusal.status, { error: refusal.reason, message: refusal.message }, req.method === 'PUT' && !req.complete);
}
