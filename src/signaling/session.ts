import { randomBytes, randomUUID } from 'node:crypto';
import { sameSecret } from '../auth/same-secret.js';
import type { PeerId } from '../protocol/index.js';
import type { MediaViewer, OfferRequest } from '../media/types.js';
import type { PeerInput } from '../input/types.js';
import { SerialQueue } from '../util/serial-queue.js';
import type { Connection } from './connection.js';

/**
 * What survives a take-over: the media peer connection, input state, and the identity a client can resume.
 * Keyed by its own id, never by the client's peer_id (many Go seed clients share "498081").
 * Its lifecycle (attach, take-over, detach, dispose) is the SessionRegistry's.
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
  /**
   * The client announced `mouse-press-release` in hello: `mouse-click` `down` and `up` are separate.
   * Without it, `down` is a whole click: the JS seed sends `action:"down"` on every click and never `up`.
   */
  pressRelease = false;
  /** What the client listed in `hello.data.capabilities`: extensions it takes (docs/protocol.md, "Extensions"). */
  capabilities: ReadonlySet<string> = new Set();
  /** Negotiation steps of one session run one at a time, in arrival order. */
  readonly negotiation = new SerialQueue();

  constructor(
    /** The connection it is attached to, or last was while it waits for a resume. */
    public connection: Connection,
    public peerId: PeerId | undefined,
  ) {}

  tokenMatches(token: string): boolean {
    return sameSecret(token, this.resumeToken);
  }

  /** Frees the media peer connection; steps still queued see `disposed` and do nothing. */
  dispose(): void {
    this.disposed = true;
    this.viewer?.close();
    this.viewer = null;
  }
}
