import { RESIZE_CAPABILITY } from '../protocol/index.js';
import type { Session } from './session.js';
import type { ScreenControl, SignalingContext } from './signaling-context.js';

/**
 * The desktop's size for clients that announced `resize`: after their welcome and on every change, with
 * whether the controller may change it. The picture follows by itself (the encoders restart at the new size
 * and every viewer is offered the stream again); this only tells clients, e.g. to fit their window.
 */
export class ScreenRelay {
  constructor(
    private readonly ctx: SignalingContext,
    private readonly screen: ScreenControl,
  ) {
    screen.on('resize', () => {
      for (const session of ctx.sessions.all()) {
        if (session.welcomed && ctx.sessions.of(session.connection) === session) this.welcome(session);
      }
    });
  }

  welcome(session: Session): void {
    if (!session.capabilities.has(RESIZE_CAPABILITY)) return;
    const { width, height } = this.screen.size;
    session.connection.send('screen', { width, height, resizable: this.screen.resizable });
  }
}
