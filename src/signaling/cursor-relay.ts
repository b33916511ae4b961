import { CURSOR_CAPABILITY, type ServerMessageData } from '../protocol/index.js';
import type { CursorShape, CursorWatcher } from '../desktop/index.js';
import type { Session } from './session.js';
import type { SignalingContext } from './signaling-context.js';

/** The desktop's cursor watcher, as far as the relay uses it. */
export type CursorSource = Pick<CursorWatcher, 'current' | 'on'>;

/** Serials remembered per session before it starts over (a client's cache may be cleared as well). */
const MAX_SERIALS_REMEMBERED = 256;

/**
 * The desktop's cursor for clients that announced `cursor`: its picture when it changes (the PNG once per
 * serial per session, then the serial alone: the client keeps the pictures) and, to every such client not in
 * control, where the pointer is, so watchers see where the controller points. The controller draws the
 * picture as its own local cursor, which moves with its mouse without a round trip.
 */
export class CursorRelay {
  private readonly sent = new WeakMap<Session, Set<number>>();

  constructor(
    private readonly ctx: SignalingContext,
    private readonly source: CursorSource,
    private readonly controls: (session: Session) => boolean,
  ) {
    source.on('cursor', (shape) => {
      for (const session of this.receivers()) this.sendShape(session, shape);
    });
    source.on('position', ({ x, y }) => {
      for (const session of this.receivers()) if (!this.controls(session)) session.connection.send('pointer', { x, y });
    });
  }

  /** A client just welcomed: it gets the current picture at once. */
  welcome(session: Session): void {
    const shape = this.source.current;
    if (shape && session.capabilities.has(CURSOR_CAPABILITY)) this.sendShape(session, shape);
  }

  private *receivers(): Generator<Session> {
    for (const session of this.ctx.sessions.all()) {
      if (session.welcomed && session.capabilities.has(CURSOR_CAPABILITY) && this.ctx.sessions.of(session.connection) === session) yield session;
    }
  }

  private sendShape(session: Session, shape: CursorShape): void {
    let serials = this.sent.get(session);
    if (!serials || serials.size >= MAX_SERIALS_REMEMBERED) {
      serials = new Set();
      this.sent.set(session, serials);
    }
    const data: ServerMessageData<'cursor'> = { serial: shape.serial, width: shape.width, height: shape.height, xhot: shape.xhot, yhot: shape.yhot };
    if (!serials.has(shape.serial)) data.png = shape.png.toString('base64');
    serials.add(shape.serial);
    session.connection.send('cursor', data);
  }
}
