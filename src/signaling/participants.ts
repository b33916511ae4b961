import { PARTICIPANTS_CAPABILITY, type ServerMessageData } from '../protocol/index.js';
import { inputAllowed } from './handlers.js';
import type { Session } from './session.js';
import type { SignalingContext } from './signaling-context.js';

/** The sessions attached to a connection now, oldest first. */
function attached(ctx: SignalingContext): Session[] {
  return [...ctx.sessions.all()].filter((s) => s.welcomed && ctx.sessions.of(s.connection) === s).sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * Tells clients that announced `participants` who is connected and who holds control, whenever that
 * changes. Changes that come together (a take-over: one leaves, one joins, control moves) are sent once,
 * at the end of the event-loop turn.
 */
export class ParticipantsAnnouncer {
  private scheduled = false;

  constructor(private readonly ctx: SignalingContext) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.announce();
    });
  }

  private announce(): void {
    const sessions = attached(this.ctx);
    const controller = this.ctx.input ? this.ctx.control.controller : null;
    const data: ServerMessageData<'participants'> = {
      participants: sessions.map((s) => ({
        session_id: s.id,
        ...(s.peerId === undefined ? {} : { peer_id: s.peerId }),
        role: s.connection.principal.role,
        in_control: inputAllowed(this.ctx, s),
      })),
      controller_session_id: controller,
    };
    for (const session of sessions) if (session.capabilities.has(PARTICIPANTS_CAPABILITY)) session.connection.send('participants', data);
  }
}
