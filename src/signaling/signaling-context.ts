import type { Config } from '../config/options.js';
import type { MediaService, MediaViewer } from '../media/types.js';
import type { InputInjector } from '../input/types.js';
import type { Logger } from '../log.js';
import type { ShareLink } from '../auth/share-token.js';
import type { InputControl } from './input-control.js';
import type { SessionRegistry } from './session-registry.js';
import type { Traffic } from './traffic.js';
import type { SystemSampler } from './system-stats.js';
import type { Connection } from './connection.js';
import type { Session } from './session.js';
import type { LimitFunction } from 'p-limit';

/** The virtual desktop's screen, as far as signaling uses it. */
export interface ScreenControl {
  readonly size: { width: number; height: number };
  /** `--resize controller`: the controller's `resize-screen` is applied. */
  readonly resizable: boolean;
  /** Resizes the screen (bounded and made even); resolves to the size it became. */
  resize(width: number, height: number): Promise<{ width: number; height: number }>;
  on(event: 'resize', listener: (size: { width: number; height: number }) => void): unknown;
}

/** Everything message handlers need, built once by the server. */
export interface SignalingContext {
  config: Config;
  media: MediaService | null;
  input: InputInjector | null;
  control: InputControl;
  sessions: SessionRegistry;
  connections: ReadonlySet<Connection>;
  traffic: Traffic;
  system: SystemSampler;
  /** Bounds offers being created at once (`--max-negotiations`); the rest wait their turn. */
  negotiations: LimitFunction;
  log: Logger;
  /** Source-specific facts told to clients in welcome. */
  sourceName: string;
  /** Called after each welcome is sent: extensions that send a client their current state (the cursor). */
  welcomeHooks: ((session: Session) => void)[];
  /** Called when a session's media viewer is made: extensions that need it (the cursor's pointer policy). */
  viewerHooks: ((session: Session, viewer: MediaViewer) => void)[];
  /** Makes this desktop's view-only share links (--jwt-secret, or one made at start); null when auth is off or JWTs use a public key. */
  shareLink: (() => Promise<ShareLink>) | null;
  /** The desktop's screen; null for sources without one. */
  screen: ScreenControl | null;
  /** Who is connected changed: clients that announced `participants` are told. */
  participantsChanged: () => void;
}

/** What the server is built from; the rest of the context it makes itself. */
export type SignalingDeps = Pick<SignalingContext, 'config' | 'media' | 'input' | 'log' | 'sourceName'> & Partial<Pick<SignalingContext, 'shareLink' | 'screen'>>;
