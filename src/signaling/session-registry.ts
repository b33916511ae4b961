import { CloseCode, type PeerId } from '../protocol/index.js';
import type { Logger } from '../log.js';
import type { Connection } from './connection.js';
import type { InputControl } from './input-control.js';
import { Session } from './session.js';

/**
 * Closes after which nobody comes back: a clean close handshake from the client (normal, going away, or no
 * code at all), or a refusal by policy. Dropped connections may resume.
 */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.GOING_AWAY,
  CloseCode.NO_STATUS,
  CloseCode.POLICY,
  CloseCode.TOO_LARGE,
  CloseCode.TRY_AGAIN_LATER,
]);

export interface SessionRegistryOptions {
  control: InputControl;
  /** ms a detached session waits for a resume (`--resume-grace`); 0 frees it at once. */
  resumeGrace: number;
  log: Logger;
}

/**
 * Every session, which connection each is attached to, and its lifecycle: opened by a `hello`, taken over
 * by a `hello` carrying its id and resume token, detached when its connection closes (then waiting for a
 * resume, or freed at once after a final close), and disposed. Connections know nothing of sessions: the
 * registry is keyed by them.
 */
export class SessionRegistry {
  private readonly byId = new Map<string, Session>();
  private readonly byConnection = new Map<Connection, Session>();
  /** Detached sessions waiting for a resume, each with the timer that frees it. */
  private readonly waiting = new Map<Session, NodeJS.Timeout>();
  private closing = false;

  constructor(private readonly options: SessionRegistryOptions) {}

  /** The session attached to `connection`, if it said hello. */
  of(connection: Connection): Session | undefined {
    return this.byConnection.get(connection);
  }

  /** A new session for `connection`; control credentials queue up for input control (view-only never do). */
  open(connection: Connection, peerId: PeerId | undefined): Session {
    const session = new Session(connection, peerId);
    this.byId.set(session.id, session);
    this.byConnection.set(connection, session);
    connection.log.info({ session: session.id, peer_id: peerId }, 'session registered');
    if (connection.principal.role === 'control') this.options.control.join(session.id);
    return session;
  }

  /**
   * Take-over: moves the live session with this id and token onto `connection` and closes the connection it
   * had with REPLACED. Undefined when id and token do not name one; the caller opens a new session then.
   */
  resume(connection: Connection, sessionId: string, token: string, peerId: PeerId | undefined): Session | undefined {
    const session = this.byId.get(sessionId);
    if (!session?.tokenMatches(token)) return undefined;
    const older = session.connection;
    session.input?.releaseAll();
    this.byConnection.delete(older);
    this.stopWaiting(session);
    session.connection = connection;
    session.peerId = peerId;
    this.byConnection.set(connection, session);
    // It left control when its connection dropped: it queues up again (and controls if nobody does).
    if (connection.principal.role === 'control') this.options.control.join(session.id);
    else this.options.control.leave(session.id);
    older.close(CloseCode.REPLACED, 'replaced by a newer connection of this session');
    this.options.log.info({ session: session.id, from: older.id, to: connection.id }, 'session resumed');
    return session;
  }

  /**
   * `connection` closed with `closeCode`: nothing its session held stays pressed and it leaves input control
   * at once; media waits `resumeGrace` for a resume, unless nobody will come back.
   */
  detach(connection: Connection, closeCode: number): void {
    const session = this.byConnection.get(connection);
    if (!session) return;
    this.byConnection.delete(connection);
    session.input?.releaseAll();
    this.options.control.leave(session.id);
    const { resumeGrace } = this.options;
    if (resumeGrace === 0 || this.closing || FINAL_CLOSE_CODES.has(closeCode)) {
      this.dispose(session);
      return;
    }
    const timer = setTimeout(() => this.dispose(session), resumeGrace);
    timer.unref();
    this.waiting.set(session, timer);
  }

  /** The server is going: sessions waiting for a resume are freed now, and every later detach frees at once. */
  shutdown(): void {
    this.closing = true;
    for (const session of [...this.waiting.keys()]) this.dispose(session);
  }

  /** The session with this id, when `token` is its resume token and it is attached to a connection now. */
  attached(sessionId: string, token: string): Session | undefined {
    const session = this.byId.get(sessionId);
    if (!session?.tokenMatches(token) || this.byConnection.get(session.connection) !== session) return undefined;
    return session;
  }

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<Session> {
    return this.byId.values();
  }

  private dispose(session: Session): void {
    this.stopWaiting(session);
    session.dispose();
    this.byId.delete(session.id);
    this.options.log.debug({ session: session.id }, 'session disposed');
  }

  private stopWaiting(session: Session): void {
    clearTimeout(this.waiting.get(session));
    this.waiting.delete(session);
  }
}
