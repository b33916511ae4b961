import { createHmac } from 'node:crypto';

/**
 * TURN REST credentials (draft-uberti-behave-turn-rest-00), what coturn checks with `use-auth-secret` and
 * `static-auth-secret`: the username is `<expiry unix seconds>:<user>`, the password base64(HMAC-SHA1(secret,
 * username)). coturn recomputes the password from the username, so no user database is shared, and it refuses
 * a username whose expiry has passed (401), on allocation and on every refresh.
 */

/** The shape of an RTCIceServer, without importing the protocol (auth imports nothing of ours). */
export interface IceServerEntry {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface TurnRestOptions {
  /** coturn's static-auth-secret. */
  secret: string;
  /** How long minted credentials stay valid, ms. */
  ttlMs: number;
}

export function turnRestCredential(secret: string, user: string, expiresAtMs: number): { username: string; credential: string } {
  const username = `${Math.floor(expiresAtMs / 1000)}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

const isTurnUrl = (url: string): boolean => /^turns?:/i.test(url);

/** Whether this entry gets minted credentials: it names a turn:/turns: URL and carries no username of its own. */
export function takesTurnRestCredential(server: IceServerEntry): boolean {
  return server.username === undefined && [server.urls].flat().some(isTurnUrl);
}

/**
 * The configured servers as one user gets them: each TURN entry without its own username gets fresh REST
 * credentials for `user` (a session id: coturn logs it with each allocation); the rest pass unchanged.
 */
export function withTurnCredentials(servers: readonly IceServerEntry[], turn: TurnRestOptions | undefined, user: string, now = Date.now()): IceServerEntry[] {
  if (!turn) return [...servers];
  // coturn's user names stop at the first ':' for the expiry; one in the user part would only confuse its log.
  const safeUser = user.replace(/:/g, '_');
  return servers.map((server) =>
    takesTurnRestCredential(server) ? { ...server, ...turnRestCredential(turn.secret, safeUser, now + turn.ttlMs) } : server,
  );
}
