import { CLIPBOARD_CAPABILITY } from '../protocol/index.js';
import { inputAllowed } from './handlers.js';
import type { SignalingContext } from './signaling-context.js';
import type { SelectionChange } from '../desktop/index.js';

/**
 * Tells the peer in control, when it announced `clipboard`, that a desktop app copied something: it then
 * fetches it from GET /clipboard. PRIMARY changes with every text selection and is not announced; nor is
 * what a viewer itself just put there (`ours`).
 */
export function announceClipboardChange(ctx: SignalingContext, change: SelectionChange): void {
  if (change.selection !== 'clipboard' || change.ours || change.owner === 0) return;
  for (const session of ctx.sessions.all()) {
    if (!session.welcomed || !session.capabilities.has(CLIPBOARD_CAPABILITY) || !inputAllowed(ctx, session)) continue;
    if (ctx.sessions.of(session.connection) !== session) continue;
    session.connection.send('clipboard', { selection: 'clipboard' });
  }
}
