/**
 * Reads the painter's clock (lib/pattern.ts) from every frame a <video> presents, for pages that watch
 * the stream some other way than the agent (the network lab's viewer, test/helpers/netlab/page/watch.ts):
 * bundled on its own and exposed as `window.clockReader`. Times are wall-clock ms, as the agent's.
 */
import { CLOCK, readClock } from '../lib/pattern.js';
import { wall } from './wall-clock.js';

/** One presented frame: the clock it shows (low 32 bits, null when unreadable) and when it was shown. */
export interface ClockFrame {
  painted: number | null;
  presented: number;
  /** Its last packet received (rVFC receiveTime), when the browser reports it. */
  received: number | null;
}

declare global {
  interface Window {
    clockReader: ClockReader;
  }
}

class ClockReader {
  private frames: ClockFrame[] = [];
  private video: HTMLVideoElement | null = null;

  /** Records every frame the page's (first) <video> presents from now on; frames may not have started yet. */
  start(): void {
    const video = document.querySelector('video');
    if (!video) throw new Error('clockReader: the page has no <video>');
    this.video = video;
    const width = CLOCK.bits * CLOCK.cell;
    const height = 2 * CLOCK.cell;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (this.video !== video) return;
      ctx.drawImage(video, CLOCK.x, CLOCK.y, width, height, 0, 0, width, height);
      this.frames.push({
        painted: readClock(ctx.getImageData(0, 0, width, height).data, width),
        presented: wall(meta.presentationTime),
        received: meta.receiveTime !== undefined ? wall(meta.receiveTime) : null,
      });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** The frames recorded so far (and forgets them: a long run is read in pieces). */
  take(): ClockFrame[] {
    return this.frames.splice(0);
  }

  stop(): void {
    this.video = null;
  }
}

window.clockReader = new ClockReader();
