import { EventEmitter } from 'node:events';
import type { MediaViewer, OfferRequest, VideoCodec, ViewerEvents } from '../media/types.js';
import type { IceCandidate } from '../protocol/index.js';
import { JanusViewer } from './janus-viewer.js';
import type { JanusTarget } from './janus-target.js';

/** Where a viewer goes when its Janus went away: another Janus, the local fan-out, or nowhere yet. */
export type Relocate = (sessionId: string, gone: JanusTarget) => MediaViewer | undefined;

/**
 * The viewer signaling holds for a session handed to Janus. It starts as a JanusViewer; when that Janus goes
 * away it is replaced by what `relocate` gives (a fresh offer follows through the usual media-down/media-up
 * renegotiation), or, with nothing to move to, the peer is told MEDIA_UNAVAILABLE and gets a fresh Janus
 * offer once its Janus is back.
 */
export class OffloadedViewer extends EventEmitter<ViewerEvents> implements MediaViewer {
  private inner!: MediaViewer;

  constructor(
    readonly sessionId: string,
    first: JanusViewer,
    private readonly relocate: Relocate,
  ) {
    super();
    this.use(first);
  }

  get servedBy(): 'janus' | 'local' {
    return this.inner instanceof JanusViewer ? 'janus' : 'local';
  }

  createOffer(request: OfferRequest): Promise<{ sdp: string; codec: VideoCodec | null }> {
    return this.inner.createOffer(request);
  }

  applyAnswer(sdp: string): Promise<void> {
    return this.inner.applyAnswer(sdp);
  }

  addRemoteCandidate(candidate: IceCandidate): Promise<void> {
    return this.inner.addRemoteCandidate(candidate);
  }

  async stats(): Promise<Record<string, unknown>> {
    return { served_by: this.servedBy, ...(await this.inner.stats()) };
  }

  close(): void {
    this.inner.close();
    this.removeAllListeners();
  }

  private use(inner: MediaViewer): void {
    this.inner = inner;
    inner.on('candidate', (candidate) => this.emit('candidate', candidate));
    inner.on('state', (state) => this.emit('state', state));
    inner.on('datachannel-message', (text) => this.emit('datachannel-message', text));
    inner.on('media-up', () => this.emit('media-up'));
    inner.on('media-down', (reason) => {
      if (inner instanceof JanusViewer) this.janusGone(inner, reason);
      else this.emit('media-down', reason);
    });
  }

  private janusGone(viewer: JanusViewer, reason: string): void {
    const next = this.relocate(this.sessionId, viewer.target);
    if (!next) {
      this.emit('media-down', `${reason}; a fresh offer follows when it is back`);
      return;
    }
    viewer.removeAllListeners();
    viewer.close();
    this.use(next);
    const where = next instanceof JanusViewer ? `the Janus gateway ${next.target.url}` : "this server's own fan-out";
    this.emit('media-down', `${reason}; moving to ${where}`);
    this.emit('media-up');
  }
}
