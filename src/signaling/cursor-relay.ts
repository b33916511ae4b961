import { CURSOR_CAPABILITY, POINTER_CHANNEL_CAPABILITY, type ServerMessageData } from '../protocol/index.js';
import type { CursorShape, CursorWatcher } from '../desktop/index.js';
import type { MediaViewer } from '../media/types.js';
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
 *
 * Such a client's viewer is marked as drawing the cursor itself, so its encoder may leave the pointer out of
 * the picture (media's pointer policy); each `cursor` message says whether the client's picture shows it
 * (`in_picture`), and one is sent again when that changes. Only a desktop with a cursor watcher has a relay:
 * without one, nobody is marked and every picture keeps its pointer.
 *
 * `pointer` takes the peer's data channel when it is open and the client announced `pointer-channel`: it is
 * sent 20 times a second and only the latest counts, so it should not queue behind the WebSocket's TCP. `cursor`
 * stays on the WebSocket: it is rare, and a serial sent alone refers to a PNG sent before it, which one ordered
 * path keeps in order (a PNG may also outgrow a data channel message).
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
      for (const session of this.receivers()) {
        if (this.controls(session)) continue;
        const cursor = session.capabilities.has(POINTER_CHANNEL_CAPABILITY) ? session.viewer?.cursor : undefined;
        session.connection.sendVia(cursor && ((text) => cursor.send(text)), 'pointer', { x, y });
      }
    });
  }

  /** A client just welcomed (or took its session over, perhaps with other capabilities): it gets the current picture. */
  welcome(session: Session): void {
    this.mark(session);
    const shape = this.source.current;
    if (shape && session.capabilities.has(CURSOR_CAPABILITY)) this.sendShape(session, shape);
  }

  /** A session's media viewer was made: its picture may lose the pointer, and the client hears when it does. */
  viewer(session: Session, viewer: MediaViewer): void {
    this.mark(session);
    viewer.cursor?.on('in-picture', () => {
      const shape = this.source.current;
      if (shape && session.viewer === viewer && this.isReceiver(session)) this.sendShape(session, shape);
    });
  }

  private mark(session: Session): void {
    const cursor = session.viewer?.cursor;
    if (cursor) cursor.drawsCursor = session.capabilities.has(CURSOR_CAPABILITY);
  }

  private isReceiver(session: Session): boolean {
    return session.welcomed && session.capabilities.has(CURSOR_CAPABILITY) && this.ctx.sessions.of(session.connection) === session;
  }

  private *receivers(): Generator<Session> {
    for (const session of this.ctx.sessions.all()) if (this.isReceiver(session)) yield session;
  }

  private sendShape(session: Session, shape: CursorShape): void {
    let serials = this.sent.get(session);
    if (!serials || serials.size >= MAX_SERIALS_REMEMBERED) {
      serials = new Set();
      this.sent.set(session, serials);
    }
    const data: ServerMessageData<'cursor'> = {
      serial: shape.serial,
      width: shape.width,
      height: shape.height,
      xhot: shape.xhot,
      yhot: shape.yhot,
      in_picture: session.viewer?.cursor?.inPicture ?? true,
    };
    if (!serials.has(shape.serial)) data.png = shape.png.toString('base64');
    serials.add(shape.serial);
    session.connection.send('cursor', data);
  }
}
