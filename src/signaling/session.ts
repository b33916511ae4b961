import { randomBytes, randomUUID } from 'node:crypto';
import { sameSecret } from '../auth/same-secret.js';
import type { PeerId } from '../protocol/index.js';
import type { MediaViewer, OfferRequest } from '../media/types.js';
import type { PeerInput } from '../input/types.js';
import type { Connection } from './connection.js';

/**
 * What survives a take-over: the media peer connection, input state, and the identity a client can resume.
 * Keyed by its own id, never by the client's peer_id (many Go seed clients share "498081").
 */
export class Session {
  readonly id = randomUUID();
  readonly resumeToken = randomBytes(24).toString('base64url');
  readonly createdAt = Date.now();
  viewer: MediaViewer | null = null;
  input: PeerInput | null = null;
  /** The last request-offer, replayed when the pipeline comes back. */
  lastOffer: OfferRequest | null = null;
  /** Set once its first welcome went out: notifications (e.g. `control`) never precede the welcome. */
  welcomed = false;
  /** Set once the session is freed: work queued before must not bring media back to life. */
  disposed = false;
  /** Set while the session has no connection and waits for a resume (`--resume-grace`). */
  expiry: NodeJS.Timeout | null = null;
  /**
   * The client announced `mouse-press-release` in hello: `mouse-click` `down` and `up` are separate.
   * Without it, `down` is a whole click: the JS seed sends `action:"down"` on every click and never `up`.
   */
  pressRelease = false;
  /** Negotiations of one session run one at a time, in arrival order. */
  negotiation: Promise<void> = Promise.resolve();

  constructor(
    public connection: Connection,
    public peerId: PeerId | undefined,
  ) {}

  tokenMatches(token: string): boolean {
    return sameSecret(token, this.resumeToken);
  }

  /** Runs `task` after every earlier negotiation step of this session. */
  serialize(task: () => Promise<void>): Promise<void> {
    const next = this.negotiation.then(task, task);
    this.negotiation = next.catch(() => undefined);
    return next;
  }
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  create(connection: Connection, peerId: PeerId | undefined): Session {
    const session = new Session(connection, peerId);
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id and token, or undefined: take-over needs both. */
  findResumable(sessionId: string, token: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    return session?.tokenMatches(token) ? session : undefined;
  }

  delete(session: Session): void {
    this.sessions.delete(session.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }
}
