/**
 * What the viewer says, in words a person can act on: the connection's state, the errors the SDK
 * reports, and why this viewer may only watch. Pure: main.ts owns the page and the client.
 */
import type { StateChange, StreamgateError } from '../src/client/index.js';

/** Why this viewer's input does not reach the desktop (learned from welcome, `control` and FORBIDDEN replies). */
export type ViewOnly =
  | { why: 'unknown' }
  /** The stream has no input at all (the test pattern). */
  | { why: 'source'; source: string }
  /** This page's credentials allow watching only. */
  | { why: 'role' }
  /** The server takes input from nobody (`--input none`). */
  | { why: 'nobody' }
  /** Another peer holds control (`--input first`); `name` is its `peer_id` when the participants list gave one. */
  | { why: 'other'; controller: string; name?: string };

export interface Line {
  status: string;
  curtain: string;
}

export interface StateFacts {
  /** Whether a welcome ever arrived: a lost connection then, else a server not reached yet. */
  welcomed: boolean;
  videoSize: string;
  viewOnly: ViewOnly | null;
}

/** A session id short enough to read out: the server names controllers only by it. */
const short = (sessionId: string): string => sessionId.slice(0, 8);

export function describeViewOnly(v: ViewOnly): string {
  switch (v.why) {
    case 'unknown':
      return 'view only';
    case 'source':
      return `view only: the ${v.source} source takes no input`;
    case 'role':
      return 'view only: this link allows watching, not control';
    case 'nobody':
      return 'view only: this server takes input from nobody';
    case 'other':
      return `view only: ${v.name ?? `session ${short(v.controller)}`} has control (it passes to you when they leave or release it)`;
  }
}

export function describeState(s: StateChange, facts: StateFacts): Line {
  switch (s.state) {
    case 'idle':
    case 'connecting':
      return { status: s.attempt ? `Connecting… (attempt ${s.attempt})` : 'Connecting…', curtain: 'Connecting to the server…' };
    case 'open':
      return { status: 'Connected · waiting for video…', curtain: 'Connected. Waiting for video…' };
    case 'live':
      return { status: `Live${facts.videoSize}${facts.viewOnly ? ` · ${describeViewOnly(facts.viewOnly)}` : ''}`, curtain: 'Starting video…' };
    case 'reconnecting': {
      const secs = Math.max(0, Math.ceil(((s.retryAt ?? Date.now()) - Date.now()) / 1000));
      // After one failed retry (or before any welcome) the server is not just gone for a moment.
      const what = facts.welcomed && (s.attempt ?? 1) <= 1 ? 'Connection lost' : 'Cannot reach the server';
      const when = secs > 0 ? `reconnecting in ${secs} s` : 'reconnecting';
      const text = `${what} · ${when}${s.attempt && s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}…`;
      return { status: text, curtain: text };
    }
    case 'closed': {
      const why = s.error?.message ?? 'Disconnected.';
      return { status: why, curtain: `${why} Reload the page to connect again.` };
    }
  }
}

/**
 * An error as the status line shows it: the known failures in words that say what to do, anything
 * else as `Error: ` and the server's own words.
 */
export function describeError(e: StreamgateError, page: { hasToken: boolean }): string {
  switch (e.code) {
    case 'UNAUTHORIZED':
      if (e.details === 'exp') return 'Access expired: this link\'s token is no longer valid. Ask the server\'s owner for a new link, then open it.';
      return page.hasToken
        ? "Access refused: the token in this page's address (?token=…) is wrong. Ask the server's owner for the right link, then open it."
        : "Access refused: this server needs an access token. Open the link with ?token=… that the server's owner gave you.";
    case 'MEDIA_UNAVAILABLE':
      return e.details === 'source'
        ? 'The server has no desktop running to show. Ask its owner to start it; this page connects by itself once it is.'
        : 'The desktop is restarting; the picture comes back by itself in a few seconds.';
    case 'UNSUPPORTED_CODEC':
      return e.source === 'client' ? e.message : `The server cannot send video this browser plays: ${e.message}${e.details ? ` (${e.details})` : ''}.`;
    case 'SERVER_BUSY':
      return 'The server is full right now; this page tries again by itself.';
    default:
      return `Error: ${e.message}`;
  }
}

/** The FORBIDDEN replies that say why input is refused: they change the view-only note, they are not failures. */
export function viewOnlyOf(e: StreamgateError, source: string): ViewOnly | null {
  if (e.code !== 'FORBIDDEN' || e.source !== 'server') return null;
  const details = e.details ?? '';
  if (details === 'role=view') return { why: 'role' };
  if (details === 'source') return { why: 'source', source };
  if (details === 'input=none') return { why: 'nobody' };
  if (details === 'controller=nobody') return { why: 'unknown' };
  if (details.startsWith('controller=')) return { why: 'other', controller: details.slice('controller='.length) };
  return null;
}
