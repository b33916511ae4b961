/**
 * A media service (the test source unless told otherwise) plus headless Chromium, and bookkeeping so every viewer, page and
 * worker process is released in an after hook whatever the test did.
 */
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { GstreamerMediaService } from '../../src/media/gstreamer-media-service.js';
import type { PipelineOptions } from '../../src/media/stream-pipeline.js';
import type { MediaSettings, MediaViewer, OfferRequest } from '../../src/media/types.js';
import { BrowserPeer, launchChromium } from '../helpers/chromium.js';
import { negotiate, type Session } from './browser-session.js';

/** Small frames keep two shared cores free for Chromium's decoders. */
export const SETTINGS: MediaSettings = {
  source: { kind: 'test' },
  framerate: 30,
  bitrate: 1000,
  width: 640,
  height: 360,
  iceAddresses: ['127.0.0.1'],
  iceServers: [],
};

export interface Watcher {
  viewer: MediaViewer;
  peer: BrowserPeer;
  session: Session;
}

export class MediaFixture {
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  private constructor(
    readonly service: GstreamerMediaService,
    readonly browser: Browser,
  ) {}

  /** Serves `settings` (by default the small test pattern). */
  static async start(options: Partial<PipelineOptions> = {}, settings: MediaSettings = SETTINGS): Promise<MediaFixture> {
    const service = await GstreamerMediaService.create(settings, options);
    try {
      return new MediaFixture(service, await launchChromium());
    } catch (err) {
      await service.stop();
      throw err;
    }
  }

  /** A page watching the service's source, negotiated with `request`. */
  async watch(request: OfferRequest, sessionId = `viewer-${this.cleanups.length}`): Promise<Watcher> {
    const viewer = this.service.createViewer(sessionId);
    const peer = await BrowserPeer.open(this.browser);
    this.cleanups.push(() => viewer.close(), () => peer.close().catch(() => undefined));
    const session = await negotiate(viewer, peer, request);
    this.cleanups.push(() => session.stop());
    return { viewer, peer, session };
  }

  async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup();
    await this.browser.close().catch(() => undefined);
    await this.service.stop();
  }
}

/** Pipeline worker processes that are children of this process, with their command lines. */
export function workerProcesses(): { pid: number; args: string }[] {
  let output = '';
  try {
    output = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when there is no child at all.
  }
  return output
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null && match[2]!.includes('pipeline-worker'))
    .map((match) => ({ pid: Number(match[1]), args: match[2]! }));
}
